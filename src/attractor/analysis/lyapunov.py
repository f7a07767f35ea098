"""Lyapunov spectrum of a trained model against the system its data came from.

The model's spectrum is the QR (Benettin) method of :mod:`attractor.systems.lyapunov` applied to
its closed-loop step on the flattened state (:mod:`attractor.analysis.flat`), in float64, per unit
of time through the data's sampling step ``dt``; the system's is
:func:`attractor.systems.lyapunov.lyapunov_spectrum`. Both give the Kaplan–Yorke dimension
(Kaplan & Yorke, LNM 730:204, 1979). A model's latent space can be larger than the system's state:
only the leading ``n`` exponents are compared, ``n`` the smaller dimension (the model's extra
exponents should be strongly negative; they change its Kaplan–Yorke dimension only if not).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from attractor._precision import float64
from attractor.analysis.flat import flat_dynamics
from attractor.systems.lyapunov import (
    LyapunovResult,
    lyapunov_spectrum,
    lyapunov_spectrum_from_step,
)


def model_lyapunov_spectrum(
    model: Any,
    context: Any,
    *,
    dt: float = 1.0,
    n_exponents: int | None = None,
    n_steps: int = 100_000,
    transient: int = 10_000,
    qr_every: int = 10,
    seed: int = 0,
) -> LyapunovResult:
    """The ``n_exponents`` (default: all) largest Lyapunov exponents of ``model``'s closed loop,
    per unit of time, from the state after warming up on ``context`` ``(T_ctx, N)``
    (standardised units). The first ``transient`` steps align the tangent frame."""
    with float64():
        state = model.init_state(jnp.asarray(context, jnp.float64).reshape(-1, model.obs_dim))
        dyn = flat_dynamics(model, state)
        z0 = dyn.ravel_many(jax.tree_util.tree_map(lambda s: s[None], state))[0]
    return lyapunov_spectrum_from_step(
        dyn.step,
        np.asarray(z0),
        n_exponents=n_exponents,
        dt=float(dt),
        n_steps=int(n_steps),
        transient_steps=int(transient),
        qr_every=int(qr_every),
        key=jax.random.PRNGKey(seed),
        name=getattr(getattr(model, "config", None), "name", None),
    )


@dataclasses.dataclass
class SpectrumComparison:
    """A model's Lyapunov spectrum next to the system's (``system`` may be ``None``)."""

    model: LyapunovResult
    system: LyapunovResult | None

    def rows(self) -> list[dict[str, Any]]:
        """One row per exponent index: model, system and their difference."""
        n = len(self.model.exponents)
        if self.system is not None:
            n = max(n, len(self.system.exponents))
        out = []
        for i in range(n):
            lm = float(self.model.exponents[i]) if i < len(self.model.exponents) else None
            ls = None
            if self.system is not None and i < len(self.system.exponents):
                ls = float(self.system.exponents[i])
            diff = None if lm is None or ls is None else lm - ls
            out.append({"index": i + 1, "model": lm, "system": ls, "difference": diff})
        return out

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "model": self.model.to_dict(),
            "system": None if self.system is None else self.system.to_dict(),
            "table": self.rows(),
        }
        if self.system is not None:
            n = min(len(self.model.exponents), len(self.system.exponents))
            lm, ls = self.model.exponents[:n], self.system.exponents[:n]
            doc["comparison"] = {
                "n_compared": n,
                "lambda1_relative_error": float(abs(lm[0] - ls[0]) / abs(ls[0])) if ls[0] else None,
                "sum_relative_error": float(abs(lm.sum() - ls.sum()) / abs(ls.sum()))
                if ls.sum()
                else None,
                "kaplan_yorke_model": self.model.kaplan_yorke,
                "kaplan_yorke_system": self.system.kaplan_yorke,
            }
        return doc


def compare_lyapunov(
    model: Any,
    context: Any,
    *,
    system: str | None = None,
    dt: float = 1.0,
    n_steps: int = 100_000,
    transient: int = 10_000,
    seed: int = 0,
) -> SpectrumComparison:
    """The model's spectrum and, with a catalogue ``system`` name, the system's (computed here,
    with its own defaults and the same ``n_steps``); the model's leading exponents are as many
    as its state has, or as the system's dimension when that is smaller."""
    sys_result = None
    n_exp = None
    if system is not None:
        sys_result = lyapunov_spectrum(system, n_steps=n_steps, key=jax.random.PRNGKey(seed))
        n_exp = len(sys_result.exponents)
    with float64():
        state = model.init_state(jnp.asarray(context, jnp.float64).reshape(-1, model.obs_dim))
        dim = int(sum(np.size(x) for x in jax.tree_util.tree_leaves(state)))
    n_exp = dim if n_exp is None else min(n_exp, dim)
    result = model_lyapunov_spectrum(model, context, dt=dt, n_exponents=n_exp, n_steps=n_steps,
                                     transient=transient, seed=seed)
    return SpectrumComparison(result, sys_result)


__all__ = ["SpectrumComparison", "compare_lyapunov", "model_lyapunov_spectrum"]
