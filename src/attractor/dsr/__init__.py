"""Dynamical-systems reconstruction workflows: evaluation protocol, whole runs, the DSR estimator.

This layer composes systems, data, models, training and metrics; the CLI calls it.
"""

from attractor.dsr.estimator import DSR
from attractor.dsr.evaluate import count_subregions, evaluate_model, generate_runs

__all__ = ["DSR", "count_subregions", "evaluate_model", "generate_runs"]
