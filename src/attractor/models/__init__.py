"""Latent recurrent models for dynamical-systems reconstruction: the PLRNN family.

Every model shares the surface of :class:`DSRModel`; configs are frozen dataclasses.
"""

from attractor.models.alrnn import ALRNN, ALRNNConfig
from attractor.models.base import DSRModel, ModelConfig
from attractor.models.dendplrnn import DendPLRNN, DendPLRNNConfig
from attractor.models.io import load_model, save_model
from attractor.models.observation import AffineObservation, IdentityObservation
from attractor.models.plrnn import PLRNN, PLRNNConfig
from attractor.models.registry import (
    MODELS,
    build_model,
    config_from_dict,
    make_config,
    model_names,
)
from attractor.models.shplrnn import ShPLRNN, ShPLRNNConfig

__all__ = [
    "ALRNN",
    "MODELS",
    "PLRNN",
    "ALRNNConfig",
    "AffineObservation",
    "DSRModel",
    "DendPLRNN",
    "DendPLRNNConfig",
    "IdentityObservation",
    "ModelConfig",
    "PLRNNConfig",
    "ShPLRNN",
    "ShPLRNNConfig",
    "build_model",
    "config_from_dict",
    "load_model",
    "make_config",
    "model_names",
    "save_model",
]
