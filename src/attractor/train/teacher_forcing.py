"""Teacher-forcing objectives: GTF, aGTF, STF and one-step teacher forcing.

The loss is the mean squared error of the forced one-step predictions on windows of
``seq_len + 1`` rows (:mod:`attractor.train.loss`), plus optional L2 penalties. How the forcing
weight ``alpha_t`` of every step is set is the scheme of :mod:`attractor.train.forcing`:

- ``gtf``: a constant ``alpha`` (Hess et al., ICML 2023);
- ``agtf``: ``alpha`` re-estimated every few updates from the model's Jacobians along the data
  (same paper, Algorithm 1); the objective's state is ``alpha``, checkpointed with the model;
- ``stf``: full forcing every ``tau`` steps, free running in between (Mikhaeil et al.,
  NeurIPS 2022); ``tau`` is estimated from the data when not given;
- ``onestep``: ``alpha = 1`` at every step, i.e. classical teacher forcing (Williams & Zipser 1989).

Every model with the ``teacher_forcing`` capability can be trained this way; aGTF also needs the
``jacobian`` capability.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from attractor.data.tau import estimate_forcing_interval
from attractor.errors import InputError
from attractor.models.capabilities import HasJacobian, Regularized, TeacherForceable, require
from attractor.train.forcing import ForcingConfig, forcing_weights, update_alpha
from attractor.train.objective import GradientObjective, register_objective
from attractor.train.rollout import AutoRollout, Rollout

log = logging.getLogger(__name__)

#: ``seq_len="auto"``: the window spans this many oscillation periods of the data
#: (:func:`attractor.data.timescales.timescales`); Lorenz-63 at dt 0.01 (81 samples) gives 202,
#: the GTF paper's 200.
SEQ_LEN_PERIODS = 2.5
#: ``seq_len="auto"`` without an oscillation in the data (the GTF paper's setting).
DEFAULT_SEQ_LEN = 200
#: An automatic window outside this range is refused (set ``--seq-len`` instead). The lower bound
#: is 2.5 periods of 4 samples: an autocorrelation resolves an oscillation down to a period of 2
#: samples (the Nyquist limit), but one read below 4 samples is more likely aliasing than signal.
#: Faster genuine oscillations exist at common samplings: dysts' Torus rotates every 6 samples and
#: AtmosphericRegime's second and third coordinates every 4 at its 100 points per dominant period.
SEQ_LEN_RANGE = (10, 2000)
AUTO = "auto"


def automatic_seq_len(series: Sequence[np.ndarray]) -> tuple[int, str]:
    """``seq_len`` for ``seq_len="auto"`` from the longest series, and how it was derived.

    Raises:
        InputError: the derived window is outside :data:`SEQ_LEN_RANGE` or longer than the data
            allow; the message names ``--seq-len``, which overrides it.
    """
    from attractor.data.timescales import timescales

    longest = np.asarray(max(series, key=len))
    period = timescales(longest).period
    if period is None:
        return DEFAULT_SEQ_LEN, "no oscillation in the data's autocorrelation: the default"
    n = int(round(SEQ_LEN_PERIODS * period))
    how = f"{SEQ_LEN_PERIODS:g} x the data's oscillation period of {period:g} samples"
    lo, hi = SEQ_LEN_RANGE
    if not lo <= n <= hi:
        raise InputError(f"the automatic --seq-len {n} ({how}) is outside [{lo}, {hi}]; "
                         "set --seq-len N")
    if n + 1 > len(longest):
        raise InputError(f"the automatic --seq-len {n} ({how}) needs {n + 1} rows, the longest "
                         f"training series has {len(longest)}; set --seq-len N")
    return n, how


@dataclasses.dataclass(frozen=True)
class TeacherForcing(GradientObjective):
    """Teacher-forced one-step loss (see the module docstring).

    Attributes:
        forcing: the scheme and its settings.
        seq_len: ``T~``, forced steps per training window (paper: 200).
        rollout: how the forced sequence is differentiated (default: adjoint for small models).
        lambda_latent: weight of the model's L2 penalty on its latent parameters.
        lambda_obs: weight of the observation-model penalty.
    """

    forcing: ForcingConfig = ForcingConfig()
    seq_len: int | str = DEFAULT_SEQ_LEN
    rollout: Rollout = AutoRollout()
    lambda_latent: float = 0.0
    lambda_obs: float = 0.0
    #: how :meth:`prepare` derived settings from the data (name -> explanation)
    notes: tuple[tuple[str, str], ...] = dataclasses.field(default=(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.forcing.method)
        n = self.seq_len
        if n != AUTO and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise InputError(f"seq_len must be a positive integer or 'auto', got {n!r}")
        if not (self.lambda_latent >= 0 and self.lambda_obs >= 0):
            raise InputError("regularisation weights must be >= 0")

    @property
    def window(self) -> int:
        if self.seq_len == AUTO:
            raise InputError("seq_len 'auto' is set from the data by prepare() first")
        return self.seq_len + 1

    def check(self, model: Any) -> None:
        require(model, TeacherForceable, by=f"{self.name} training")
        if self.forcing.method == "agtf":
            require(model, HasJacobian, by="adaptive GTF (agtf)")
        if self.lambda_latent:
            require(model, Regularized, by="lambda_latent")
        if getattr(model.config, "input_dim", 0):
            raise InputError(
                f"{self.name} training of driven models (input_dim > 0) is not supported yet"
            )
        self.rollout.check(model)

    def prepare(self, series: Sequence[np.ndarray]) -> TeacherForcing:
        """Fill in the settings left to the data: an automatic STF interval (Mikhaeil et al.
        2022 heuristic) and ``seq_len="auto"`` (:func:`automatic_seq_len`)."""
        out, notes = self, dict(self.notes)
        if self.forcing.method == "stf" and self.forcing.tau is None:
            tau = int(estimate_forcing_interval(np.asarray(max(series, key=len))))
            out = dataclasses.replace(out, forcing=dataclasses.replace(self.forcing, tau=tau))
            notes["tau"] = f"{tau} (the data's autocorrelation / mutual-information time)"
        if self.seq_len == AUTO:
            n, how = automatic_seq_len(series)
            out = dataclasses.replace(out, seq_len=n)
            notes["seq_len"] = f"{n} ({how})"
        for name, note in notes.items():
            log.info("derived from the data: %s = %s", name, note)
        return dataclasses.replace(out, notes=tuple(notes.items()))

    def derived(self) -> dict[str, str]:
        return dict(self.notes)

    def init_state(self) -> jax.Array:
        return jnp.asarray(self.forcing.initial_alpha(), dtype=jnp.float32)

    def loss(self, model: Any, batch: jax.Array, alpha: jax.Array) -> jax.Array:
        return self.loss_and_stats(model, batch, alpha)[0]

    def loss_and_stats(
        self, model: Any, batch: jax.Array, alpha: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        alphas = forcing_weights(self.forcing, alpha, self.seq_len)
        predictions, stats = self.rollout.predictions_and_stats(model, batch, alphas)
        loss = jnp.mean((predictions - batch[:, 1:]) ** 2)
        if self.lambda_latent:
            loss = loss + self.lambda_latent * model.latent_regularization()
        if self.lambda_obs:
            loss = loss + self.lambda_obs * model.regularization()
        return loss, stats

    def update_state(
        self, alpha: jax.Array, model: Any, batch: jax.Array, step: jax.Array
    ) -> jax.Array:
        if self.forcing.method != "agtf":
            return alpha
        due = step % self.forcing.update_every == 0
        return jax.lax.cond(
            due, lambda a: update_alpha(self.forcing, a, model, batch), lambda a: a, alpha
        )

    def log_values(self, alpha: jax.Array) -> dict[str, float]:
        return {"alpha": float(alpha)}

    def describe(self) -> dict[str, Any]:
        return {
            "objective": self.name,
            **dataclasses.asdict(self.forcing),
            "seq_len": self.seq_len,
            "rollout": self.rollout.describe(),
            "lambda_latent": self.lambda_latent,
            "lambda_obs": self.lambda_obs,
            **({"derived": dict(self.notes)} if self.notes else {}),
        }


@dataclasses.dataclass(frozen=True)
class OneStep(TeacherForcing):
    """Classical teacher forcing: every step is forced fully (``alpha = 1``)."""

    forcing: ForcingConfig = ForcingConfig(method="gtf", alpha=1.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.forcing != ForcingConfig(method="gtf", alpha=1.0):
            raise InputError("onestep forcing is fixed (alpha = 1 at every step)")
        object.__setattr__(self, "name", "onestep")


_SCHEME_ONLY = {"tau": ("stf",), "update_every": ("agtf",), "gamma": ("agtf",),
                "estimator": ("agtf",), "spectral_norm": ("agtf",)}


def _factory(method: str):
    def make(
        *,
        seq_len: int | str = DEFAULT_SEQ_LEN,
        rollout: Rollout | None = None,
        lambda_latent: float = 0.0,
        lambda_obs: float = 0.0,
        **scheme: Any,
    ) -> TeacherForcing:
        for key in scheme:
            allowed = _SCHEME_ONLY.get(key, ("gtf", "agtf", "stf"))
            if method not in allowed:
                raise InputError(f"{key} applies to {'/'.join(allowed)} only, not {method}")
        common = {"seq_len": seq_len, "rollout": rollout or AutoRollout(),
                  "lambda_latent": lambda_latent, "lambda_obs": lambda_obs}
        if method == "onestep":
            if scheme:
                raise InputError(f"onestep takes no {', '.join(scheme)}")
            return OneStep(**common)
        scheme = {k: v for k, v in scheme.items() if v is not None}
        return TeacherForcing(forcing=ForcingConfig(method=method, **scheme), **common)

    return make


for _method in ("gtf", "agtf", "stf", "onestep"):
    register_objective(_method, _factory(_method))
