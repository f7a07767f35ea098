"""Training as composable strategies: objectives, rollouts, an injectable optimiser, one loop.

>>> from attractor.train import train, make_objective, TrainConfig
>>> result = train(model, x, make_objective("agtf"), config=TrainConfig(epochs=100),
...                key=jax.random.PRNGKey(0))                                # doctest: +SKIP
"""

from attractor.train.forcing import ForcingConfig
from attractor.train.free_running import FreeRunning
from attractor.train.loop import TrainConfig, TrainResult, make_optimizer, train
from attractor.train.objective import (
    ClosedFormObjective,
    GradientObjective,
    Objective,
    make_objective,
    objective_names,
    register_objective,
)
from attractor.train.ridge import Ridge
from attractor.train.rollout import Adjoint, AutoRollout, Rollout, Scan
from attractor.train.teacher_forcing import OneStep, TeacherForcing
from attractor.train.time_parallel import TimeParallel

__all__ = [
    "Adjoint",
    "AutoRollout",
    "ClosedFormObjective",
    "ForcingConfig",
    "FreeRunning",
    "GradientObjective",
    "Objective",
    "OneStep",
    "Ridge",
    "Rollout",
    "Scan",
    "TeacherForcing",
    "TimeParallel",
    "TrainConfig",
    "TrainResult",
    "make_objective",
    "make_optimizer",
    "objective_names",
    "register_objective",
    "train",
]
