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
    seq_len: int = 200
    rollout: Rollout = AutoRollout()
    lambda_latent: float = 0.0
    lambda_obs: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.forcing.method)
        if isinstance(self.seq_len, bool) or not isinstance(self.seq_len, int) or self.seq_len < 1:
            raise InputError(f"seq_len must be a positive integer, got {self.seq_len!r}")
        if not (self.lambda_latent >= 0 and self.lambda_obs >= 0):
            raise InputError("regularisation weights must be >= 0")

    @property
    def window(self) -> int:
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
        """Fill in an automatic STF interval from the data (Mikhaeil et al. 2022 heuristic)."""
        if self.forcing.method == "stf" and self.forcing.tau is None:
            longest = max(series, key=len)
            tau = int(estimate_forcing_interval(np.asarray(longest)))
            log.info("estimated STF forcing interval tau = %d steps", tau)
            return dataclasses.replace(self, forcing=dataclasses.replace(self.forcing, tau=tau))
        return self

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
        seq_len: int = 200,
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
