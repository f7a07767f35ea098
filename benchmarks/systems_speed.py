"""Systems speed: attractor's trajectories against dysts 0.96, in one script on one machine.

(a) One 1000-point trajectory at 100 points per period for every native system that dysts also has
    (same equations and parameters, checked at random states before timing), from dysts's default
    initial condition: dysts's default ``make_trajectory(1000, pts_per_period=100)`` (scipy Radau,
    rtol = atol = 1e-12; defaults untouched) against ``attractor.systems.trajectory(system, 1000,
    points_per_period=100)``. Ours is timed cold (first call, JIT compile included) and warm.
(b) Lorenz-63, 64 initial conditions x 10^5 steps: one batched (vmapped) call against 64 calls of
    one initial condition each; the figure is the time per initial condition.

Run with the dysts extra (dysts is Apache-2.0, William Gilpin, https://github.com/williamgilpin/dysts):

    .bench-venv/bin/python benchmarks/systems_speed.py            # full run, ~10-20 min on 2 cores
    .bench-venv/bin/python benchmarks/systems_speed.py --quick    # smoke run, ~1-2 min
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np

from attractor._precision import float64
from attractor.systems import dysts_adapter, get, integrate, trajectory
from attractor.systems.base import System

# native registry name -> dysts class name, for the systems whose equations exist in both.
# Each pair is re-checked below (right-hand sides at random states, default parameters); a pair
# that disagrees is reported and left out of the timings.
NATIVE_TO_DYSTS: dict[str, str] = {
    "lorenz63": "Lorenz",
    "lorenz96": "Lorenz96",
    "aizawa": "Aizawa",
    "arneodo": "Arneodo",
    "burke_shaw": "BurkeShaw",
    "chen": "Chen",
    "chen_lee": "ChenLee",
    "chua": "Chua",
    "coullet": "Coullet",
    "dadras": "Dadras",
    "double_pendulum": "DoublePendulum",
    "duffing": "Duffing",
    "finance": "Finance",
    "genesio_tesi": "GenesioTesi",
    "hadley": "Hadley",
    "halvorsen": "Halvorsen",
    "hindmarsh_rose": "HindmarshRose",
    "lorenz84": "Lorenz84",
    "lorenz_stenflo": "LorenzStenflo",
    "lu_chen": "LuChen",
    "moore_spiegel": "MooreSpiegel",
    "newton_leipnik": "NewtonLiepnik",
    "nose_hoover": "NoseHoover",
    "qi_chen": "QiChen",
    "rabinovich_fabrikant": "RabinovichFabrikant",
    "rikitake": "RikitakeDynamo",
    "rossler": "Rossler",
    "rucklidge": "Rucklidge",
    "shimizu_morioka": "ShimizuMorioka",
    "sprott_a": "SprottA",
    "sprott_b": "SprottB",
    "sprott_c": "SprottC",
    "sprott_d": "SprottD",
    "sprott_e": "SprottE",
    "sprott_f": "SprottF",
    "sprott_g": "SprottG",
    "sprott_h": "SprottH",
    "sprott_i": "SprottI",
    "sprott_j": "SprottJ",
    "sprott_k": "SprottK",
    "sprott_l": "SprottL",
    "sprott_m": "SprottM",
    "sprott_n": "SprottN",
    "sprott_o": "SprottO",
    "sprott_p": "SprottP",
    "sprott_q": "SprottQ",
    "sprott_r": "SprottR",
    "sprott_s": "SprottS",
    "sprott_jerk": "SprottJerk",
    "thomas": "Thomas",
    "wang_sun": "WangSun",
    "zhou_chen": "ZhouChen",
    "mackey_glass": "MackeyGlass",
}

WARM_REPEATS = 3
RHS_RTOL = 1e-9  # equations "agree" if the right-hand sides agree to this relative precision


@dataclass
class Row:
    """One system of part (a)."""

    native: str
    dysts: str
    dim: int
    dysts_s: float
    ours_cold_s: float
    ours_warm_s: float
    ours_solo_cold_s: float  # first call of a program compiled for this system alone
    agreement: float  # max |ours - dysts| over the first 2 periods, in units of the attractor std


# ---------------------------------------------------------------------------------- helpers
def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    if isinstance(out, jax.Array):
        out.block_until_ready()
    return time.perf_counter() - start, out


def _best_of(fn: Callable[[], object], repeats: int) -> float:
    """Fastest of ``repeats`` timed calls (the machine is shared; the minimum is the cost)."""
    return min(_timed(fn)[0] for _ in range(repeats))


def _rhs_mismatch(native: System, dysts_class: str, n_points: int = 8) -> float | str:
    """Largest relative difference between the two right-hand sides (or why they can't match)."""
    model = dysts_adapter.dysts_model(dysts_class)
    if native.kind != "flow":
        return f"native kind {native.kind!r}"
    if native.dim != model.dimension:
        return f"dimension {native.dim} vs dysts {model.dimension}"
    rng = np.random.default_rng(0)
    x0, scale = np.asarray(model.ic, dtype=float), np.asarray(model.std, dtype=float)
    worst = 0.0
    with float64():
        p = native.jax_params()
        for _ in range(n_points):
            x = x0 + scale * rng.standard_normal(x0.shape)
            t = float(rng.uniform(0.0, 10.0))
            ours = np.asarray(native.rhs(jnp.asarray(x), t, p))
            ref = np.asarray(model.rhs(x, t), dtype=float)
            worst = max(worst, float(np.max(np.abs(ours - ref) / (np.abs(ref) + 1e-12))))
    return worst


def matched_systems() -> tuple[list[tuple[System, str]], list[tuple[str, str]]]:
    """Native systems whose equations and parameters agree with dysts's; and the rest, with why."""
    kept, dropped = [], []
    for native_name, dysts_class in NATIVE_TO_DYSTS.items():
        try:
            native = get(native_name)
        except Exception as exc:  # not in the native registry (yet)
            dropped.append((native_name, f"not native: {type(exc).__name__}"))
            continue
        mismatch = _rhs_mismatch(native, dysts_class)
        if isinstance(mismatch, str) or mismatch > RHS_RTOL:
            why = mismatch if isinstance(mismatch, str) else f"rhs differ (rel {mismatch:.1e})"
            dropped.append((native_name, why))
        else:
            kept.append((native, dysts_class))
    return kept, dropped


def _ours(system: System, n: int, ppp: int, ic: np.ndarray) -> np.ndarray:
    return np.asarray(trajectory(system, n, points_per_period=ppp, ics=ic))


# ---------------------------------------------------------------------------------- part (a)
def _agreement(
    native: System, model: object, ref: np.ndarray, n: int, ppp: int, ic: np.ndarray
) -> float:
    """Max deviation from dysts over the first two periods, in units of the attractor's std.

    dysts samples ``n`` points over ``period * n / ppp`` (spacing ``period * n / (ppp (n-1))``),
    so this untimed call samples at exactly dysts's times (a runtime argument: no recompiling).
    """
    dt = model.period * n / (ppp * (n - 1))  # type: ignore[attr-defined]
    ours = np.asarray(trajectory(native, n, dt=dt, ics=ic))
    ours = dysts_adapter.dysts_postprocess(model.name, ours)  # type: ignore[attr-defined]
    head = min(2 * ppp, n)
    return float(np.abs(ours[:head] - ref[:head]).max() / ref.std(axis=0).mean())


def part_a(n: int, ppp: int, limit: int | None) -> tuple[list[Row], list[tuple[str, str]]]:
    """Time dysts and attractor on the same systems, same initial conditions, same span."""
    systems, dropped = matched_systems()
    rows = []
    for native, dysts_class in systems[:limit]:
        model = dysts_adapter.dysts_model(dysts_class)
        ic = np.asarray(model.ic, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_dysts, ref = _timed(lambda m=model: m.make_trajectory(n, pts_per_period=ppp))
        t_cold, ours = _timed(lambda s=native, c=ic: _ours(s, n, ppp, c))
        t_warm = _best_of(lambda s=native, c=ic: _ours(s, n, ppp, c), WARM_REPEATS)
        agreement = _agreement(native, model, np.asarray(ref), n, ppp, ic)
        rows.append(
            Row(native.name, dysts_class, native.dim, t_dysts, t_cold, t_warm, 0.0, agreement)
        )
        print(
            f"  {native.name:<22} {dysts_class:<20} dysts {t_dysts:7.2f} s   ours cold "
            f"{t_cold:6.2f} s  warm {t_warm * 1e3:7.1f} ms   agree {agreement:.1e}",
            flush=True,
        )
    for row, (native, dysts_class) in zip(rows, systems, strict=False):
        ic = np.asarray(dysts_adapter.dysts_model(dysts_class).ic, dtype=float)
        row.ours_solo_cold_s = _solo_cold(native, n, ppp, ic)
    return rows, dropped


def _solo_cold(system: System, n: int, ppp: int, ic: np.ndarray) -> float:
    """First call of the integrator compiled for this one system (no shared program).

    ``trajectory`` lets catalogue flows of one dimension share a compiled program
    (:mod:`attractor.systems.integrate_shared`), so in a sweep most systems never compile. This
    measures what a session that needs only this system pays: a fresh wrapper of the right-hand
    side is a new cache key, hence a full trace + compile + run of its own program.
    """
    rhs = system.rhs
    fresh = lambda x, t, p: rhs(x, t, p)  # noqa: E731 - a new function object on purpose
    assert system.period is not None

    def call() -> np.ndarray:
        with float64():
            ys, _ = integrate.integrate_flow(
                fresh, ic[None], system.params, n=n, dt=system.period / ppp
            )
            return np.asarray(ys)

    return _timed(call)[0]


# ---------------------------------------------------------------------------------- part (b)
def part_b(n_ics: int, n_steps: int, n_single: int) -> dict[str, float]:
    """Lorenz-63: one vmapped call over ``n_ics`` initial conditions against one call per IC.

    ``n_single`` of the one-at-a-time calls are timed (all of them in the full run); the per-IC
    time is their mean.
    """
    system = get("lorenz63")
    rng = np.random.default_rng(0)
    ics = np.asarray(system.initial_condition) + rng.standard_normal((n_ics, system.dim))
    t_batch_cold, _ = _timed(lambda: trajectory(system, n_steps, ics=ics))
    t_batch = _best_of(lambda: trajectory(system, n_steps, ics=ics), WARM_REPEATS)
    out = trajectory(system, n_steps, ics=ics)
    assert np.shape(out) == (n_ics, n_steps, system.dim) and np.isfinite(out).all()
    t_single_cold, _ = _timed(lambda: trajectory(system, n_steps, ics=ics[0]))
    singles = [_timed(lambda c=c: trajectory(system, n_steps, ics=c))[0] for c in ics[:n_single]]
    per_ic_single = float(np.mean(singles))
    per_ic_batch = t_batch / n_ics
    return {
        "n_ics": n_ics,
        "n_steps": n_steps,
        "batched_cold_s": t_batch_cold,
        "batched_warm_s": t_batch,
        "single_cold_s": t_single_cold,
        "single_warm_mean_s": per_ic_single,
        "per_ic_batched_s": per_ic_batch,
        "per_ic_ratio_warm": per_ic_single / per_ic_batch,
        "per_ic_ratio_cold": (t_single_cold + per_ic_single * (n_ics - 1)) / t_batch_cold,
    }


# ---------------------------------------------------------------------------------- report
def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _summary_a(rows: list[Row]) -> dict[str, float]:
    dysts = sum(r.dysts_s for r in rows)
    cold = sum(r.ours_cold_s for r in rows)
    warm = sum(r.ours_warm_s for r in rows)
    solo = sum(r.ours_solo_cold_s for r in rows)
    return {
        "systems": len(rows),
        "dysts_total_s": dysts,
        "ours_cold_total_s": cold,
        "ours_warm_total_s": warm,
        "ratio_cold": dysts / cold if cold else float("nan"),
        "ratio_warm": dysts / warm if warm else float("nan"),
        "ours_solo_cold_total_s": solo,
        "ratio_solo_cold": dysts / solo if solo else float("nan"),
        "median_ratio_solo_cold": float(np.median([r.dysts_s / r.ours_solo_cold_s for r in rows])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 systems, small sizes")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    n, ppp = (200, 100) if args.quick else (1000, 100)
    limit = 2 if args.quick else None
    n_ics, n_steps, n_single = (8, 10_000, 8) if args.quick else (64, 100_000, 64)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__}, "
        f"backend {jax.default_backend()}; load average {_load()}"
    )
    jnp.zeros(1).block_until_ready()  # backend start-up is not the integrator's cost

    print(f"(a) {n} points at {ppp} points per period, dysts Radau rtol=atol=1e-12 vs attractor")
    rows, dropped = part_a(n, ppp, limit)
    for name, why in dropped:
        print(f"  left out {name}: {why}")
    sa = _summary_a(rows)
    print(
        f"  total over {sa['systems']} systems: dysts {sa['dysts_total_s']:.1f} s, ours cold "
        f"{sa['ours_cold_total_s']:.1f} s, warm {sa['ours_warm_total_s']:.3f} s\n"
        f"  speed-up dysts/ours: cold {sa['ratio_cold']:.1f}x, warm {sa['ratio_warm']:.0f}x "
        f"(target 20x)\n"
        f"  each system compiled alone (no shared program): {sa['ours_solo_cold_total_s']:.1f} s "
        f"in total, {sa['ratio_solo_cold']:.1f}x (median per system "
        f"{sa['median_ratio_solo_cold']:.1f}x)"
    )

    print(f"(b) lorenz63, {n_ics} ICs x {n_steps} steps: batched (vmap) vs one at a time")
    sb = part_b(n_ics, n_steps, n_single)
    print(
        f"  batched: cold {sb['batched_cold_s']:.2f} s, warm {sb['batched_warm_s']:.2f} s "
        f"({sb['per_ic_batched_s'] * 1e3:.1f} ms per IC)\n"
        f"  one at a time: cold {sb['single_cold_s']:.2f} s, warm "
        f"{sb['single_warm_mean_s'] * 1e3:.1f} ms per IC\n"
        f"  per-IC speed-up: warm {sb['per_ic_ratio_warm']:.1f}x, cold "
        f"{sb['per_ic_ratio_cold']:.1f}x (target 10x)"
    )
    print(f"load average at the end: {_load()} (other processes share the cores)")
    if args.json:
        payload = {"a": [asdict(r) for r in rows], "a_summary": sa, "a_dropped": dropped, "b": sb}
        with open(args.json, "w") as fh:
            json.dump(payload, fh, indent=2)


if __name__ == "__main__":
    main()
