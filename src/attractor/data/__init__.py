"""Data layer: load and validate time series, hold trajectories, standardise them, draw training
batches and estimate the sparse-teacher-forcing interval.

Arrays are time-first: one trajectory is ``(T, D)``; a list of arrays is several trajectories.
"""

from __future__ import annotations

from attractor.data.batching import SubsequenceSampler
from attractor.data.dataset import TimeSeriesDataset, is_trajectory_list
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

__all__ = [
    "SUPPORTED_SUFFIXES",
    "IntervalEstimates",
    "Standardizer",
    "SubsequenceSampler",
    "TimeSeriesDataset",
    "autocorrelation",
    "decay_lag",
    "delayed_mutual_information",
    "estimate_forcing_interval",
    "first_local_minimum",
    "forcing_interval_estimates",
    "is_trajectory_list",
    "load_many",
    "load_series",
    "read_text_table",
    "save_series",
    "validate_series",
]
