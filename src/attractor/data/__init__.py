"""Data layer: load and validate time series, hold trajectories, standardise them, draw training
batches, estimate the sparse-teacher-forcing interval, delay-embed scalar recordings, smooth
noisy ones (Savitzky–Golay, window by cross-validation) and record a synthetic ECG (ECGSYN).

Arrays are time-first: one trajectory is ``(T, D)``; a list of arrays is several trajectories.

The names below are imported on first use: reading a file (:mod:`attractor.data.io`) needs
only NumPy, and the CLI's input checks should not pay for importing JAX (batching) and SciPy
(the interval estimates) first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attractor.data.batching import SubsequenceSampler
    from attractor.data.dataset import TimeSeriesDataset, is_trajectory_list
    from attractor.data.denoise import choose_window, savitzky_golay
    from attractor.data.ecg import ecg_recording
    from attractor.data.embedding import DelayEmbedding, choose_embedding, delay_embed
    from attractor.data.embedding_dimension import CaoCurves, cao, false_nearest_neighbours
    from attractor.data.io import (
        SUPPORTED_SUFFIXES,
        load_many,
        load_series,
        read_text_table,
        save_series,
        validate_series,
    )
    from attractor.data.standardize import Standardizer
    from attractor.data.tau import (
        IntervalEstimates,
        autocorrelation,
        decay_lag,
        delayed_mutual_information,
        estimate_forcing_interval,
        first_local_minimum,
        forcing_interval_estimates,
    )

_MODULE_OF = {
    "SubsequenceSampler": "batching",
    "TimeSeriesDataset": "dataset",
    "is_trajectory_list": "dataset",
    "DelayEmbedding": "embedding",
    "choose_embedding": "embedding",
    "delay_embed": "embedding",
    "CaoCurves": "embedding_dimension",
    "cao": "embedding_dimension",
    "false_nearest_neighbours": "embedding_dimension",
    "choose_window": "denoise",
    "savitzky_golay": "denoise",
    "ecg_recording": "ecg",
    "SUPPORTED_SUFFIXES": "io",
    "load_many": "io",
    "load_series": "io",
    "read_text_table": "io",
    "save_series": "io",
    "validate_series": "io",
    "Standardizer": "standardize",
    "IntervalEstimates": "tau",
    "autocorrelation": "tau",
    "decay_lag": "tau",
    "delayed_mutual_information": "tau",
    "estimate_forcing_interval": "tau",
    "first_local_minimum": "tau",
    "forcing_interval_estimates": "tau",
}


def __getattr__(name: str) -> Any:
    if name in _MODULE_OF:
        value = getattr(importlib.import_module(f"attractor.data.{_MODULE_OF[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'attractor.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


__all__ = [
    "SUPPORTED_SUFFIXES",
    "CaoCurves",
    "DelayEmbedding",
    "IntervalEstimates",
    "Standardizer",
    "SubsequenceSampler",
    "TimeSeriesDataset",
    "autocorrelation",
    "cao",
    "choose_embedding",
    "choose_window",
    "decay_lag",
    "delay_embed",
    "delayed_mutual_information",
    "ecg_recording",
    "estimate_forcing_interval",
    "false_nearest_neighbours",
    "first_local_minimum",
    "forcing_interval_estimates",
    "is_trajectory_list",
    "load_many",
    "load_series",
    "read_text_table",
    "save_series",
    "savitzky_golay",
    "validate_series",
]
