"""The adaptive settings of a run: batch noise from the data's noise level, patience from the
epochs, the denoising window from cross-validation, all recorded, refused with the overriding
flag named when they cannot work."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from attractor.dsr.adaptive import (
    MIN_PATIENCE_CHECKS,
    MIN_SMOOTHNESS,
    automatic_batch_noise,
    automatic_patience,
    denoise_window,
    resolve_loop_settings,
)
from attractor.dsr.pipeline import RunSpec, _derive_from_data, derived_settings
from attractor.dsr.selection import BestModelSelector
from attractor.errors import InputError


def _sine(n: int = 20_000, period: int = 100, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    clean = np.stack([np.sin(2 * np.pi * t / period), np.cos(2 * np.pi * t / period)], 1)
    return clean + noise * np.random.default_rng(seed).standard_normal(clean.shape)


@pytest.mark.parametrize("noise", [0.02, 0.05, 0.2])
def test_batch_noise_is_the_observation_noise_the_denoising_removed(noise: float) -> None:
    value, how = automatic_batch_noise([_sine(noise=noise)], 11)
    assert value == pytest.approx(noise, rel=0.05)
    assert "second differences" in how and "denoising removed" in how


def test_data_that_are_not_denoised_keep_their_own_noise_and_get_no_more() -> None:
    value, how = automatic_batch_noise([_sine(noise=0.05)], None)
    assert value == 0.0 and "not denoised" in how


def test_clean_data_get_almost_no_batch_noise_and_the_longest_series_decides() -> None:
    # the estimator's floor, the signal's own curvature: ~(2 pi / P)^2 / sqrt(6) = 1.6e-3
    assert automatic_batch_noise([_sine()], 5)[0] < 3e-3
    short_noisy, long_clean = _sine(n=300, noise=0.3), _sine()
    assert automatic_batch_noise([short_noisy, long_clean], 5)[0] < 3e-3


@pytest.mark.parametrize("rough", ["white noise", "henon map"])
def test_data_too_rough_to_separate_noise_from_signal_get_none_and_say_why(rough: str) -> None:
    if rough == "white noise":
        x = np.random.default_rng(1).standard_normal((5000, 2))
    else:
        from attractor.systems import trajectory

        x = trajectory("henon", 5000)
        x = (x - x.mean(0)) / x.std(0)
    value, how = automatic_batch_noise([x], 5)
    assert value == 0.0
    assert f"< {MIN_SMOOTHNESS:g}" in how


def test_closed_form_fits_get_no_batch_noise_and_no_patience() -> None:
    spec, notes = resolve_loop_settings(RunSpec(model="nvar", noise_std="auto"),
                                        [_sine(noise=0.05)], gradient=False)
    assert spec.noise_std == 0.0 and spec.patience is None and notes == {}


def test_patience_is_half_of_the_epochs_in_whole_checks() -> None:
    assert automatic_patience(800, 10)[0] == 400
    assert automatic_patience(2000, 10)[0] == 1000
    assert automatic_patience(805, 10)[0] == 410  # rounded up to a whole check
    assert automatic_patience(30, 2)[0] == MIN_PATIENCE_CHECKS * 2  # never fewer checks
    assert automatic_patience(800, None)[0] is None  # nothing to watch


def test_resolve_fills_in_only_what_is_auto_and_says_how() -> None:
    data = [_sine(noise=0.05)]
    spec, notes = resolve_loop_settings(RunSpec(model="shplrnn", epochs=400, noise_std="auto",
                                                denoise=11), data)
    assert spec.noise_std == pytest.approx(0.05, rel=0.05) and spec.patience == 200
    assert set(notes) == {"batch_noise", "patience"}
    given = RunSpec(model="shplrnn", noise_std=0.1, patience=None)
    same, notes = resolve_loop_settings(given, data)
    assert same == given and notes == {}
    assert spec.train_config().noise_std == spec.noise_std


@pytest.mark.parametrize("patience", [0, -5, 2.5, True, "soon"])
def test_a_bad_patience_is_refused(patience) -> None:
    with pytest.raises(InputError, match="patience"):
        resolve_loop_settings(RunSpec(patience=patience, noise_std=0.0), [_sine()])


def test_patience_without_selection_is_refused() -> None:
    with pytest.raises(InputError, match="--select-every"):
        resolve_loop_settings(RunSpec(patience=50, select_every=None, noise_std=0.0), [_sine()])


def test_an_unresolved_auto_noise_cannot_reach_the_loop() -> None:
    assert RunSpec().train_config().noise_std == 0.0  # the default: opt-in, see adaptive.py
    with pytest.raises(InputError, match="noise_std 'auto'"):
        RunSpec(noise_std="auto").train_config()


def test_the_selector_stops_exactly_when_the_patience_runs_out(monkeypatch) -> None:
    scores = {1: 5.0, 2: 4.0, 3: 4.5, 4: 4.2, 5: 4.1, 6: 3.0}
    monkeypatch.setattr(BestModelSelector, "score", lambda self, epoch: scores[epoch])
    selector = BestModelSelector(np.zeros((10, 2)), every=1, patience=3, probes=0)
    stops = [selector(epoch, epoch, loss=0.0) for epoch in range(1, 6)]
    assert stops == [False, False, False, False, True]  # best at 2; 5 - 2 = 3 epochs without
    assert selector.best_epoch == 2
    patient = BestModelSelector(np.zeros((10, 2)), every=1, probes=0)  # no patience: never stops
    assert not any(patient(epoch, epoch, loss=0.0) for epoch in range(1, 7))
    assert patient.best_epoch == 6


def test_train_config_carries_the_resolved_noise() -> None:
    spec = dataclasses.replace(RunSpec(model="shplrnn"), noise_std=0.07)
    assert spec.train_config().noise_std == 0.07


# ----------------------------------------------------------------------------------- denoising
def _prepared(train: np.ndarray) -> Any:
    from attractor.data.standardize import Standardizer
    from attractor.dsr.data import PreparedData

    std = Standardizer.from_dict({"mean": [0.0, 0.0], "std": [1.0, 1.0]})
    return PreparedData(train=[train.astype(np.float32)], test=_sine(n=2000, noise=0.05, seed=9),
                        standardizer=std, dt=0.01, source={})


def test_denoise_off_and_a_given_window_need_no_choice() -> None:
    assert denoise_window(None, [_sine()]) == (None, None)
    assert denoise_window("off", [_sine()]) == (None, None)
    assert denoise_window(21, [_sine()]) == (21, None)
    with pytest.raises(InputError, match="--denoise takes off, auto or an odd window"):
        denoise_window(20, [_sine()])
    with pytest.raises(InputError, match="longer than the series"):
        denoise_window(301, [_sine(), _sine(n=300)])  # the shortest series bounds the window


def test_denoise_auto_smooths_noisy_data_and_leaves_clean_or_rough_data_alone() -> None:
    window, how = denoise_window("auto", [_sine(noise=0.05)])
    assert window is not None and window > 5 and "cross-validation" in how
    assert denoise_window("auto", [_sine()]) == (
        None, "off: the shortest window wins cross-validation (no noise to remove)")
    white = np.random.default_rng(1).standard_normal((5000, 2))
    window, how = denoise_window("auto", [white])
    assert window is None and how.startswith("off: the data are too rough")


def test_a_run_trains_on_smoothed_data_and_records_the_window() -> None:
    noisy = _sine(noise=0.05)
    data = _prepared(noisy)
    smoothed, spec, derived = _derive_from_data(data, RunSpec(denoise="auto", noise_std="auto"),
                                                gradient=True)
    window = spec.denoise
    assert isinstance(window, int) and f"window {window} samples" in derived["denoise"]
    clean = _sine()
    assert np.sqrt(np.mean((smoothed.train[0] - clean) ** 2)) < 0.5 * 0.05
    assert smoothed.train[0].dtype == np.float32
    assert smoothed.test is data.test and data.train[0] is not smoothed.train[0]  # test untouched
    # the batch noise puts back, as fresh perturbations, the noise the smoothing removed
    assert spec.noise_std == pytest.approx(0.05, rel=0.05)
    assert "denoising removed" in derived["batch_noise"]
    assert spec.resolved(2)["denoise"] == window
    assert "denoise" in derived_settings(data, RunSpec(denoise="auto"))
    _, off, derived = _derive_from_data(data, RunSpec(denoise=None), gradient=True)
    assert off.denoise is None and "denoise" not in derived
    assert RunSpec(denoise="off") == RunSpec(denoise=None)  # a suite file's way to say None
    RunSpec(denoise="off").check_loop_settings()
    _, default, derived = _derive_from_data(data, RunSpec(), gradient=True)
    assert default.denoise == window and "denoise" in derived  # auto is the default


def test_denoise_auto_never_refuses_a_run_it_was_not_asked_for() -> None:
    """As the default, ``auto`` turns itself off on series too short to choose a window, and
    never chooses a window longer than the shortest training series."""
    window, how = denoise_window("auto", [_sine(n=40, noise=0.05)])
    assert window is None and how.startswith("off: the training series are too short")
    window, how = denoise_window("auto", [_sine(noise=0.05), _sine(n=4, noise=0.05)])
    assert window is None and "shortest 4" in how
    long_alone, _ = denoise_window("auto", [_sine(noise=0.2)])
    bounded, how = denoise_window("auto", [_sine(noise=0.2), _sine(n=9, noise=0.2)])
    assert long_alone > 9 and bounded == 9 and "windows 5..9" in how
