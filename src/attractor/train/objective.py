"""Training objectives: what a model is trained to do, as strategy objects the loop calls.

The loop (:func:`attractor.train.loop.train`) knows no objective by name. It asks a
:class:`GradientObjective` how long its training windows are, for its initial state (a pytree the
loop carries, checkpoints and resumes exactly: e.g. aGTF's alpha), its loss on a batch, and how to
update its state; a :class:`ClosedFormObjective` solves for the model in one call instead.

Objectives are frozen dataclasses, so they are hashable, can be closed over by ``jit``, and
:meth:`Objective.describe` gives the JSON record saved with a model.

Built in (by name, for the CLI and recipes; :func:`make_objective`):

- ``gtf`` / ``agtf`` / ``stf`` — generalized, adaptive-generalized and sparse teacher forcing
  (:mod:`attractor.train.teacher_forcing`);
- ``onestep`` — classical one-step teacher forcing (every step forced fully);
- ``freerun`` — free-running multi-step prediction after a warm-up (BPTT through the closed loop;
  :mod:`attractor.train.free_running`);
- ``ridge`` — closed-form ridge regression of a readout (:mod:`attractor.train.ridge`).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from attractor.errors import InputError


@dataclasses.dataclass(frozen=True)
class Objective:
    """Base of every objective."""

    #: the objective's name in :func:`make_objective` and in saved records
    name: str = dataclasses.field(default="", init=False)

    def check(self, model: Any) -> None:  # noqa: B027 - optional hook
        """Raise :class:`InputError` if ``model`` cannot be trained this way."""

    def prepare(self, series: Sequence[np.ndarray]) -> Objective:
        """This objective with data-dependent settings resolved (e.g. an STF interval)."""
        return self

    def derived(self) -> dict[str, str]:
        """Settings :meth:`prepare` read from the data: name -> value and how it was derived."""
        return {}

    def describe(self) -> dict[str, Any]:
        """JSON-ready settings (saved with the model, compared on ``--resume``)."""
        out = {"objective": self.name}
        for field in dataclasses.fields(self):
            if field.name == "name":
                continue
            value = getattr(self, field.name)
            out[field.name] = value.describe() if hasattr(value, "describe") else value
        return out


@dataclasses.dataclass(frozen=True)
class GradientObjective(Objective):
    """An objective minimised by gradient steps on random windows of the training data."""

    @property
    @abc.abstractmethod
    def window(self) -> int:
        """Rows per training window (the sampler draws windows of this length)."""

    def init_state(self) -> Any:
        """The objective's own state (a pytree of arrays; default: none)."""
        return ()

    @abc.abstractmethod
    def loss(self, model: Any, batch: jax.Array, state: Any) -> jax.Array:
        """Scalar loss of ``model`` on ``batch`` ``(B, window, N)``."""

    def loss_and_stats(
        self, model: Any, batch: jax.Array, state: Any
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """The loss and scalar statistics of one update, averaged per epoch by the loop and
        logged with :meth:`log_values` (default: none)."""
        return self.loss(model, batch, state), {}

    def update_state(self, state: Any, model: Any, batch: jax.Array, step: jax.Array) -> Any:
        """State before the update number ``step`` on (clean) ``batch``; default: unchanged."""
        return state

    def log_values(self, state: Any) -> dict[str, float]:
        """Scalars worth logging per epoch (e.g. ``{"alpha": 0.3}``)."""
        return {}


@dataclasses.dataclass(frozen=True)
class ClosedFormObjective(Objective):
    """An objective solved in one call (no epochs, no optimiser)."""

    @abc.abstractmethod
    def solve(self, model: Any, series: Sequence[np.ndarray], *, key: jax.Array) -> Any:
        """The fitted model."""


_FACTORIES: dict[str, Callable[..., Objective]] = {}


def register_objective(name: str, factory: Callable[..., Objective]) -> None:
    """Make ``factory(**options)`` available as objective ``name``."""
    _FACTORIES[name] = factory


def objective_names() -> list[str]:
    _load()
    return sorted(_FACTORIES)


def make_objective(name: str, **options: Any) -> Objective:
    """The objective called ``name`` with keyword ``options``; bad names/options raise
    :class:`InputError`."""
    _load()
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise InputError(
            f"unknown training objective {name!r}; choose one of {', '.join(objective_names())}"
        ) from None
    try:
        return factory(**options)
    except TypeError as err:
        raise InputError(f"objective {name!r}: {err}") from None


def _load() -> None:
    # Importing the modules registers their objectives.
    from attractor.train import free_running, ridge, teacher_forcing  # noqa: F401
