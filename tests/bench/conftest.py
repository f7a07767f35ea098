"""Fixtures of the benchmark-engine tests: tiny suites on cheap systems (maps, no integrator)."""

from __future__ import annotations

import os
from pathlib import Path

import jax
import pytest

#: Two maps × two cheap models × two seeds: 8 tasks of well under a second each.
MINI_SUITE = """
name = "mini"
description = "a tiny suite for the tests"
seeds = [0, 1]
systems = ["henon", "lozi"]
metrics = ["smape", "mase", "vpt_lyapunov", "D_stsp", "D_H"]

[protocol]
kind = "forecast"
n_train = 300
n_test = 200
context = 50
horizon = 20
n_windows = 2

[models.persistence]

[models.nvar]
hyperparameters = { delays = 2, order = 2 }
"""


@pytest.fixture
def suite_file(tmp_path: Path):
    """``suite_file(text=MINI_SUITE, name="mini.toml")`` writes a suite file and returns its path;
    ``suite_file(edit=fn)`` writes ``fn(MINI_SUITE)``."""

    def write(text: str = MINI_SUITE, name: str = "mini.toml", edit=None) -> Path:
        path = tmp_path / name
        path.write_text(edit(MINI_SUITE) if edit is not None else text)
        return path

    return write


@pytest.fixture
def mini_suite(suite_file) -> Path:
    return suite_file()


@pytest.fixture
def shared_compilation_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes started by a test use the test session's XLA compilation cache."""
    cache = jax.config.jax_compilation_cache_dir
    if cache:
        monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(cache))
        monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
    monkeypatch.setenv("JAX_PLATFORMS", os.environ.get("JAX_PLATFORMS", "cpu"))
