"""The time-parallel rollout: the teacher-forced sequence solved by Newton's method over time.

The forced rollout of :mod:`attractor.train.loss` is the recurrence of the forced states

    z~_0 = encode(x_0),     z~_t = force(F(z~_{t-1}), x_t, alpha_t),     t = 1..T-1,

followed by the predictions ``O(F(z~_{t-1}))``, ``t = 1..T``, which are independent of each other
once the ``z~`` are known. This strategy solves the recurrence with
:func:`attractor.parallel.newton_solve` (``O(log T)`` sequential depth per Newton iteration) and
evaluates the predictions in one batched call. Its Jacobian is
``J_t = D_t dF/dz (z~_{t-1})`` with ``D_t`` the (diagonal) Jacobian of the forcing, ``1 - alpha_t``
on the forced units: GTF contracts the recurrence, and once the forced Lyapunov exponent
``lambda + ln(1 - alpha)`` is negative Newton converges in a few iterations even when the model
is chaotic (reference: ``shared/reference/parallel.md`` §5). Too little forcing and the solver
falls back to the sequential scan; the training record says so.

Values and gradients equal those of :class:`~attractor.train.rollout.Scan` (the tests check it in
float64); the reverse pass is the solver's adjoint scan. The training loop logs, per epoch, the
mean Newton iterations per update, the updates that fell back and the forced exponent
(``forced_lambda``: the finite-time largest Lyapunov exponent of the forced recurrence along the
first window of each batch).

The Jacobians come from the model (:class:`~attractor.models.capabilities.HasJacobian`): dense for
the PLRNN family (analytic), diagonal for ParaGRU (:mod:`attractor.models.paragru`), 2 x 2 blocks
for ParaLSTM. ``structure="diagonal"`` keeps only the diagonal of any model's Jacobian
(quasi-Newton: linear convergence, inexact gradients unless it converges) and ``"dense"`` forces
full matrices.

Forcing must act elementwise (``force`` interpolates each unit towards data), as it does for every
teacher-forceable model here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.models.capabilities import HasJacobian, TeacherForceable, require
from attractor.parallel import Dense, Diagonal, NewtonConfig, newton_solve
from attractor.train.rollout import Rollout

STRUCTURES = ("model", "dense", "diagonal")
INITS = ("teacher", "data", "zeros")


@dataclasses.dataclass(frozen=True)
class TimeParallel(Rollout):
    """Newton over the whole forced sequence (see the module docstring).

    Attributes:
        structure: ``model`` (the model's own Jacobian storage), ``dense`` or ``diagonal``.
        init: initial guess of the forced states: ``teacher`` (one step from each data-inferred
            state, ``force(F(encode(x_{t-1})), x_t, alpha_t)``), ``data`` (``encode(x_t)``) or
            ``zeros``.
        max_iterations, tol, damping, scan: Newton settings
            (:class:`attractor.parallel.NewtonConfig`).
    """

    structure: str = "model"
    init: str = "teacher"
    max_iterations: int = 10
    tol: float | None = None
    damping: float = 1.0
    scan: str = "auto"

    def __post_init__(self) -> None:
        if self.structure not in STRUCTURES:
            raise InputError(f"time-parallel structure must be one of {', '.join(STRUCTURES)}, "
                             f"got {self.structure!r}")
        if self.init not in INITS:
            raise InputError(f"time-parallel init must be one of {', '.join(INITS)}, "
                             f"got {self.init!r}")
        self.newton_config()  # validates the Newton settings

    def newton_config(self) -> NewtonConfig:
        return NewtonConfig(max_iterations=self.max_iterations, tol=self.tol, damping=self.damping,
                            scan=self.scan)

    def check(self, model: Any) -> None:
        require(model, TeacherForceable, by="the time-parallel rollout (--time-parallel)")
        require(model, HasJacobian, by="the time-parallel rollout (--time-parallel)")

    def predictions(self, model: Any, batch: jax.Array, alphas: jax.Array) -> jax.Array:
        return self.predictions_and_stats(model, batch, alphas)[0]

    def predictions_and_stats(
        self, model: Any, batch: jax.Array, alphas: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        xs = jnp.swapaxes(batch, 0, 1)  # (T+1, B, N)
        n_steps, n_batch = alphas.shape[0], batch.shape[0]
        z0 = model.encode(xs[0])  # (B, M)
        params, static = eqx.partition(model, eqx.is_inexact_array)
        structure, jacobian = self._jacobian(model)

        def forced_step(p: Any, z: jax.Array, inputs: tuple) -> jax.Array:
            m = eqx.combine(p, static)
            x_t, alpha_t = inputs
            return m.force(m.step(z), x_t, alpha_t)

        def forced_jacobian(p: Any, z: jax.Array, inputs: tuple) -> Any:
            m = eqx.combine(p, static)
            x_t, alpha_t = inputs
            z_next = m.step(z)
            _, d_force = jax.jvp(lambda y: m.force(y, x_t, alpha_t), (z_next,),
                                 (jnp.ones_like(z_next),))
            return structure.scale_rows(jacobian(m, z), d_force)

        inputs = (xs[1:n_steps], jnp.broadcast_to(alphas[: n_steps - 1, None],
                                                   (n_steps - 1, n_batch)))
        if n_steps > 1:
            init = self._initial_guess(model, xs, inputs, z0)
            states, info = newton_solve(
                forced_step, params, z0, inputs, structure=structure, jacobian=forced_jacobian,
                init=init, config=self.newton_config(), warn=False,
            )
            z_in = jnp.concatenate([z0[None], states])
            stats = {
                "newton_iterations": info.iterations.astype(jnp.float32),
                "newton_fallback": info.fell_back.astype(jnp.float32),
                "forced_lambda": info.growth.astype(jnp.float32),
            }
        else:
            z_in, stats = z0[None], {}
        z_out = jax.vmap(jax.vmap(model.step))(z_in)  # (T, B, M)
        return jnp.swapaxes(model.observe(z_out), 0, 1), stats

    def _jacobian(self, model: Any) -> tuple[Any, Any]:
        """The structure and ``jacobian(model, z)`` the solver scans."""
        if self.structure == "dense":
            return Dense(), lambda m, z: m.jacobian(z)
        if self.structure == "diagonal":
            structure = Diagonal()
            if isinstance(model.jacobian_structure(), Diagonal):
                return structure, lambda m, z: m.structured_jacobian(z)
            return structure, lambda m, z: structure.from_dense(m.jacobian(z))
        return model.jacobian_structure(), lambda m, z: m.structured_jacobian(z)

    def _initial_guess(self, model: Any, xs: jax.Array, inputs: tuple, z0: jax.Array):
        encoded = model.encode(xs[1 : inputs[0].shape[0] + 1])  # encode(x_t), (T-1, B, M)
        if self.init == "data":
            return encoded
        if self.init == "zeros":
            return jnp.zeros_like(encoded)
        previous = jnp.concatenate([z0[None], encoded[:-1]])
        x_t, alpha_t = inputs
        step = jax.vmap(jax.vmap(model.step))(previous)
        return jax.vmap(jax.vmap(model.force))(step, x_t, alpha_t)
