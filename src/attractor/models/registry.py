"""Registry of latent models: name -> (config class, model class)."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

from attractor.errors import InputError
from attractor.models.alrnn import ALRNN, ALRNNConfig
from attractor.models.base import DSRModel, ModelConfig
from attractor.models.dendplrnn import DendPLRNN, DendPLRNNConfig
from attractor.models.plrnn import PLRNN, PLRNNConfig
from attractor.models.shplrnn import ShPLRNN, ShPLRNNConfig

MODELS: dict[str, tuple[type[ModelConfig], type[DSRModel]]] = {
    "plrnn": (PLRNNConfig, PLRNN),
    "dendplrnn": (DendPLRNNConfig, DendPLRNN),
    "shplrnn": (ShPLRNNConfig, ShPLRNN),
    "alrnn": (ALRNNConfig, ALRNN),
}


def model_names() -> list[str]:
    """Names of the registered models."""
    return sorted(MODELS)


def make_config(name: str, **hyperparameters: Any) -> ModelConfig:
    """Config of model ``name``; unknown names or hyperparameters raise :class:`InputError`."""
    config_cls, _ = _lookup(name)
    known = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(hyperparameters) - known)
    if unknown:
        raise InputError(
            f"model {name!r} has no hyperparameter(s) {unknown}; known: {sorted(known)}"
        )
    return config_cls(**hyperparameters)


def build_model(config: ModelConfig, *, key: jax.Array) -> DSRModel:
    """A freshly initialised model for ``config``."""
    _, model_cls = _lookup(config.name)
    return model_cls(config, key=key)


def config_from_dict(data: dict[str, Any]) -> ModelConfig:
    """Inverse of :meth:`ModelConfig.to_dict`."""
    data = dict(data)
    name = data.pop("model")
    return make_config(name, **data)


def _lookup(name: str) -> tuple[type[ModelConfig], type[DSRModel]]:
    try:
        return MODELS[name.lower()]
    except KeyError:
        raise InputError(f"unknown model {name!r}; choose one of {model_names()}") from None
