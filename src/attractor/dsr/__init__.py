"""Runs of the whole workflow: data, the pure fit -> evaluate pipeline, the estimator façade.

This layer composes systems, data, models, training and metrics; the CLI and the benchmarks call
it.
"""

from attractor.dsr.data import PreparedData, file_data, system_data
from attractor.dsr.estimator import DSR
from attractor.dsr.evaluate import count_subregions, evaluate_model, generate_runs
from attractor.dsr.pipeline import RunRecord, RunSpec, fit, run, write_run
from attractor.dsr.selection import BestModelSelector

__all__ = [
    "DSR",
    "BestModelSelector",
    "PreparedData",
    "RunRecord",
    "RunSpec",
    "count_subregions",
    "evaluate_model",
    "file_data",
    "fit",
    "generate_runs",
    "run",
    "system_data",
    "write_run",
]
