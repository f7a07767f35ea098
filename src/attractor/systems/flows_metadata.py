"""Metadata of the native flows that dysts also has, taken from dysts 0.96.

Source: ``dysts/data/chaotic_attractors.json`` of dysts 0.96 (William Gilpin, Apache-2.0,
https://github.com/williamgilpin/dysts; Gilpin 2021, "Chaos as an interpretable benchmark for
forecasting and data-driven modelling", NeurIPS Datasets and Benchmarks, arXiv:2110.05266).
For each system: parameters, an initial condition on the attractor, the characteristic period
(time units), and dysts's numerical estimates of the largest Lyapunov exponent, the Lyapunov
spectrum, the Kaplan–Yorke and correlation dimensions. Numbers are copied as facts (rounded);
dysts sets ``period`` algorithmically from the power spectrum, and its Lyapunov estimates are
rough (the two fields for the largest exponent differ by a median factor ~0.95, 10–90 %: 0.36–2.3).

dysts's ``dt`` field is an integration step (``period / 5000``), not a sampling step, so it is not
used here; the native systems sample at about ``period / 100`` by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from attractor.systems.base import Invariants, System

SOURCE = "dysts 0.96 chaotic_attractors.json (numerical estimates; Gilpin 2021)"


class _M(NamedTuple):
    params: dict[str, float]
    initial_condition: tuple[float, ...]
    period: float
    mle: float  # dysts "maximum_lyapunov_estimated"
    spectrum: tuple[float, ...]  # dysts "lyapunov_spectrum_estimated"
    kaplan_yorke: float
    correlation_dim: float


DYSTS: dict[str, _M] = {
    "Lorenz84": _M(
        {"a": 1.32, "b": 7.91, "f": 4.83, "g": 4.194},
        (1.926479236, -0.134021102, -1.721467307),
        6.2586, 0.4615, (1.047, -0.0454, -2.252), 2.445,
        1.867,
    ),
    "Hadley": _M(
        {"a": 0.2, "b": 4.0, "f": 9.0, "g": 1.0},
        (1.3664423, 0.9309146, 0.64283417),
        1.4541, 0.2387, (0.3117, -0.001084, -0.4274), 2.727,
        2.03,
    ),
    "Chen": _M(
        {"a": 35.0, "b": 3.0, "c": 28.0},
        (3.2689697, 5.2990458, 19.435349),
        0.58689, 2.006, (2.047, -0.05031, -11.84), 2.169,
        2.08,
    ),
    "LuChen": _M(
        {"a": 36.0, "b": 3.0, "c": 18.0},
        (10.956479, 9.8813092, 22.676714),
        2.3385, 0.3267, (0.6652, 0.145, -22.57), 2.036,
        1.373,
    ),
    "QiChen": _M(
        {"a": 38.0, "b": 2.666, "c": 80.0},
        (17.420882, 5.5459627, 78.89139),
        0.39179, 4.028, (3.888, 0.1338, -43.84), 2.092,
        1.831,
    ),
    "ShimizuMorioka": _M(
        {"a": 0.85, "b": 0.5},
        (0.016838697, 0.03489384, 0.35346848),
        12.038, 0.03577, (0.04403, -1.394e-05, -1.41), 2.031,
        1.717,
    ),
    "Rucklidge": _M(
        {"a": 2.0, "b": 6.7},
        (1.9257158, 3.1923835, 5.7829655),
        6.0721, 0.1936, (0.1829, -0.003907, -3.215), 2.056,
        1.982,
    ),
    "BurkeShaw": _M(
        {"e": 13.0, "n": 10.0},
        (-0.79153188, 0.65244479, 0.22517831),
        0.78333, 2.325, (2.345, 0.02706, -11.23), 2.211,
        2.054,
    ),
    "ChenLee": _M(
        {"a": 5.0, "b": -10.0, "c": -0.38},
        (0.17177112, 0.10360479, 6.2553878),
        2.8043, 0.1636, (0.1646, 0.0001823, -5.485), 2.03,
        1.228,
    ),
    "RikitakeDynamo": _M(
        {"a": 1.0, "mu": 1.0},
        (-0.7791562791, -0.6302244599, 2.671200187),
        5.8975, 0.1318, (0.1457, 0.0007222, -2.174), 2.067,
        1.906,
    ),
    "NewtonLiepnik": _M(
        {"a": 0.4, "b": 0.175},
        (0.29430753, 0.10649486, 0.29081125),
        8.5095, 0.1495, (0.1724, -0.0003698, -0.7796), 2.221,
        2.005,
    ),
    "RabinovichFabrikant": _M(
        {"a": 1.1, "g": 0.87},
        (-1.8207276, 0.83440917, 0.2078248),
        2.3356, 0.2541, (0.2423, 1.707e-05, -0.6718), 2.361,
        2.078,
    ),
    "LorenzStenflo": _M(
        {"a": 2.0, "b": 0.7, "c": 26.0, "d": 1.5},
        (4.233438599, 9.089706055, 21.86662536, -1.408069518),
        3.88771, 0.3808, (0.4494, 0.02608, -2.736, -3.421), 2.174,
        2.119,
    ),
    "Dadras": _M(
        {"c": 2.0, "e": 9.0, "o": 2.7, "p": 3.0, "r": 1.7},
        (1.0284085, -3.5348655, -0.72081646),
        3.2886, 0.4059, (0.4734, 0.006456, -11.16), 2.043,
        1.605,
    ),
    "Finance": _M(
        {"a": 0.001, "b": 0.2, "c": 1.1},
        (-0.51664739, -3.9568707, 0.0012893581),
        9.8932, 0.09354, (0.1071, 0.0009836, -0.628), 2.172,
        1.922,
    ),
    "ZhouChen": _M(
        {"a": 2.97, "b": 0.15, "c": -3.0, "d": 1.0, "e": -8.78},
        (-0.60390203, 0.012111953, 0.00083277923),
        0.87518, 0.6828, (0.5917, 0.005204, -13.0), 2.046,
        1.621,
    ),
    "WangSun": _M(
        {"a": 0.2, "b": -0.01, "d": -0.4, "e": -1.0, "f": -1.0, "q": 1.0},
        (-0.54770787, 0.73876479, -0.0049284531),
        26.958, 0.06735, (0.07991, -0.001044, -1.324), 2.06,
        1.781,
    ),
    "Rossler": _M(
        {"a": 0.2, "b": 0.2, "c": 5.7},
        (6.5134412, 0.4772013, 0.34164294),
        5.9086, 0.1506, (0.07633, 0.007522, -5.741), 2.015,
        1.797,
    ),
    "Chua": _M(
        {"alpha": 15.6, "beta": 28.0, "m0": -1.142857, "m1": -0.71429},
        (1.1262351, -0.11386474, -0.78324421),
        1.4235, 1.23, (0.4605, 0.002205, -4.319), 2.107,
        1.799,
    ),
    "Thomas": _M(
        {"a": 1.85, "b": 10.0},
        (2.199442, 2.3634225, 3.220197),
        4.969, 0.6324, (0.759, 0.05736, -6.422), 2.127,
        1.649,
    ),
    "Halvorsen": _M(
        {"a": 1.4, "b": 4.0},
        (-8.6807408, -2.4741399, 0.070775762),
        1.4889, 0.6964, (0.5862, -0.03195, -4.688), 2.118,
        1.884,
    ),
    "Aizawa": _M(
        {"a": 0.95, "b": 0.7, "c": 0.6, "d": 3.5, "e": 0.25, "f": 0.1},
        (-0.78450179, -0.62887672, -0.17620268),
        2.5837, 0.1349, (0.08948, 0.02031, -0.3091), 2.35,
        1.893,
    ),
    "HindmarshRose": _M(
        {"a": 0.49, "b": 1.0, "c": 0.0322, "d": 1.0, "s": 1.0, "tx": 0.03, "tz": 0.8},
        (0.031111835, -0.021557059, 0.041475046),
        1.752, 0.6535, (0.2621, 0.001771, -6.511), 2.041,
        1.646,
    ),
    "Duffing": _M(
        {"alpha": 1.0, "beta": -1.0, "delta": 0.1, "gamma": 0.35, "omega": 1.4},
        (-1.1635382, -0.5092374, 0.0),
        7.4496, 0.1403, (0.09952, 0.0003078, -0.176), 2.561,
        2.019,
    ),
    "Arneodo": _M(
        {"a": -5.5, "b": 4.5, "c": 1.0, "d": -1.0},
        (-2.7515698, 0.19079818, 3.4703629),
        3.1641, 0.2374, (0.2429, -0.0006169, -1.217), 2.199,
        1.933,
    ),
    "Coullet": _M(
        {"a": -0.8, "b": 1.1, "c": 0.45, "d": -1.0},
        (0.3453983796, 0.4284701182, 0.08698369818),
        5.7663, 0.1372, (0.1489, -6.505e-05, -0.5874), 2.253,
        2.092,
    ),
    "GenesioTesi": _M(
        {"a": 0.44, "b": 1.1, "c": 1.0},
        (-0.053772565, -0.26162564, 0.33501557),
        5.9431, 0.1051, (0.09974, 0.0003815, -0.5282), 2.189,
        1.947,
    ),
    "NoseHoover": _M(
        {"a": 1.5},
        (-1.9758582, 0.24647527, 0.79024299),
        5.8673, 0.01046, (0.04757, 0.001384, -0.01165), 6.213,
        1.962,
    ),
    "MooreSpiegel": _M(
        {"a": 10.0, "b": 4.0, "eps": 9.0},
        (-3.4733266, 19.666962, -3.8262485),
        1.2887, 0.6977, (0.4074, -0.02208, -1.198), 2.322,
        1.847,
    ),
    "DoublePendulum": _M(
        {"g": 9.81, "l1": 1.0, "l2": 1.0, "m1": 1.0, "m2": 1.0},
        (-44.334542, 223.53554, -1.2249799, 2.535486),
        4.0234, 3.985, (8.464, 0.4641, -0.1735, -10.81), 3.81,
        2.661,
    ),
    "SprottA": _M(
        {},
        (1.54131864, 1.43079727, -1.52555412),
        6.37285, 0.01299, (0.02926, 0.00499, -0.001556), 60.67,
        1.964,
    ),
    "SprottB": _M(
        {},
        (1.6878282, 1.4848132, -0.53706628),
        11.0501, 0.2067, (0.2199, 0.005187, -1.215), 2.185,
        1.935,
    ),
    "SprottC": _M(
        {},
        (-0.47199823, -0.27198066, 1.9418244),
        8.8852, 0.1581, (0.179, -0.0007305, -1.164), 2.153,
        1.904,
    ),
    "SprottD": _M(
        {},
        (-1.3396906, -0.21238338, 0.32982163),
        4.8333, 0.1017, (0.1142, 0.001788, -1.46), 2.081,
        1.95,
    ),
    "SprottE": _M(
        {},
        (0.6173759, 0.66599285, -1.6575023),
        7.6275, 0.09016, (0.09834, -0.0003107, -1.095), 2.089,
        1.532,
    ),
    "SprottF": _M(
        {"a": 0.5},
        (-0.98941275, -1.4191706, 0.85797204),
        19.244, 0.1183, (0.1325, 0.01927, -0.603), 2.252,
        2.249,
    ),
    "SprottG": _M(
        {"a": 0.4},
        (-0.77182478, -0.74756595, 1.3073285),
        8.7097, 0.09068, (0.03349, -0.001275, -0.6182), 2.052,
        1.436,
    ),
    "SprottH": _M(
        {"a": 0.5},
        (-1.360042, 0.62585352, -1.2788196),
        20.229, 0.131, (0.1387, 0.003501, -0.5889), 2.241,
        2.184,
    ),
    "SprottI": _M(
        {"a": 0.2},
        (-0.060099389, -0.49558355, 0.023159035),
        10.93, 0.02322, (0.02046, 9.479e-06, -1.032), 2.02,
        1.588,
    ),
    "SprottJ": _M(
        {},
        (4.4786928, 2.2977432, 6.5847115),
        4.836, 0.1229, (0.04452, 0.001062, -2.056), 2.022,
        1.763,
    ),
    "SprottK": _M(
        {"a": 0.3},
        (-1.3165015, -1.5429951, 0.664053),
        7.006, 0.05963, (0.03778, -0.0005109, -0.8935), 2.042,
        1.818,
    ),
    "SprottL": _M(
        {"a": 0.9, "b": 3.9},
        (4.3611557, 13.705573, -2.6835659),
        6.7262, 0.09216, (0.03407, -0.0003915, -1.013), 2.033,
        1.411,
    ),
    "SprottM": _M(
        {"a": 1.7},
        (1.6024402, -1.5983203, -2.6236374),
        5.3644, 0.08422, (0.0523, -0.0003306, -1.039), 2.05,
        1.55,
    ),
    "SprottN": _M(
        {},
        (-8.3258705, 7.3033716, 3.2798909),
        4.8135, 0.1187, (0.06096, 6.56e-05, -2.102), 2.029,
        1.78,
    ),
    "SprottO": _M(
        {"a": 2.7},
        (0.20549455, 0.022792985, 0.93636949),
        9.755, 0.09141, (0.06686, 0.01153, -0.3165), 2.247,
        1.71,
    ),
    "SprottP": _M(
        {"a": 2.7},
        (0.83420675, 0.14915817, 0.44028635),
        5.3414, 0.1065, (0.1026, 0.0002514, -0.4844), 2.212,
        1.985,
    ),
    "SprottQ": _M(
        {"a": 3.1, "b": 0.5},
        (2.978102, -0.065260683, -2.8031286),
        4.8443, 0.1717, (0.137, 0.001039, -0.6141), 2.225,
        1.832,
    ),
    "SprottR": _M(
        {"a": 0.9, "b": 0.4},
        (-1.6914909, -1.9783678, 1.9807775),
        7.0133, 0.09661, (0.07608, 0.00137, -1.078), 2.072,
        1.831,
    ),
    "SprottS": _M(
        {},
        (0.12635702, 0.12260693, 1.2215429),
        3.3505, 0.2738, (0.2149, 0.003019, -1.195), 2.182,
        1.91,
    ),
    "SprottJerk": _M(
        {"mu": 2.017},
        (-0.54106056, 0.59383201, 0.45127217),
        11.921, 0.08785, (0.06738, -0.0007832, -2.135), 2.031,
        1.144,
    ),
}


def sampling_dt(period: float, points_per_period: int = 100) -> float:
    """``period / points_per_period`` rounded to two significant digits (a readable default)."""
    raw = period / points_per_period
    return float(f"{raw:.2g}")


def dysts_invariants(meta: _M, dim: int) -> Invariants:
    """dysts's estimates as :class:`Invariants`; an impossible Kaplan–Yorke value is dropped.

    ``lyapunov_max`` is dysts's ``lyapunov_spectrum_estimated[0]`` so that it agrees with the
    stored spectrum (dysts's separate ``maximum_lyapunov_estimated`` often differs from it).
    """
    spectrum = meta.spectrum if len(meta.spectrum) == dim else None
    kyd = meta.kaplan_yorke if 0.0 <= meta.kaplan_yorke <= dim else None
    return Invariants(
        lyapunov_max=max(meta.spectrum),
        lyapunov_spectrum=spectrum,
        kaplan_yorke_dim=kyd,
        correlation_dim=meta.correlation_dim,
        source=SOURCE,
    )


def from_dysts(
    name: str,
    dysts_name: str,
    rhs: Callable[..., Any],
    *,
    citation: str,
    description: str,
    **overrides: Any,
) -> System:
    """A native flow whose parameters, initial condition, period and invariants come from dysts.

    ``overrides`` replace any :class:`System` field (e.g. ``reference`` with a literature value).
    """
    meta = DYSTS[dysts_name]
    dim = len(meta.initial_condition)
    fields: dict[str, Any] = {
        "name": name,
        "kind": "flow",
        "dim": dim,
        "rhs": rhs,
        "params": dict(meta.params),
        "initial_condition": meta.initial_condition,
        "dt": sampling_dt(meta.period),
        "period": meta.period,
        "reference": dysts_invariants(meta, dim),
        "citation": citation,
        "description": f"{description} (dysts: {dysts_name})",
    }
    fields.update(overrides)
    assert math.isfinite(fields["dt"])
    return System(**fields)


__all__ = ["DYSTS", "SOURCE", "dysts_invariants", "from_dysts", "sampling_dt"]
