"""Issue 11, item 4: reconstruction of high-dimensional systems, Lorenz-96 and Kuramoto–Sivashinsky.

Each case writes a training file (100 000 samples, 5 % observation noise per coordinate, relative
to its standard deviation: the recipe of ``attractor.dsr.system_data``) and a clean test file
from a second initial condition, then runs the CLI as a user would:

    attractor train --data train.npy --test-data test.npy --dt DT [case flags] --seed S \\
        --out DIR --json [extra flags after --]

The cases:

- ``l96-10``: Lorenz-96, N = 10, F = 8, dt = 0.01; the CLI defaults (shPLRNN, M = N = 10).
- ``l96-40``: Lorenz-96, N = 40, F = 8, dt = 0.01; the CLI defaults (M = N = 40: the attractor's
  Kaplan–Yorke dimension, about 27, leaves little to compress).
- ``ks``: Kuramoto–Sivashinsky, L = 22, 64 grid points, dt = 0.25; a latent model of M = 16
  through an affine observation (``--latent 16 --observation affine``; the attractor's
  Kaplan–Yorke dimension is about 5).

D_stsp is the GMM state-space divergence for N >= 6 (``attractor.metrics``), D_H the mean
Hellinger distance of the power spectra, both on the test series. The system's λ_max is
measured here with ``attractor.systems.lyapunov_spectrum`` (QR method, float64, over 10 000 time
units) and shown next to the literature value where the catalogue has one. The data floor is
the GMM D_stsp of two stretches of the test series (``attractor.dsr.evaluate.data_floor``): what
the system scores against itself, the best a model can be expected to reach.

    .venv/bin/python benchmarks/dsr_highdim.py --cases l96-10 l96-40 ks --seeds 0 1 2 --outdir DIR

Target (issue 11): D_H <= 0.2 and λ_max within 20 % on Lorenz-96 N = 10. Runs are resumable: a
seed whose ``metrics.json`` exists is read, not retrained.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Case:
    """One high-dimensional system and the flags its runs add to the CLI defaults."""

    system: str
    params: dict[str, float]
    flags: list[str] = field(default_factory=list)


CASES = {
    "l96-10": Case("lorenz96", {"N": 10, "F": 8.0}),
    "l96-40": Case("lorenz96", {"N": 40, "F": 8.0}),
    "ks": Case("kuramoto_sivashinsky", {"L": 22.0, "N": 64},
               ["--latent", "16", "--observation", "affine"]),
}
NOISE = 0.05  # observation noise, fraction of each coordinate's std
#: The system's λ_max is averaged over this many time units (QR every 10 steps): Lorenz-96
#: N = 10 gives 1.26 over 200 time units, 1.18-1.19 over 5 000-10 000 (two start tangents).
LYAPUNOV_TIME = 10_000.0


def write_data(case: Case, n: int, folder: Path) -> tuple[Path, Path, float]:
    """Training (noisy) and test (clean) trajectories from two initial conditions; returns the
    two paths and the sampling step."""
    import jax

    from attractor.systems import get, trajectory

    system = get(case.system, **case.params)
    train_file, test_file = folder / "train.npy", folder / "test.npy"
    if not (train_file.is_file() and test_file.is_file()):
        ics = np.asarray(trajectory(system, 2, n_ics=2, key=jax.random.PRNGKey(0)))[:, 0]
        runs = np.asarray(trajectory(system, n, ics=ics))
        train, test = runs[0], runs[1]
        rng = np.random.default_rng(0)
        train = train + NOISE * train.std(0) * rng.standard_normal(train.shape)
        np.save(train_file, train)
        np.save(test_file, test)
    return train_file, test_file, float(system.dt)


def system_lambda_max(case: Case) -> tuple[float, float | None]:
    """The system's largest exponent (1 / time unit): measured here, and the catalogue's
    literature value (``None`` where it has none for these parameters)."""
    from attractor.systems import get, lyapunov_spectrum

    system = get(case.system, **case.params)
    steps = int(LYAPUNOV_TIME / system.dt)
    measured = lyapunov_spectrum(system, n_exponents=1, n_steps=steps, qr_every=10)
    return float(np.asarray(measured.exponents)[0]), system.reference.lyapunov_max


def data_floor_of(data: tuple[Path, Path, float]) -> float:
    """The GMM D_stsp of two stretches of the test series, standardised with the training
    statistics as the CLI does: what the system scores against itself."""
    from attractor.data import Standardizer
    from attractor.dsr.evaluate import data_floor

    standardizer = Standardizer().fit(np.load(data[0]))
    return data_floor(np.asarray(standardizer.transform(np.load(data[1]))))


def train(exe: Path, data: tuple[Path, Path, float], flags: list[str], seed: int,
          out: Path) -> dict | None:
    """Run ``attractor train`` once (unless ``out`` holds a finished run); its metrics."""
    if not (out / "metrics.json").is_file():
        train_file, test_file, dt = data
        cmd = [str(exe), "train", "--data", str(train_file), "--test-data", str(test_file),
               "--dt", str(dt), *flags, "--seed", str(seed), "--out", str(out), "--json",
               "--resume"]  # continues an interrupted run; a fresh one otherwise
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{out}: attractor train failed ({proc.returncode}): "
                  f"{proc.stderr.strip()[-800:]}", flush=True)
            return None
    return json.loads((out / "metrics.json").read_text())


def _fmt(values: list[float | None], digits: str = ".3f") -> str:
    """``median [max]`` of the values that exist (just the value for one)."""
    finite = [v for v in values if v is not None]
    if not finite:
        return "–"
    if len(finite) == 1:
        return f"{finite[0]:{digits}}"
    return f"{np.median(finite):{digits}} [{max(finite):{digits}}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--outdir", type=Path, default=None)
    parser.add_argument("--n", type=int, default=100_000, help="training (and test) samples")
    parser.add_argument("train_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    outdir = args.outdir or Path(tempfile.mkdtemp(prefix="attractor-highdim-"))
    exe = Path(sys.executable).with_name("attractor")
    extra = [a for a in args.train_args if a != "--"]
    print("| case | seed | D_stsp (GMM) | D_H | PE(20) | λ_max model | λ_max system | "
          "rel. error | epochs (selected) | train s |", flush=True)
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
    summary = []
    for name in args.cases:
        case = CASES[name]
        folder = outdir / name
        folder.mkdir(parents=True, exist_ok=True)
        data = write_data(case, args.n, folder)
        lam_sys, lam_lit = system_lambda_max(case)
        floor = data_floor_of(data)
        rows = []
        for seed in args.seeds:
            m = train(exe, data, [*case.flags, *extra], seed, folder / f"seed{seed}")
            if m is None:
                continue
            lam = m.get("lambda_max")
            err = None if lam is None else 100 * abs(lam - lam_sys) / abs(lam_sys)  # %
            rows.append({**m, "rel_err": err})
            print(f"| {name} | {seed} | {_fmt([m.get('D_stsp')])} | {_fmt([m.get('D_H')])} | "
                  f"{_fmt([m.get('PE')], '.2e')} | {_fmt([lam])} | {lam_sys:.3f} | "
                  f"{_fmt([err], '.0f')} % | {m.get('epochs')} "
                  f"({m.get('selected_epoch')}) | {_fmt([m.get('train_seconds')], '.0f')} |",
                  flush=True)
        lit = "" if lam_lit is None else f", literature {lam_lit}"
        summary.append(
            f"| {name} | {len(rows)} | {_fmt([r.get('D_stsp') for r in rows])} | "
            f"{_fmt([r.get('D_H') for r in rows])} | "
            f"{_fmt([r.get('lambda_max') for r in rows])} | {lam_sys:.3f}{lit} | "
            f"{_fmt([r['rel_err'] for r in rows], '.0f')} % | {floor:.3f} |")
    print("\n| case | seeds | D_stsp median [worst] | D_H median [worst] | λ_max model "
          "median [max] | λ_max system | rel. error median [worst] | D_stsp data floor |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(summary))
    print("target: D_H <= 0.2 and lambda_max within 20 % on l96-10")
    print(f"runs in {outdir}")


if __name__ == "__main__":
    main()
