"""Models: one contract (:class:`DynamicsModel`), opt-in capabilities, one registry.

Every model has ``init_state(context)``, ``step(state, u=None)`` and ``observe(state)``; free runs
and forecasts are written once on top of them (:mod:`attractor.models.base`). Capabilities
(teacher forcing, Jacobians, piecewise-linear regions, closed-form readouts) are declared by
mixins (:mod:`attractor.models.capabilities`). :func:`model_names` lists the registered models.
"""

from attractor.models.alrnn import ALRNN, ALRNNConfig
from attractor.models.base import DynamicsModel, ModelConfig, default_trainable, parameter_count
from attractor.models.capabilities import (
    CAPABILITIES,
    Constrained,
    HasJacobian,
    PiecewiseLinear,
    ReadoutOnly,
    Regularized,
    TeacherForceable,
    capabilities,
    require,
)
from attractor.models.dendplrnn import DendPLRNN, DendPLRNNConfig
from attractor.models.generate import checked_forecast, checked_simulate
from attractor.models.io import load_model, save_model
from attractor.models.observation import AffineObservation, IdentityObservation
from attractor.models.plrnn import PLRNN, PLRNNConfig
from attractor.models.plrnn_family import LatentConfig, LatentPLRNN
from attractor.models.registry import (
    ModelSpec,
    Recipe,
    build_model,
    config_from_dict,
    get_spec,
    make_config,
    model_names,
    model_specs,
    models_with,
    register,
)
from attractor.models.shplrnn import ShPLRNN, ShPLRNNConfig

__all__ = [
    "ALRNN",
    "CAPABILITIES",
    "PLRNN",
    "ALRNNConfig",
    "AffineObservation",
    "Constrained",
    "DendPLRNN",
    "DendPLRNNConfig",
    "DynamicsModel",
    "HasJacobian",
    "IdentityObservation",
    "LatentConfig",
    "LatentPLRNN",
    "ModelConfig",
    "ModelSpec",
    "PLRNNConfig",
    "PiecewiseLinear",
    "ReadoutOnly",
    "Recipe",
    "Regularized",
    "ShPLRNN",
    "ShPLRNNConfig",
    "TeacherForceable",
    "build_model",
    "capabilities",
    "checked_forecast",
    "checked_simulate",
    "config_from_dict",
    "default_trainable",
    "get_spec",
    "load_model",
    "make_config",
    "model_names",
    "model_specs",
    "models_with",
    "parameter_count",
    "register",
    "require",
    "save_model",
]
