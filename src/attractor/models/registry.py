"""The model registry: a model registers its name, family, config, recommended training — once.

A model file ends its class definition with :func:`register`::

    @register("shplrnn", family="plrnn", description="...", recipe=Recipe(objective="agtf"))
    class ShPLRNN(LatentPLRNN): ...

The registry imports every module of the :mod:`attractor.models` package on first use, so the
decorator is the whole registration; the CLI (flags, help, ``attractor models list``), the
estimator and the docs read everything else from here. Adding a model touches its own file and
its tests only.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

import jax

from attractor.errors import InputError

#: Models larger than this are refused before any memory is allocated.
MAX_PARAMETERS = 200_000_000


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Recommended training of a model: what the CLI and the estimator use unless told otherwise.

    Attributes:
        objective: name of the training objective (see ``attractor.train.objectives``).
        epochs: training epochs (of ``batches_per_epoch`` updates each; ignored by closed-form
            objectives).
        grad_clip: global-norm gradient clipping, ``None`` for none.
        lr_start, lr_end: learning rate, decayed exponentially per epoch.
        defaults: hyperparameter defaults that differ from the config's (e.g. a wider hidden
            layer). ``latent_dim`` defaults to the data dimension, or to the recipe's value when
            that is larger.
        objective_options: keyword arguments of the objective (e.g. ``{"alpha": 1e-6}``).
    """

    objective: str = "agtf"
    epochs: int = 800
    grad_clip: float | None = 10.0
    lr_start: float = 1e-3
    lr_end: float = 1e-5
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)
    objective_options: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One registered model."""

    name: str
    family: str
    config_cls: type
    model_cls: type
    description: str
    recipe: Recipe

    def hyperparameters(self) -> dict[str, Any]:
        """Hyperparameter names and their defaults (recipe defaults override the config's)."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self.config_cls):
            if field.name == "obs_dim":
                continue
            if field.default is not dataclasses.MISSING:
                out[field.name] = field.default
            elif field.default_factory is not dataclasses.MISSING:
                out[field.name] = field.default_factory()
        out.update(self.recipe.defaults)
        return out

    def to_dict(self) -> dict[str, Any]:
        from attractor.models.capabilities import capabilities

        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "capabilities": capabilities(self.model_cls),
            "hyperparameters": self.hyperparameters(),
            "recipe": self.recipe.to_dict(),
        }


_REGISTRY: dict[str, ModelSpec] = {}
_LOADED = {"done": False}


def register(
    name: str, *, family: str, description: str, recipe: Recipe | None = None
) -> Callable[[type], type]:
    """Class decorator: register a model class under ``name`` (its config is ``config``'s type)."""

    def decorate(model_cls: type) -> type:
        config_cls = _resolve_config(model_cls)
        if getattr(config_cls, "name", None) != name:
            raise TypeError(f"{model_cls.__name__}: config name {config_cls.name!r} != {name!r}")
        _REGISTRY[name] = ModelSpec(
            name, family, config_cls, model_cls, description, recipe or Recipe()
        )
        return model_cls

    return decorate


def _resolve_config(model_cls: type) -> type:
    import typing

    hints = typing.get_type_hints(model_cls)
    return hints["config"]


def _load_builtins() -> None:
    """Import every module of the models package (their decorators register the models)."""
    if not _LOADED["done"]:
        _LOADED["done"] = True
        import attractor.models as package

        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")


def model_names() -> list[str]:
    """Names of the registered models, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def model_specs() -> list[ModelSpec]:
    """Every registered model's spec, sorted by family then name."""
    _load_builtins()
    return sorted(_REGISTRY.values(), key=lambda s: (s.family, s.name))


def get_spec(name: str) -> ModelSpec:
    """The spec of model ``name``; unknown names raise :class:`InputError` with suggestions."""
    _load_builtins()
    key = str(name).lower()
    if key in _REGISTRY:
        return _REGISTRY[key]
    close = difflib.get_close_matches(key, list(_REGISTRY), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise InputError(f"unknown model {name!r}{hint} (choose one of {', '.join(model_names())})")


def models_with(capability: str) -> list[str]:
    """Names of the registered models that have ``capability``."""
    from attractor.models.capabilities import capabilities

    return [s.name for s in model_specs() if capability in capabilities(s.model_cls)]


def make_config(name: str, **hyperparameters: Any) -> Any:
    """Config of model ``name`` from ``obs_dim`` and hyperparameters.

    Hyperparameters not given take the recipe's defaults, then the config's; ``latent_dim``
    defaults to ``obs_dim`` when neither sets it. Unknown names raise :class:`InputError`.
    """
    spec = get_spec(name)
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(hyperparameters) - known)
    if unknown:
        raise InputError(
            f"model {spec.name!r} has no hyperparameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known - {'obs_dim'}))}"
        )
    values = {k: v for k, v in spec.recipe.defaults.items() if k in known}
    obs_dim = hyperparameters.get("obs_dim")
    if "latent_dim" in known and "latent_dim" not in hyperparameters and obs_dim is not None:
        # A recipe's latent_dim is a minimum: the identity observation reads out obs_dim units.
        values["latent_dim"] = max(values.get("latent_dim", 0), obs_dim)
    values.update(hyperparameters)
    return spec.config_cls(**values)


def build_model(config: Any, *, key: jax.Array) -> Any:
    """A freshly initialised model for ``config``; refuses sizes that would not fit in memory."""
    spec = get_spec(config.name)
    shapes = jax.eval_shape(lambda k: spec.model_cls(config, key=k), key)
    n_params = sum(int(leaf.size) for leaf in jax.tree_util.tree_leaves(shapes))
    if n_params > MAX_PARAMETERS:
        raise InputError(
            f"model {config.name!r} with these hyperparameters has {n_params:.3g} parameters "
            f"(~{n_params * 4 / 2**30:.1f} GiB in float32); the limit is {MAX_PARAMETERS:.0e}"
        )
    return spec.model_cls(config, key=key)


def config_from_dict(data: dict[str, Any]) -> Any:
    """Inverse of ``ModelConfig.to_dict``."""
    if not isinstance(data, dict) or "model" not in data:
        raise InputError("a model config needs a 'model' name")
    data = dict(data)
    name = data.pop("model")
    spec = get_spec(name)
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"model {name!r} has no hyperparameter(s) {', '.join(unknown)}")
    return spec.config_cls(**data)
