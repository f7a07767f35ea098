"""Oscillator-type flows: spiral, circuit, neuron, jerk and mechanical chaotic oscillators.

Right-hand sides follow :mod:`attractor.systems.base`: ``rhs(x, t, p) -> dx/dt`` for one state.
Parameters, initial conditions (on the attractor), periods and reference invariants come from
dysts 0.96 (see :mod:`attractor.systems.flows_metadata`) except where a literature value is
given. Time is in the equations' own (dimensionless) units.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from attractor.systems.base import Invariants, System
from attractor.systems.flows_metadata import from_dysts

Array = jax.Array
Params = Mapping[str, Array]


def rossler_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = −y − z, y' = x + ay, z' = b + z(x − c) (Rössler 1976)."""
    X, y, z = x
    return jnp.stack([-y - z, X + p["a"] * y, p["b"] + z * (X - p["c"])])


ROSSLER = from_dysts(
    "rossler", "Rossler", rossler_rhs,
    citation="Rossler, O. E. (1976). An equation for continuous chaos. Phys. Lett. A 57:397-398.",
    description="Spiral-type attractor of a single folded band",
    reference=Invariants(
        lyapunov_max=0.0714,
        lyapunov_spectrum=(0.0714, 0.0, -5.3943),
        kaplan_yorke_dim=2.0132,
        source="Sprott (2003), Chaos and Time-Series Analysis, App. A",
    ),
)  # fmt: skip


def chua_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = α(y − x − g(x)), y' = x − y + z, z' = −βy; g piecewise linear (Chua et al. 1986)."""
    X, y, z = x
    m0, m1 = p["m0"], p["m1"]
    g = m1 * X + 0.5 * (m0 - m1) * (jnp.abs(X + 1.0) - jnp.abs(X - 1.0))
    return jnp.stack([p["alpha"] * (y - X - g), X - y + z, -p["beta"] * y])


CHUA = from_dysts(
    "chua", "Chua", chua_rhs,
    citation="Chua, L. O., Komuro, M. & Matsumoto, T. (1986). The double scroll family. "
    "IEEE Trans. Circuits Syst. 33:1073-1118.",
    description="Chua's circuit, dimensionless double scroll",
)  # fmt: skip


def thomas_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = −ax + b sin y, y' = −ay + b sin z, z' = −az + b sin x (Thomas 1999)."""
    X, y, z = x
    a, b = p["a"], p["b"]
    return jnp.stack([-a * X + b * jnp.sin(y), -a * y + b * jnp.sin(z), -a * z + b * jnp.sin(X)])


THOMAS = from_dysts(
    "thomas", "Thomas", thomas_rhs,
    citation="Thomas, R. (1999). Deterministic chaos seen in terms of feedback circuits. "
    "Int. J. Bifurcation Chaos 9:1889-1905.",
    description="Cyclically symmetric feedback circuit",
)  # fmt: skip


def halvorsen_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = −ax − b(y + z) − y², and cyclic permutations (Sprott 2010)."""
    X, y, z = x
    a, b = p["a"], p["b"]
    return jnp.stack(
        [-a * X - b * (y + z) - y**2, -a * y - b * (z + X) - z**2, -a * z - b * (X + y) - X**2]
    )


HALVORSEN = from_dysts(
    "halvorsen", "Halvorsen", halvorsen_rhs,
    citation="Sprott, J. C. (2010). Elegant Chaos: Algebraically Simple Chaotic Flows. "
    "World Scientific (Halvorsen's cyclically symmetric system).",
    description="Cyclically symmetric quadratic flow",
)  # fmt: skip


def aizawa_rhs(x: Array, t: Array, p: Params) -> Array:
    """Aizawa/Langford flow: x' = (z − b)x − dy, y' = dx + (z − b)y, z' = c + az − z³/3 − … ."""
    X, y, z = x
    a, b, c, d, e, f = p["a"], p["b"], p["c"], p["d"], p["e"], p["f"]
    r2 = X**2 + y**2
    return jnp.stack(
        [
            (z - b) * X - d * y,
            d * X + (z - b) * y,
            c + a * z - z**3 / 3.0 - r2 - e * z * r2 + f * z * X**3,
        ]
    )


AIZAWA = from_dysts(
    "aizawa", "Aizawa", aizawa_rhs,
    citation="Aizawa, Y. & Uezu, T. (1982). Topological aspects in chaos and in 2^k-period "
    "doubling cascade. Prog. Theor. Phys. 67:982-985; Langford, W. F. (1984).",
    description="Torus-breakdown attractor",
)  # fmt: skip


def hindmarsh_rose_rhs(x: Array, t: Array, p: Params) -> Array:
    """Hindmarsh–Rose neuron in dysts's scaled form (fast x with time constant t_x)."""
    X, y, z = x
    a, b, c, d, s, tx, tz = p["a"], p["b"], p["c"], p["d"], p["s"], p["tx"], p["tz"]
    return jnp.stack(
        [
            -X + (y - a * X**3 + b * X**2 + z) / tx,
            -a * X**3 - (d - b) * X**2 + z,
            (-s * X - z + c) / tz,
        ]
    )


HINDMARSH_ROSE = from_dysts(
    "hindmarsh_rose", "HindmarshRose", hindmarsh_rose_rhs,
    citation="Hindmarsh, J. L. & Rose, R. M. (1984). A model of neuronal bursting using three "
    "coupled first order differential equations. Proc. R. Soc. B 221:87-102; scaled form of "
    "Marhl & Perc (2005), Chaos Solitons Fractals.",
    description="Bursting neuron model",
)  # fmt: skip


def duffing_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = y, y' = −δy − βx − αx³ + γ cos φ, φ' = ω (forced Duffing oscillator, autonomous)."""
    X, y, phase = x
    a, b, d, g, w = p["alpha"], p["beta"], p["delta"], p["gamma"], p["omega"]
    return jnp.stack([y, -d * y - b * X - a * X**3 + g * jnp.cos(phase), jnp.ones_like(X) * w])


DUFFING = from_dysts(
    "duffing", "Duffing", duffing_rhs,
    citation="Duffing, G. (1918). Erzwungene Schwingungen bei veranderlicher Eigenfrequenz. "
    "Vieweg; Guckenheimer, J. & Holmes, P. (1983). Nonlinear Oscillations, §2.2.",
    description="Forced double-well oscillator; the forcing phase phi = omega t is carried as "
    "the third state variable (unbounded; use cos(phi) for a bounded observable)",
)  # fmt: skip


def arneodo_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = y, y' = z, z' = −ax − by − cz + dx³ (Arneodo, Coullet & Tresser 1981)."""
    X, y, z = x
    return jnp.stack([y, z, -p["a"] * X - p["b"] * y - p["c"] * z + p["d"] * X**3])


_ACT_CITE = (
    "Arneodo, A., Coullet, P. & Tresser, C. (1981). Possible new strange attractors with "
    "spiral structure. Commun. Math. Phys. 79:573-579."
)
ARNEODO = from_dysts(
    "arneodo", "Arneodo", arneodo_rhs, citation=_ACT_CITE,
    description="Cubic jerk flow with a spiral attractor",
)  # fmt: skip
COULLET = from_dysts(
    "coullet", "Coullet", arneodo_rhs, citation=_ACT_CITE,
    description="Arneodo-Coullet-Tresser flow at dysts's Coullet parameters",
)  # fmt: skip


def genesio_tesi_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = y, y' = z, z' = −cx − by − az + x² (Genesio & Tesi 1992)."""
    X, y, z = x
    return jnp.stack([y, z, -p["c"] * X - p["b"] * y - p["a"] * z + X**2])


GENESIO_TESI = from_dysts(
    "genesio_tesi", "GenesioTesi", genesio_tesi_rhs,
    citation="Genesio, R. & Tesi, A. (1992). Harmonic balance methods for the analysis of "
    "chaotic dynamics in nonlinear systems. Automatica 28:531-548.",
    description="Quadratic jerk flow",
)  # fmt: skip


def nose_hoover_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = y, y' = −x + yz, z' = a − y² (Nosé–Hoover thermostatted oscillator; Hoover 1985)."""
    X, y, z = x
    return jnp.stack([y, -X + y * z, p["a"] - y**2])


NOSE_HOOVER = from_dysts(
    "nose_hoover", "NoseHoover", nose_hoover_rhs,
    citation="Hoover, W. G. (1985). Canonical dynamics: equilibrium phase-space distributions. "
    "Phys. Rev. A 31:1695-1697; Nose, S. (1984). J. Chem. Phys. 81:511-519.",
    description="Thermostatted harmonic oscillator (conservative on average; sprott_a is a=1)",
)  # fmt: skip


def moore_spiegel_rhs(x: Array, t: Array, p: Params) -> Array:
    """x' = y, y' = az, z' = −z + εy − yx² − bx (Moore & Spiegel 1966)."""
    X, y, z = x
    return jnp.stack([y, p["a"] * z, -z + p["eps"] * y - y * X**2 - p["b"] * X])


MOORE_SPIEGEL = from_dysts(
    "moore_spiegel", "MooreSpiegel", moore_spiegel_rhs,
    citation="Moore, D. W. & Spiegel, E. A. (1966). A thermally excited non-linear oscillator. "
    "Astrophys. J. 143:871-887.",
    description="Thermally excited oscillator of a fluid parcel in a stratified star",
)  # fmt: skip


def double_pendulum_rhs(x: Array, t: Array, p: Params) -> Array:
    """Hamilton's equations of the planar double pendulum in angles and conjugate momenta."""
    th1, th2, p1, p2 = x
    g, l1, l2, m1, m2 = p["g"], p["l1"], p["l2"], p["m1"], p["m2"]
    cos_d, sin_d = jnp.cos(th1 - th2), jnp.sin(th1 - th2)
    denom = l1 * l2 * (m1 + m2 * sin_d**2)
    th1_dot = (l2 * p1 - l1 * p2 * cos_d) / (l1 * denom)
    th2_dot = ((m1 + m2) * l1 * p2 - m2 * l2 * p1 * cos_d) / (m2 * l2 * denom)
    h1 = p1 * p2 * sin_d / denom
    h2 = (m2 * l2 * p1**2) / (2.0 * l1 * denom**2) + 0.5 * m2 * p2 * l2 * l1 * th2_dot / denom
    h2 = h2 * jnp.sin(2.0 * (th1 - th2))
    p1_dot = -(m1 + m2) * g * l1 * jnp.sin(th1) - h1 + h2
    p2_dot = -m2 * g * l2 * jnp.sin(th2) + h1 - h2
    return jnp.stack([th1_dot, th2_dot, p1_dot, p2_dot])


DOUBLE_PENDULUM = from_dysts(
    "double_pendulum", "DoublePendulum", double_pendulum_rhs,
    citation="Thornton, S. T. & Marion, J. B. (2004). Classical Dynamics of Particles and "
    "Systems, 5th ed.; equations as in dysts's DoublePendulum.",
    description="Two coupled rigid pendula without damping (Hamiltonian; angles unwrapped)",
    # dysts's estimated spectrum sums to -2.1, impossible for a Hamiltonian flow (exponents
    # come in +/- pairs), and its largest exponent depends on the energy: no reference kept.
    reference=Invariants(source="none: dysts estimate inconsistent (spectrum sum != 0)"),
)  # fmt: skip


SYSTEMS: tuple[System, ...] = (
    ROSSLER, CHUA, THOMAS, HALVORSEN, AIZAWA, HINDMARSH_ROSE, DUFFING, ARNEODO, COULLET,
    GENESIO_TESI, NOSE_HOOVER, MOORE_SPIEGEL, DOUBLE_PENDULUM,
)  # fmt: skip

__all__ = ["SYSTEMS", "rossler_rhs"]
