"""The PyTorch step timed by ``benchmarks/train_step_speed.py`` computes what attractor's does.

Same parameters and batch: the GTF losses agree to 1e-5 and the gradients to 1e-4 (relative); a
few full updates (clipping + RAdam) keep the parameters together. A perturbed copy must fail the
check. Skipped when torch (benchmark extra only) is missing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "train_step_speed.py"


@pytest.fixture(scope="module")
def bench():
    import torch

    # Tiny ops: one thread is the fastest, and two spin-waiting OpenMP threads on a busy 2-core
    # machine can make a single backward pass take seconds.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("train_step_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    yield module
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data(bench) -> np.ndarray:
    return bench.lorenz63_data(n=1_000, transient=200)


def test_loss_gradients_and_updates_agree(bench, data) -> None:
    result = bench.check_equivalence(data, seed=0, n_updates=8)
    assert result["loss_rel_err"] <= 1e-5
    assert max(result["grad_rel_err"].values()) <= 1e-4
    assert result["update_param_rel_err_momentum"] <= 1e-4
    assert result["passed"], result


def test_a_perturbed_torch_model_fails_the_check(bench, data) -> None:
    import torch

    model = bench.jax_model(1)
    torch_model = bench.TorchShPLRNN.from_jax(model)
    with torch.no_grad():
        torch_model.W1[0, 0] += 1e-3
    batch = data[None, : bench.SEQ_LEN + 1].repeat(4, axis=0)
    result = bench.compare_loss_and_grads(model, torch_model, batch)
    assert not result["passed"]
    # and the unperturbed copy passes on the same batch
    assert bench.compare_loss_and_grads(model, bench.TorchShPLRNN.from_jax(model), batch)["passed"]
