"""`attractor analyze` in-process: every analysis on a small model directory, files and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest

from attractor.data.standardize import Standardizer
from attractor.models import build_model, make_config, save_model

SMALL = ["--steps", "600", "--starts", "64", "--lyapunov-steps", "500", "--dictionary-size",
         "20", "--json"]


def model_dir(root: Path, name: str, **hyper) -> Path:
    data = np.random.default_rng(1).normal(size=(400, 3)) * [8, 9, 8] + [0, 0, 24]
    net = build_model(make_config(name, obs_dim=3, **hyper), key=jax.random.PRNGKey(0))
    meta = {
        "standardizer": Standardizer().fit(data).to_dict(),
        "dt": 0.01,
        "data": {"system": "lorenz63", "n_train": 2000, "n_test": 1000, "noise": 0.05,
                 "dt": 0.01},
        "seed": 0,
        "x0": data[0].tolist(),
    }
    return save_model(root / name, net, meta)


@pytest.mark.parametrize("lyapunov", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_every_analysis_of_a_piecewise_linear_model(
    run_cli, lyapunov: bool, tmp_path, capsys
) -> None:
    """All analyses with their files and figures; the Lyapunov comparison (also tested on its
    own, test_lyapunov.py) only in the slow run."""
    directory = model_dir(tmp_path, "alrnn", latent_dim=4, n_pwl=2)
    out = tmp_path / "analysis"
    code, stdout, err = run_cli(
        ["analyze", str(directory), "--fixed-points", "--cycles", "2", "--symbolic", "--koopman",
         *(["--lyapunov"] if lyapunov else []), "--out", str(out), *SMALL], capsys)
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["fixed_point_method"] == "enumeration"
    for point in doc["fixed_points"]:
        assert {"latent", "observation", "observation_standardized", "eigenvalues",
                "n_unstable", "stable"} <= set(point)
        assert len(point["observation"]) == 3
    assert len(doc["system_fixed_points"]) == 3  # Lorenz-63's equilibria, found on the flow
    assert len(doc["fixed_point_matches"]) == 3
    assert "2" in doc["cycles"] and doc["symbolic"]["n_regions"] >= 1
    assert doc["koopman"]["eigenvalues"]
    assert json.loads((out / "analysis.json").read_text()) == doc
    files = ["fixed_points.csv", "system_fixed_points.csv", "cycles.csv", "fixed_points.png",
             "eigenvalues.png", "cycles.png", "symbolic.png", "koopman.png"]
    if lyapunov:
        assert doc["lyapunov"]["system"]["system"] == "lorenz63"
        files += ["lyapunov.csv", "lyapunov.png"]
    for name in files:
        assert (out / name).is_file(), name


@pytest.mark.slow
def test_gru_fixed_points(run_cli, tmp_path, capsys) -> None:
    directory = model_dir(tmp_path, "gru", hidden_dim=6, context_length=3)
    out = tmp_path / "gru-analysis"
    code, stdout, err = run_cli(
        ["analyze", str(directory), "--fixed-points", "--out", str(out), "--no-plots", *SMALL],
        capsys)
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["fixed_point_method"] == "speed"
    assert all(p["speed"] <= 1e-14 and p["region"] is None for p in doc["fixed_points"])


def test_symbolic_dynamics_of_a_gru_is_refused(run_cli, tmp_path, capsys) -> None:
    directory = model_dir(tmp_path, "gru", hidden_dim=6, context_length=3)
    code, stdout, err = run_cli(
        ["analyze", str(directory), "--symbolic", "--out", str(tmp_path / "x"), "--json"], capsys)
    assert code == 2 and "piecewise_linear" in err and "error" in json.loads(stdout)
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.partial").exists()
