"""`attractor forecast` for every registered model (in-process, tiny settings), with its plots and
its JSON through the installed script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attractor.models import model_names

TINY = ["--n-train", "1000", "--n-test", "600", "--epochs", "1", "--batch-size", "4",
        "--horizon", "20", "--windows", "2", "--select-every", "off", "--json"]
KEYS = ("vpt_steps", "vpt_lyapunov", "nrmse", "smape", "D_stsp", "D_H")


#: One model per family in `make test`; every model in `make test-slow`.
QUICK = ("plrnn", "lstm", "esn")
CASES = [
    pytest.param(m, marks=() if m in QUICK else pytest.mark.slow) for m in model_names()
]


@pytest.mark.parametrize("model", CASES)
def test_forecast_lorenz63_every_model(run_cli, model: str, tmp_path, capsys) -> None:
    out = tmp_path / "fc"
    code, stdout, err = run_cli(
        ["forecast", "--system", "lorenz63", "--model", model, "--out", str(out), "--no-plots",
         *TINY], capsys)
    assert code == 0, err
    scores = json.loads(stdout)
    for key in KEYS:
        assert key in scores
    assert 0 <= scores["vpt_steps"] <= 20 and scores["horizon"] == 20
    assert scores["vpt_lyapunov"] == pytest.approx(scores["vpt_steps"] * 0.01 * 0.9056)
    assert json.loads((out / "forecast.json").read_text())["smape"] == scores["smape"]
    assert np.load(out / "forecast.npy").shape == (20, 3)


@pytest.mark.parametrize("model", [
    pytest.param(m, marks=() if m == "alrnn" else pytest.mark.slow) for m in model_names()
])
def test_forecast_lorenz96_with_spacetime_plot(run_cli, model: str, tmp_path, capsys) -> None:
    out = tmp_path / "fc96"
    code, stdout, err = run_cli(
        ["forecast", "--system", "lorenz96", "--model", model, "--out", str(out), *TINY], capsys)
    assert code == 0, err
    scores = json.loads(stdout)
    assert scores["lyapunov_max"] == pytest.approx(1.68)
    assert (out / "forecast.png").is_file() and (out / "spacetime.png").is_file()
    assert np.load(out / "forecast.npy").shape == (20, 40)


def test_forecast_through_the_installed_script(tmp_path) -> None:
    exe = Path(sys.executable).parent / "attractor"
    out = tmp_path / "fc"
    proc = subprocess.run([str(exe), "forecast", "--system", "lorenz63", "--model", "plrnn",
                           "--out", str(out), *TINY], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert set(KEYS) <= set(json.loads(proc.stdout))  # stdout: exactly one JSON document
    again = subprocess.run([str(exe), "forecast", "--system", "lorenz63", "--model", "plrnn",
                            "--out", str(out), *TINY], capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert json.loads(again.stdout)["error"]["type"] == "InputError"
