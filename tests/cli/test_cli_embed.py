"""`--embed` / `--observe`: a run trained in delay coordinates stores its embedding, and eval,
simulate, analyze and forecast work in those coordinates (in-process, tiny settings; one run
through the installed script). Bad values are in test_bad_inputs.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TINY = ["--n-train", "3000", "--n-test", "2000", "--epochs", "2", "--seq-len", "50",
        "--hidden", "8", "--no-plots"]


def _config(directory: Path) -> dict:
    return json.loads((directory / "config.json").read_text())


def test_lorenz_x_only_embedded_train_eval_simulate_analyze(run_cli, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    code, stdout, err = run_cli(["train", "--system", "lorenz63", "--observe", "0", "--embed",
                                 "auto", "--seed", "1", "--out", str(out), "--json", *TINY],
                                capsys)
    assert code == 0, err
    metrics = json.loads(stdout)  # the embedding line went to stderr
    meta = _config(out)["metadata"]
    emb = meta["embedding"]
    assert f"delay embedding: m={emb['m']} " in err
    assert (emb["m"], emb["input_dim"], emb["m_method"], emb["tau_method"]) == (3, 1, "fnn",
                                                                                "acf-mi")
    assert 14 <= emb["tau"] <= 20 and meta["data"]["observe"] == [0]
    assert _config(out)["model"]["obs_dim"] == 3
    assert len(meta["standardizer"]["mean"]) == 3  # the observed statistics, repeated m times
    assert len(set(meta["standardizer"]["mean"])) == 1

    # eval regenerates x only, embeds it the same way: the same test series, the same PE
    code, stdout, err = run_cli(["eval", str(out), "--json", "--runs", "2"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["PE"] == pytest.approx(metrics["PE"], rel=1e-6)

    # a raw one-column test file is embedded by eval too, and is the same series
    from attractor.dsr.data import system_data

    observed = system_data("lorenz63", n_train=3000, n_test=2000, seed=1, observe=[0])
    np.save(tmp_path / "x.npy", observed.standardizer.inverse_transform(observed.test))
    code, stdout, err = run_cli(["eval", str(out), "--data", str(tmp_path / "x.npy"), "--json",
                                 "--runs", "2"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["PE"] == pytest.approx(metrics["PE"], rel=1e-5)

    gen = tmp_path / "gen.npy"
    code, stdout, err = run_cli(["simulate", str(out), "--steps", "200", "--out", str(gen),
                                 "--json"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["embedding"] == emb
    x = np.load(gen)
    assert x.shape == (200, 3) and np.isfinite(x).all()
    np.testing.assert_allclose(x[0], meta["x0"], atol=1e-4)  # row 0: the embedded test point

    # the model's fixed points live in delay coordinates: no comparison with the flow's
    # equilibria (Lorenz-63 also has 3 coordinates, so only the embedding tells them apart)
    code, stdout, err = run_cli(["analyze", str(out), "--fixed-points", "--steps", "2000",
                                 "--starts", "16", "--no-plots", "--out", str(tmp_path / "a"),
                                 "--json"], capsys)
    assert code == 0, err
    doc = json.loads(stdout)
    assert "fixed_points" in doc and "system_fixed_points" not in doc


def test_forecast_with_a_given_embedding(run_cli, tmp_path, capsys) -> None:
    out = tmp_path / "fc"
    code, stdout, err = run_cli(
        ["forecast", "--system", "lorenz63", "--observe", "0", "--embed", "4,10", "--n-train",
         "1000", "--n-test", "600", "--epochs", "1", "--batch-size", "4", "--horizon", "20",
         "--windows", "2", "--select-every", "off", "--no-plots", "--out", str(out)], capsys)
    assert code == 0, err
    assert "delay embedding: m=4 (given), tau=10 (given); the model sees 4 columns" in stdout
    assert np.load(out / "forecast.npy").shape == (20, 4)
    emb = _config(out)["metadata"]["embedding"]
    assert (emb["m"], emb["tau"], emb["m_method"], emb["scores"]) == (4, 10, "given", [])


def test_embedding_a_file_through_the_installed_script(tmp_path) -> None:
    exe = Path(sys.executable).parent / "attractor"
    t = np.arange(3000) * 0.05
    np.save(tmp_path / "train.npy", np.sin(t) + 0.3 * np.sin(2.7 * t))
    np.save(tmp_path / "test.npy", np.sin(t[:800] + 1) + 0.3 * np.sin(2.7 * t[:800] + 1))
    out = tmp_path / "run"
    proc = subprocess.run(
        [str(exe), "train", "--data", str(tmp_path / "train.npy"), "--test-data",
         str(tmp_path / "test.npy"), "--dt", "0.05", "--embed", "3", "--epochs", "1",
         "--hidden", "8", "--seq-len", "30", "--select-every", "off", "--no-plots", "--out",
         str(out), "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "D_H" in json.loads(proc.stdout)
    emb = _config(out)["metadata"]["embedding"]
    assert (emb["m"], emb["m_method"], emb["tau_method"]) == (3, "given", "acf-mi")
    proc = subprocess.run(
        [str(exe), "eval", str(out), "--data", str(tmp_path / "test.npy"), "--runs", "1",
         "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["D_H"] is not None


@pytest.mark.slow
def test_lorenz_x_only_reconstructed_with_the_defaults(run_cli, tmp_path, capsys) -> None:
    """Issue 11's acceptance run, seed 0, CLI defaults (shPLRNN M=3, aGTF, 800 epochs, 100 000
    noisy points of x only): 385 s wall on the loaded 2-core CPU. Measured 2026-11-29 with
    benchmarks/dsr_cli_runs.py (seeds 0 / 1 / 2): D_H 0.182 / 0.124 / 0.124 (median 0.124,
    the issue's target 0.15), lambda_max 1.10 / 0.93 / 1.00 (true 0.906); the bounds below
    guard this seed against regressions. D_stsp is not checked: in these delay coordinates
    (tau = 17) two clean 100 000-point trajectories are already 0.70 apart (binned, 30
    bins/dim; 0.095 in the state space), and the runs gave 1.35 / 1.45 / 1.25."""
    out = tmp_path / "run"
    code, stdout, err = run_cli(["train", "--system", "lorenz63", "--observe", "0", "--embed",
                                 "auto", "--model", "shplrnn", "--forcing", "agtf", "--seed", "0",
                                 "--no-plots", "--out", str(out), "--json"], capsys)
    assert code == 0, err
    metrics = json.loads(stdout)
    emb = _config(out)["metadata"]["embedding"]
    assert emb["m"] == 3 and 14 <= emb["tau"] <= 20
    assert metrics["D_H"] <= 0.25
    assert 0.7 <= metrics["lambda_max"] <= 1.25
    # the generated delay vectors are consistent: column k is column 0 delayed by k*tau
    gen = tmp_path / "gen.npy"
    code, _, err = run_cli(["simulate", str(out), "--steps", "20000", "--out", str(gen)], capsys)
    assert code == 0, err
    x = np.load(gen)[2_000:]
    for k in (1, 2):
        lag = k * emb["tau"]
        mismatch = np.sqrt(np.mean((x[lag:, k] - x[:-lag, 0]) ** 2)) / x[:, 0].std()
        assert mismatch < 0.05
