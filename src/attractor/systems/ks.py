"""Kuramoto–Sivashinsky equation on a periodic domain, integrated by ETDRK4.

    u_t + u u_x + u_xx + u_xxxx = 0,      x ∈ [0, L) periodic,

discretised on ``N`` equispaced points and stepped in Fourier space with the fourth-order
exponential time-differencing Runge–Kutta scheme of Cox & Matthews (2002) in the contour-integral
form of Kassam & Trefethen (2005, SIAM J. Sci. Comput. 26:1214–1233, ``kursiv.m``): linear part
``L(k) = k² − k⁴``, nonlinear part ``N(v) = −½ i k FFT(u²)``, coefficients ``Q, f1, f2, f3`` as
means over ``M = 16`` points ``r_j = exp(iπ(j − ½)/M)`` of the upper half circle (the real part
of the full-circle mean, by symmetry). The derivative uses ``k = 0`` at the Nyquist mode as in
``kursiv.m``; optional 2/3-rule dealiasing zeroes modes above N/3 in the nonlinear term.

The state is the physical field ``u`` (length ``N``). The spatial mean (mode 0) is conserved
exactly: ``L(0) = 0`` and the nonlinear term has no mode-0 part. ``L`` is a parameter (so
sweeps over domain length do not recompile); ``N`` and the dealiasing switch are structural.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from attractor.errors import InputError
from attractor.systems.base import Invariants, System

Array = jax.Array
Params = Mapping[str, Array]

CONTOUR_POINTS = 16
MAX_STEP = 0.25  # largest internal ETDRK4 step (Kassam & Trefethen's h = 1/4)

#: reference largest Lyapunov exponents by domain length
_KS_LYAPUNOV: dict[float, tuple[float, str]] = {
    22.0: (0.043, "Edson, Bunder, Mattner & Roberts (2019), ANZIAM J. 61:270-285 (L=22)"),
    100.0: (0.094, "Vlachas et al. (2020), Neural Networks 126:191-217 (L=100, N=512, dt=0.25)"),
}


def etdrk4_coefficients(
    h: Array | float, length: Array | float, n: int, m: int = CONTOUR_POINTS
) -> tuple[Array, ...]:
    """``(E, E2, Q, f1, f2, f3, g)`` of ETDRK4 for step ``h`` on ``rfft`` modes of ``n`` points.

    Contour means over ``m`` points (Kassam & Trefethen 2005, §3); ``g = −½ i k`` with ``k = 0``
    at the Nyquist mode.
    """
    modes = jnp.arange(n // 2 + 1)
    k = 2.0 * jnp.pi / length * modes
    lin = k**2 - k**4
    r = jnp.exp(1j * jnp.pi * (jnp.arange(1, m + 1) - 0.5) / m)
    lr = h * lin[:, None] + r[None, :]
    exp_lr = jnp.exp(lr)
    q = h * jnp.real(jnp.mean((jnp.exp(lr / 2.0) - 1.0) / lr, axis=1))
    f1 = h * jnp.real(jnp.mean((-4.0 - lr + exp_lr * (4.0 - 3.0 * lr + lr**2)) / lr**3, axis=1))
    f2 = h * jnp.real(jnp.mean((2.0 + lr + exp_lr * (-2.0 + lr)) / lr**3, axis=1))
    f3 = h * jnp.real(jnp.mean((-4.0 - 3.0 * lr - lr**2 + exp_lr * (4.0 - lr)) / lr**3, axis=1))
    k_deriv = jnp.where(modes == n // 2, 0.0, k) if n % 2 == 0 else k
    g = -0.5j * k_deriv
    return jnp.exp(h * lin), jnp.exp(h * lin / 2.0), q, f1, f2, f3, g


@functools.lru_cache(maxsize=32)
def ks_step_factory(n: int, dealias: bool = False) -> Callable[[float, Params], Callable]:
    """``step_factory(dt, p)`` for the KS equation on ``n`` points: ``u -> u(t + dt)``.

    ``dt`` is split into equal ETDRK4 steps no longer than :data:`MAX_STEP`.
    """
    keep = (np.arange(n // 2 + 1) <= n // 3) if dealias else np.ones(n // 2 + 1, dtype=bool)

    def factory(dt: float, p: Params) -> Callable[[Array], Array]:
        n_sub = max(1, int(np.ceil(float(dt) / MAX_STEP - 1e-9)))
        e, e2, q, f1, f2, f3, g = etdrk4_coefficients(float(dt) / n_sub, p["L"], n)
        g = g * jnp.asarray(keep)

        def nonlin(v: Array) -> Array:
            u = jnp.fft.irfft(v, n=n)
            return g * jnp.fft.rfft(u * u)

        def etdrk4(v: Array, _: None = None) -> tuple[Array, None]:
            nv = nonlin(v)
            a = e2 * v + q * nv
            na = nonlin(a)
            b = e2 * v + q * na
            nb = nonlin(b)
            c = e2 * a + q * (2.0 * nb - nv)
            nc = nonlin(c)
            return e * v + nv * f1 + 2.0 * (na + nb) * f2 + nc * f3, None

        def step(u: Array) -> Array:
            v = jnp.fft.rfft(u)
            v, _ = jax.lax.scan(etdrk4, v, None, length=n_sub)
            return jnp.fft.irfft(v, n=n).astype(u.dtype)

        return step

    return factory


def default_grid(length: float) -> int:
    """Grid size for domain length ``L``: 64 up to L = 22, else the power of 2 ≥ 3L (L=100: 512)."""
    if length <= 22.0:
        return 64
    return int(2 ** np.ceil(np.log2(3.0 * length)))


@functools.lru_cache(maxsize=32)
def _ks(length: float, n: int, dealias: bool) -> System:
    x = np.arange(n) * length / n
    phase = 2.0 * np.pi * x / length
    ic = sum(0.4 / m * np.cos(m * phase + 1.3 * m) for m in range(1, 5))
    lam = _KS_LYAPUNOV.get(length)
    reference = Invariants(lyapunov_max=lam[0], source=lam[1]) if lam else Invariants()
    return System(
        name="kuramoto_sivashinsky",
        kind="pde",
        dim=n,
        rhs=None,
        params={"L": length},
        initial_condition=tuple(float(v) for v in ic),
        dt=0.25,
        reference=reference,
        citation="Kuramoto, Y. & Tsuzuki, T. (1976). Prog. Theor. Phys. 55:356-369; "
        "Sivashinsky, G. I. (1977). Acta Astronaut. 4:1177-1206. ETDRK4: Kassam, A.-K. & "
        "Trefethen, L. N. (2005). SIAM J. Sci. Comput. 26:1214-1233.",
        description=f"Kuramoto-Sivashinsky on [0, L), L={length:g}, N={n} grid points"
        f"{', 2/3 dealiased' if dealias else ''} (structural: L, N, dealias)",
        step_factory=ks_step_factory(n, dealias),
        transient=500.0,
    )


def kuramoto_sivashinsky(L: float = 22.0, N: int | None = None, dealias: bool = False) -> System:
    """The KS equation on a domain of length ``L`` with ``N`` grid points (default: see
    :func:`default_grid`). ``L`` also stays a parameter for per-trajectory overrides."""
    if not float(L) > 0:
        raise InputError(f"L (domain length) must be positive, got {L!r}")
    n = default_grid(float(L)) if N is None else N
    if isinstance(n, bool) or not float(n) == int(n) or int(n) < 8 or int(n) % 2:
        raise InputError(f"N (grid size) must be an even integer >= 8, got {N!r}")
    return _ks(float(L), int(n), bool(dealias))


FACTORIES: tuple[tuple[str, Callable[..., System], tuple[str, ...]], ...] = (
    ("kuramoto_sivashinsky", kuramoto_sivashinsky, ("L", "N", "dealias")),
)

__all__ = [
    "CONTOUR_POINTS",
    "FACTORIES",
    "default_grid",
    "etdrk4_coefficients",
    "ks_step_factory",
    "kuramoto_sivashinsky",
]
