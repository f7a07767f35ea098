"""Lorenz-type flows: quadratic three- and four-variable models of convection, dynamos and wings.

Right-hand sides follow :mod:`attractor.systems.base`: ``rhs(x, t, p) -> dx/dt`` for one state.
Parameters, initial conditions (on the attractor), periods and reference invariants of the systems
that dysts also has come from dysts 0.96 (see :mod:`attractor.systems.flows_metadata`); Lorenz-63
uses the textbook values below. Time is in the equations' own (dimensionless) units.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from attractor.systems.base import Invariants, System
from attractor.systems.flows_metadata import from_dysts

Array = jax.Array
Params = Mapping[str, Array]


def lorenz63_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = σ(y − x), y' = x(ρ − z) − y, z' = xy − βz (Lorenz 1963)."""
    X, y, z = x
    return jnp.stack([p["sigma"] * (y - X), X * (p["rho"] - z) - y, X * y - p["beta"] * z])


LORENZ63 = System(
    name="lorenz63",
    kind="flow",
    dim=3,
    rhs=lorenz63_rhs,
    params={"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0},
    initial_condition=(-9.7869288, -15.03852, 20.533978),
    dt=0.01,
    period=0.76,
    reference=Invariants(
        lyapunov_max=0.9056,
        lyapunov_spectrum=(0.9056, 0.0, -14.5723),
        kaplan_yorke_dim=2.0621,
        correlation_dim=2.05,
        source="Sprott (2003), Chaos and Time-Series Analysis, App. A (exponents, D_KY); "
        "Grassberger & Procaccia (1983), Physica D 9:189 (correlation dimension)",
    ),
    citation="Lorenz, E. N. (1963). Deterministic nonperiodic flow. J. Atmos. Sci. 20:130-141.",
    description="Convection roll truncation; the butterfly attractor. dt=0.01 is the sampling "
    "step of the DSR literature; period = mean time between lobe crossings.",
)


def lorenz84_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = −y² − z² − a x + a f, y' = xy − bxz − y + g, z' = bxy + xz − z (Lorenz 1984)."""
    X, y, z = x
    a, b, f, g = p["a"], p["b"], p["f"], p["g"]
    return jnp.stack(
        [-(y**2) - z**2 - a * X + a * f, X * y - b * X * z - y + g, b * X * y + X * z - z]
    )


_LORENZ84_CITE = (
    "Lorenz, E. N. (1984). Irregularity: a fundamental property of the atmosphere. "
    "Tellus A 36:98-110."
)
LORENZ84 = from_dysts(
    "lorenz84", "Lorenz84", lorenz84_rhs, citation=_LORENZ84_CITE,
    description="Low-order general circulation model (westerly wind x, eddies y, z)",
)  # fmt: skip
HADLEY = from_dysts(
    "hadley", "Hadley", lorenz84_rhs, citation=_LORENZ84_CITE,
    description="Lorenz-84 Hadley circulation model at dysts's second parameter set",
)  # fmt: skip


def chen_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = a(y − x), y' = (c − a)x − xz + cy, z' = xy − bz (Chen & Ueta 1999)."""
    X, y, z = x
    a, b, c = p["a"], p["b"], p["c"]
    return jnp.stack([a * (y - X), (c - a) * X - X * z + c * y, X * y - b * z])


CHEN = from_dysts(
    "chen", "Chen", chen_rhs,
    citation="Chen, G. & Ueta, T. (1999). Yet another chaotic attractor. "
    "Int. J. Bifurcation Chaos 9:1465-1466.",
    description="Lorenz-like double scroll, dual of Lorenz in the Vanecek-Celikovsky sense",
)  # fmt: skip


def lu_chen_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = a(y − x), y' = −xz + cy, z' = xy − bz (Lü & Chen 2002)."""
    X, y, z = x
    a, b, c = p["a"], p["b"], p["c"]
    return jnp.stack([a * (y - X), -X * z + c * y, X * y - b * z])


LU_CHEN = from_dysts(
    "lu_chen", "LuChen", lu_chen_rhs,
    citation="Lu, J. & Chen, G. (2002). A new chaotic attractor coined. "
    "Int. J. Bifurcation Chaos 12:659-661.",
    description="Transition between the Lorenz and Chen attractors",
)  # fmt: skip


def qi_chen_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = a(y − x) + yz, y' = cx + y − xz, z' = xy − bz (Qi et al. 2008)."""
    X, y, z = x
    a, b, c = p["a"], p["b"], p["c"]
    return jnp.stack([a * (y - X) + y * z, c * X + y - X * z, X * y - b * z])


QI_CHEN = from_dysts(
    "qi_chen", "QiChen", qi_chen_rhs,
    citation="Qi, G., Chen, G., van Wyk, M. A., van Wyk, B. J. & Zhang, Y. (2008). A four-wing "
    "chaotic attractor generated from a new 3-D quadratic autonomous system. "
    "Chaos Solitons Fractals 38:705-721.",
    description="Double-wing attractor with quadratic nonlinearity",
)  # fmt: skip


def shimizu_morioka_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = y, y' = x − ay − xz, z' = −bz + x² (Shimizu & Morioka 1980)."""
    X, y, z = x
    return jnp.stack([y, X - p["a"] * y - X * z, -p["b"] * z + X**2])


SHIMIZU_MORIOKA = from_dysts(
    "shimizu_morioka", "ShimizuMorioka", shimizu_morioka_rhs,
    citation="Shimizu, T. & Morioka, N. (1980). On the bifurcation of a symmetric limit cycle to "
    "an asymmetric one in a simple model. Phys. Lett. A 76:201-204.",
    description="Lorenz-like model of the Lorenz attractor's organising centre",
)  # fmt: skip


def rucklidge_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = −ax + by − yz, y' = x, z' = −z + y² (Rucklidge 1992)."""
    X, y, z = x
    return jnp.stack([-p["a"] * X + p["b"] * y - y * z, X, -z + y**2])


RUCKLIDGE = from_dysts(
    "rucklidge", "Rucklidge", rucklidge_rhs,
    citation="Rucklidge, A. M. (1992). Chaos in models of double convection. "
    "J. Fluid Mech. 237:209-229.",
    description="Double (thermosolutal) convection model",
)  # fmt: skip


def burke_shaw_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = −n(x + y), y' = y − nxz, z' = nxy + e (Shaw 1981)."""
    X, y, z = x
    n, e = p["n"], p["e"]
    return jnp.stack([-n * (X + y), y - n * X * z, n * X * y + e])


BURKE_SHAW = from_dysts(
    "burke_shaw", "BurkeShaw", burke_shaw_rhs,
    citation="Shaw, R. (1981). Strange attractors, chaotic behavior, and information flow. "
    "Z. Naturforsch. A 36:80-112.",
    description="Burke-Shaw system, a Lorenz variant",
)  # fmt: skip


def chen_lee_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = ax − yz, y' = by + xz, z' = cz + xy/3 (Chen & Lee 2004)."""
    X, y, z = x
    return jnp.stack([p["a"] * X - y * z, p["b"] * y + X * z, p["c"] * z + X * y / 3.0])


CHEN_LEE = from_dysts(
    "chen_lee", "ChenLee", chen_lee_rhs,
    citation="Chen, H. K. & Lee, C. I. (2004). Anti-control of chaos in rigid body motion. "
    "Chaos Solitons Fractals 21:957-965.",
    description="Rigid body (gyrostat) with feedback",
)  # fmt: skip


def rikitake_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = −μx + yz, y' = −μy − ax + xz, z' = 1 − xy (Rikitake 1958)."""
    X, y, z = x
    mu, a = p["mu"], p["a"]
    return jnp.stack([-mu * X + y * z, -mu * y - a * X + X * z, 1.0 - X * y])


RIKITAKE = from_dysts(
    "rikitake", "RikitakeDynamo", rikitake_rhs,
    citation="Rikitake, T. (1958). Oscillations of a system of disk dynamos. "
    "Proc. Camb. Phil. Soc. 54:89-105.",
    description="Two coupled disk dynamos; reversals of the geomagnetic field",
)  # fmt: skip


def newton_leipnik_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = −ax + y + 10yz, y' = −x − 0.4y + 5xz, z' = bz − 5xy (Leipnik & Newton 1981)."""
    X, y, z = x
    a, b = p["a"], p["b"]
    return jnp.stack([-a * X + y + 10.0 * y * z, -X - 0.4 * y + 5.0 * X * z, b * z - 5.0 * X * y])


NEWTON_LEIPNIK = from_dysts(
    "newton_leipnik", "NewtonLiepnik", newton_leipnik_rhs,
    citation="Leipnik, R. B. & Newton, T. A. (1981). Double strange attractors in rigid body "
    "motion with linear feedback control. Phys. Lett. A 86:63-67.",
    description="Rigid body with linear feedback; two coexisting strange attractors",
)  # fmt: skip


def rabinovich_fabrikant_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = y(z − 1 + x²) + γx, y' = x(3z + 1 − x²) + γy, z' = −2z(α + xy) (R&F 1979)."""
    X, y, z = x
    a, g = p["a"], p["g"]
    return jnp.stack(
        [y * (z - 1.0 + X**2) + g * X, X * (3.0 * z + 1.0 - X**2) + g * y, -2.0 * z * (a + X * y)]
    )


RABINOVICH_FABRIKANT = from_dysts(
    "rabinovich_fabrikant", "RabinovichFabrikant", rabinovich_fabrikant_rhs,
    citation="Rabinovich, M. I. & Fabrikant, A. L. (1979). Stochastic self-modulation of waves "
    "in nonequilibrium media. Sov. Phys. JETP 50:311-317.",
    description="Modulation instability in a nonequilibrium dissipative medium (a=alpha, g=gamma)",
)  # fmt: skip


def lorenz_stenflo_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = a(y − x) + dw, y' = cx − xz − y, z' = xy − bz, w' = −x − aw (Stenflo 1996)."""
    X, y, z, w = x
    a, b, c, d = p["a"], p["b"], p["c"], p["d"]
    return jnp.stack([a * (y - X) + d * w, c * X - X * z - y, X * y - b * z, -X - a * w])


LORENZ_STENFLO = from_dysts(
    "lorenz_stenflo", "LorenzStenflo", lorenz_stenflo_rhs,
    citation="Stenflo, L. (1996). Generalized Lorenz equations for acoustic-gravity waves in the "
    "atmosphere. Physica Scripta 53:83-84.",
    description="Four-variable Lorenz generalisation with rotation",
)  # fmt: skip


def dadras_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = y − px + oyz, y' = ry − xz + z, z' = cxy − ez (Dadras & Momeni 2009)."""
    X, y, z = x
    c, e, o, pp, r = p["c"], p["e"], p["o"], p["p"], p["r"]
    return jnp.stack([y - pp * X + o * y * z, r * y - X * z + z, c * X * y - e * z])


DADRAS = from_dysts(
    "dadras", "Dadras", dadras_rhs,
    citation="Dadras, S. & Momeni, H. R. (2009). A novel three-dimensional autonomous chaotic "
    "system generating two, three and four-scroll attractors. Phys. Lett. A 373:3637-3642.",
    description="Multi-scroll quadratic system",
)  # fmt: skip


def finance_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = (1/b − a)x + z + xy, y' = −by − x², z' = −x − cz (Cai & Huang 2007)."""
    X, y, z = x
    a, b, c = p["a"], p["b"], p["c"]
    return jnp.stack([(1.0 / b - a) * X + z + X * y, -b * y - X**2, -X - c * z])


FINANCE = from_dysts(
    "finance", "Finance", finance_rhs,
    citation="Cai, G. & Huang, J. (2007). A new finance chaotic attractor. "
    "Int. J. Nonlinear Science 3:213-220.",
    description="Interest rate x, investment demand y, price index z",
)  # fmt: skip


def zhou_chen_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = ax + by + yz, y' = cy − xz + dyz, z' = ez − xy (Zhou & Chen 2004)."""
    X, y, z = x
    a, b, c, d, e = p["a"], p["b"], p["c"], p["d"], p["e"]
    return jnp.stack([a * X + b * y + y * z, c * y - X * z + d * y * z, e * z - X * y])


ZHOU_CHEN = from_dysts(
    "zhou_chen", "ZhouChen", zhou_chen_rhs,
    citation="Zhou, T. & Chen, G. (2004). A simple smooth chaotic system with a 3-layer "
    "attractor. Int. J. Bifurcation Chaos 14:1795-1799.",
    description="Smooth quadratic system with a three-layer attractor",
)  # fmt: skip


def wang_sun_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = ax + qyz, y' = bx + dy − xz, z' = ez + fxy (Wang et al. 2009)."""
    X, y, z = x
    a, b, d, e, f, q = p["a"], p["b"], p["d"], p["e"], p["f"], p["q"]
    return jnp.stack([a * X + q * y * z, b * X + d * y - X * z, e * z + f * X * y])


WANG_SUN = from_dysts(
    "wang_sun", "WangSun", wang_sun_rhs,
    citation="Wang, Z., Sun, Y., van Wyk, B. J., Qi, G. & van Wyk, M. A. (2009). A 3-D four-wing "
    "attractor and its analysis. Braz. J. Phys. 39:547-553.",
    description="Four-wing attractor",
)  # fmt: skip


SYSTEMS: tuple[System, ...] = (
    LORENZ63, LORENZ84, HADLEY, CHEN, LU_CHEN, QI_CHEN, SHIMIZU_MORIOKA, RUCKLIDGE, BURKE_SHAW,
    CHEN_LEE, RIKITAKE, NEWTON_LEIPNIK, RABINOVICH_FABRIKANT, LORENZ_STENFLO, DADRAS, FINANCE,
    ZHOU_CHEN, WANG_SUN,
)  # fmt: skip

__all__ = ["SYSTEMS", "lorenz63_rhs"]
