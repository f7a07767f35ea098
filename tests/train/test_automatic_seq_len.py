"""``seq_len="auto"``: the teacher-forcing window from the data's oscillation period, recorded,
refused with the overriding flag named when out of range."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.errors import InputError
from attractor.train.objective import make_objective
from attractor.train.teacher_forcing import DEFAULT_SEQ_LEN, SEQ_LEN_PERIODS, automatic_seq_len


def _sines(period: int, n: int = 20_000) -> np.ndarray:
    t = np.arange(n)
    return np.stack([np.sin(2 * np.pi * t / period), np.cos(2 * np.pi * t / period)], 1)


@pytest.mark.parametrize("period", [4, 6, 40, 80, 300])
def test_the_window_spans_a_fixed_number_of_periods(period: int) -> None:
    n, how = automatic_seq_len([_sines(period)])
    assert n == round(SEQ_LEN_PERIODS * period)
    assert f"{period}" in how


def test_the_longest_series_decides_and_noise_gives_the_default() -> None:
    assert automatic_seq_len([_sines(40, 500), _sines(80)])[0] == round(SEQ_LEN_PERIODS * 80)
    white = np.random.default_rng(0).standard_normal((5000, 2))
    assert automatic_seq_len([white])[0] == DEFAULT_SEQ_LEN


def test_lorenz63_keeps_the_papers_window() -> None:
    from attractor.dsr import system_data

    x = system_data("lorenz63", n_train=50_000, n_test=100, noise=0.05).train
    n, _ = automatic_seq_len(x)
    assert abs(n - 200) <= 15  # 2.5 x ~81 samples: the GTF paper's 200


def test_prepare_resolves_and_records_it() -> None:
    objective = make_objective("gtf", alpha=0.2, seq_len="auto")
    with pytest.raises(InputError, match="prepare"):
        _ = objective.window
    ready = objective.prepare([_sines(80)])
    assert ready.seq_len == 200 and ready.window == 201
    assert ready.derived()["seq_len"].startswith("200 (2.5 x")
    assert ready.describe()["derived"] == ready.derived()
    assert "derived" not in make_objective("gtf", alpha=0.2).prepare([_sines(80)]).describe()


@pytest.mark.parametrize(("period", "rows", "match"), [
    (1000, 20_000, r"automatic --seq-len 2500 .* outside \[10, 2000\]; set --seq-len N"),
    (3, 20_000, r"automatic --seq-len 8 .* outside \[10, 2000\]"),
])
def test_an_automatic_window_out_of_range_names_the_flag(period: int, rows: int,
                                                         match: str) -> None:
    with pytest.raises(InputError, match=match):
        automatic_seq_len([_sines(period, rows)])


def test_an_automatic_window_longer_than_the_data_names_the_flag() -> None:
    with pytest.raises(InputError, match=r"needs 501 rows.*has 450; set --seq-len N"):
        automatic_seq_len([_sines(200, 450)])
