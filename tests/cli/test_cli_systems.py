"""``attractor systems ...``: JSON contract, simulation, Lyapunov exponents, errors."""

from __future__ import annotations

import json

import numpy as np


def test_list_json(run_cli, capsys) -> None:
    code, out, _ = run_cli(["systems", "list", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)
    native = [r for r in rows if r["source"] == "native"]
    assert len(native) >= 30
    for row in rows:
        assert {"name", "dim", "kind", "source"} <= set(row)
        assert row["kind"] in ("flow", "map", "delay", "pde")
    assert "lorenz63" in {r["name"] for r in rows}


def test_show_json(run_cli, capsys) -> None:
    code, out, _ = run_cli(["systems", "show", "lorenz63", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["dim"] == 3 and doc["params"]["rho"] == 28.0


def test_simulate_writes_float64(run_cli, tmp_path, capsys) -> None:
    path = tmp_path / "x.npy"
    png = tmp_path / "x.png"
    code, _, err = run_cli(
        [
            "systems",
            "simulate",
            "rossler",
            "--steps",
            "500",
            "--ics",
            "3",
            "--seed",
            "2",
            "--out",
            str(path),
            "--plot",
            str(png),
        ],
        capsys,
    )
    assert code == 0, err
    x = np.load(path)
    assert x.shape == (3, 500, 3) and x.dtype == np.float64 and np.isfinite(x).all()
    assert png.stat().st_size > 1000


def test_lyapunov_lorenz63_within_3_percent(run_cli, capsys) -> None:
    code, out, err = run_cli(["systems", "lyapunov", "lorenz63", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert abs(doc["max"] - 0.9056) / 0.9056 < 0.03
    assert abs(sum(doc["spectrum"]) + (10 + 1 + 8 / 3)) < 0.05


def test_unknown_system_is_one_line_exit_2(run_cli, capsys) -> None:
    code, _, err = run_cli(["systems", "show", "lorenz36"], capsys)
    assert code == 2
    assert err.startswith("error:") and err.count("\n") == 1 and "lorenz" in err


def test_lyapunov_of_a_non_autonomous_system_is_refused_with_its_reference(run_cli, capsys) -> None:
    code, _, err = run_cli(["systems", "lyapunov", "ecgsyn"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "non-autonomous" in err and "[0.0, -1.0, -1.0]" in err
