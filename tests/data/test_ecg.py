"""The synthetic ECG recording: shape, scale, noise level, seeds, and the baseline wander."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.data import ecg_recording
from attractor.data.ecg import MV_RANGE, to_millivolts
from attractor.errors import InputError

N = 10_000  # 40 s at 250 Hz


def test_clean_recording_is_the_rescaled_z() -> None:
    clean = ecg_recording(N, noise=0.0)
    assert clean.shape == (N, 1) and clean.dtype == np.float64
    assert clean.min() == pytest.approx(MV_RANGE[0]) and clean.max() == pytest.approx(MV_RANGE[1])
    raw = ecg_recording(N, noise=0.0, millivolts=False)
    np.testing.assert_allclose(to_millivolts(raw[:, 0]), clean[:, 0], rtol=1e-12, atol=1e-12)


def test_noise_is_five_percent_and_seeded() -> None:
    clean = ecg_recording(N, noise=0.0)[:, 0]
    a, b = ecg_recording(N, seed=3)[:, 0], ecg_recording(N, seed=3)[:, 0]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, ecg_recording(N, seed=4)[:, 0])
    residual = a - clean
    assert np.std(residual) / np.std(clean) == pytest.approx(0.05, rel=0.05)
    assert abs(np.mean(residual)) < 4 * 0.05 * np.std(clean) / np.sqrt(N)


def test_respiratory_baseline_wander_is_the_filtered_z0() -> None:
    """z₀ = A sin(2π f t), f = 0.25 Hz, enters z' = … − (z − z₀), a first-order low-pass of unit
    rate: the 0.25 Hz line of z has amplitude A / √(1 + (2πf)²), here in mV through the
    recording's rescaling (A = 0.005 model units, the paper's 0.15 mV before that filter)."""

    def line_amplitude(x: np.ndarray, freq: float = 0.25, dt: float = 0.004) -> float:
        t = np.arange(len(x)) * dt
        return float(2.0 * np.abs(np.mean((x - x.mean()) * np.exp(-2j * np.pi * freq * t))))

    steady = {"rr_mayer": 0.0, "rr_rsa": 0.0}  # heart-rate variability off: only z0 at 0.25 Hz
    raw = ecg_recording(N, noise=0.0, millivolts=False, params=steady)[:, 0]
    mv_per_unit = (MV_RANGE[1] - MV_RANGE[0]) / np.ptp(raw)
    expected = 0.005 * mv_per_unit / np.sqrt(1.0 + (2.0 * np.pi * 0.25) ** 2)
    got = line_amplitude(ecg_recording(N, noise=0.0, params=steady)[:, 0])
    assert got == pytest.approx(expected, rel=0.05)
    assert 0.05 < got < 0.1  # mV
    flat = {**steady, "wander": 0.0}
    assert line_amplitude(ecg_recording(N, noise=0.0, params=flat)[:, 0]) < 0.01 * got


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="noise"):
        ecg_recording(10, noise=-0.1)
    with pytest.raises(InputError, match="seed"):
        ecg_recording(10, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no parameter"):
        ecg_recording(10, params={"heartrate": 70.0})
    with pytest.raises(InputError, match="constant"):
        to_millivolts(np.ones(5))
