"""End-to-end CLI runs of train / eval / simulate on tiny settings, and the error contract."""

from __future__ import annotations

import json

import numpy as np
import pytest

TINY = [
    "--epochs",
    "2",
    "--n-train",
    "3000",
    "--n-test",
    "2000",
    "--seq-len",
    "50",
    "--hidden",
    "8",
    "--no-plots",
]


def test_train_eval_simulate_on_a_system(run_cli, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    code, stdout, err = run_cli(
        [
            "train",
            "--system",
            "lorenz63",
            "--model",
            "shplrnn",
            "--forcing",
            "agtf",
            "--seed",
            "1",
            "--out",
            str(out),
            "--json",
            *TINY,
        ],
        capsys,
    )
    assert code == 0, err
    metrics = json.loads(stdout)  # stdout is exactly one JSON document
    for key in ("D_stsp", "D_H", "PE", "lambda_max"):
        assert key in metrics
    for name in ("config.json", "weights.eqx", "metrics.json"):
        assert (out / name).is_file()
    assert json.loads((out / "metrics.json").read_text())["D_H"] == metrics["D_H"]

    code, stdout, err = run_cli(["eval", str(out), "--json", "--runs", "2"], capsys)
    assert code == 0, err
    again = json.loads(stdout)
    assert again["PE"] == pytest.approx(metrics["PE"], rel=1e-6)  # same regenerated test data

    gen = tmp_path / "gen.npy"
    code, stdout, err = run_cli(["simulate", str(out), "--steps", "500", "--out", str(gen)], capsys)
    assert code == 0, err
    x = np.load(gen)
    assert x.shape == (500, 3) and np.isfinite(x).all()


def test_train_alrnn_on_files_reports_subregions(run_cli, tmp_path, capsys) -> None:
    t = np.arange(3000) * 0.05
    x = np.stack([np.sin(t), np.cos(t), np.sin(2 * t)], axis=1)
    np.save(tmp_path / "a.npy", x)
    out = tmp_path / "al"
    code, stdout, err = run_cli(
        [
            "train",
            "--data",
            str(tmp_path / "a.npy"),
            "--dt",
            "0.05",
            "--model",
            "alrnn",
            "--latent",
            "6",
            "--pwl",
            "2",
            "--forcing",
            "stf",
            "--out",
            str(out),
            "--json",
            "--epochs",
            "2",
            "--seq-len",
            "40",
            "--no-plots",
        ],
        capsys,
    )
    assert code == 0, err
    metrics = json.loads(stdout)
    assert metrics["max_subregions"] == 4  # 2^P with P = 2
    assert metrics["n_subregions"] >= 1


def test_errors_are_one_line_and_exit_2(run_cli, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n4,nan,6\n" + "1,2,3\n" * 50)
    code, stdout, err = run_cli(["train", "--data", str(bad), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "bad.csv" in err and "line 2" in err
    short = tmp_path / "short.npy"
    np.save(short, np.random.default_rng(0).normal(size=(150, 3)))
    code, _, err = run_cli(
        [
            "train",
            "--data",
            str(short),
            "--out",
            str(tmp_path / "o2"),
            "--seq-len",
            "200",
            "--epochs",
            "1",
        ],
        capsys,
    )
    assert code == 2 and "too short" in err
    code, _, err = run_cli(
        ["train", "--system", "lorenz63", "--data", str(short), "--out", str(tmp_path / "o3")],
        capsys,
    )
    assert code == 2 and "exactly one of" in err
    code, _, err = run_cli(["eval", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "not a model directory" in err


def test_seq_len_auto_is_derived_printed_and_saved(run_cli, tmp_path, capsys) -> None:
    out = tmp_path / "auto"
    tiny = [a if a != "50" else "auto" for a in TINY]  # --seq-len auto
    code, stdout, err = run_cli(["train", "--system", "rossler", "--model", "shplrnn", "--out",
                                 str(out), "--json", "--batch-noise", "auto", *tiny], capsys)
    assert code == 0, err
    line = next(x for x in err.splitlines() if x.startswith("derived from the data"))
    n = int(line.split("--seq-len ")[1].split()[0])
    assert 230 <= n <= 260  # 2.5 x Rössler's ~99-sample turn
    run = json.loads((out / "config.json").read_text())["metadata"]["run"]
    assert run["objective"]["seq_len"] == n
    assert run["objective"]["derived"]["seq_len"].startswith(f"{n} (2.5 x")
    # denoising is on by default: the 5 %-noise data are smoothed, and that is said and saved
    line = next(x for x in err.splitlines() if x.startswith("derived from the data: --denoise"))
    window = int(line.split("window ")[1].split()[0])
    assert run["denoise"] == window >= 7 and run["derived"]["denoise"].startswith("Savitzky")
    # ... and --batch-noise auto puts back the noise it removed (5 % of the standardised data)
    line = next(x for x in err.splitlines()
                if x.startswith("derived from the data: --batch-noise"))
    noise = float(line.split("--batch-noise ")[1].split()[0])
    assert 0.045 < noise < 0.055 and run["train"]["noise_std"] == noise


def test_seq_len_auto_out_of_range_is_refused_before_any_work(run_cli, tmp_path, capsys) -> None:
    t = np.arange(20_000)
    slow = np.stack([np.sin(2 * np.pi * t / 1000), np.cos(2 * np.pi * t / 1000)], 1)
    np.save(tmp_path / "slow.npy", slow)
    out = tmp_path / "never"
    code, stdout, err = run_cli(["train", "--data", str(tmp_path / "slow.npy"), "--dt", "0.01",
                                 "--seq-len", "auto", "--out", str(out)], capsys)
    assert code == 2 and stdout == ""
    assert err.strip().splitlines() == [err.strip()]  # one line
    assert "automatic --seq-len 2500" in err and "set --seq-len N" in err
    assert not out.exists()


def test_select_by_d_h_is_recorded_under_its_own_name(run_cli, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    args = [a for a in TINY if a != "--no-plots"]
    code, _, err = run_cli(["train", "--system", "lorenz63", "--select-every", "1", "--select-by",
                            "D_H", "--select-steps", "3000", "--out", str(out), "--json", *args],
                           capsys)
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["validation_epochs"] == [1, 2]
    assert len(metrics["validation_D_H"]) == 2 and "validation_D_stsp" not in metrics
    scores = [s for s in metrics["validation_D_H"] if s is not None]
    assert all(0.0 <= s <= 1.0 for s in scores)  # a Hellinger distance
    config = json.loads((out / "config.json").read_text())
    assert config["metadata"]["run"]["select_by"] == "d_h"
    assert config["metadata"]["run"]["select_steps"] == 3000
    assert (out / "loss.png").is_file()


def test_select_probes_are_opt_in_and_the_eval_always_probes(run_cli, tmp_path, capsys) -> None:
    from attractor.dsr.probes import BASIN_PROBES

    for flag, expected in ((None, 0), ("off", 0), ("8", 8)):
        out = tmp_path / f"run-{flag}"
        extra = [] if flag is None else ["--select-probes", flag]
        code, _, err = run_cli(["train", "--system", "lorenz63", "--select-every", "1", *extra,
                                "--out", str(out), "--json", *TINY], capsys)
        assert code == 0, err
        config = json.loads((out / "config.json").read_text())
        assert config["metadata"]["run"]["select_probes"] == expected
        metrics = json.loads((out / "metrics.json").read_text())
        # the evaluation always probes the test data; selection records what it passed over
        assert metrics["n_probes"] == BASIN_PROBES
        assert 0 <= metrics["settled_probes"] <= BASIN_PROBES
        settled = metrics["validation_settled_probes"]
        assert len(settled) == len(metrics["validation_epochs"])
        assert all(0 <= n <= expected for n in settled)
        assert metrics["attempts"][0]["attempt"] == 0
        assert sum(a["kept"] for a in metrics["attempts"]) == 1
