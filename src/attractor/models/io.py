"""Save and load models as a directory: ``config.json`` plus equinox-serialised weights.

Layout of a model directory::

    config.json   {"attractor_version", "model": {...config...}, "metadata": {...}}
    weights.eqx   equinox leaf serialisation (no pickle); loads on CPU whatever trained it

``metadata`` holds what the caller needs to use the model on raw data, such as the data
standardisation (``{"standardizer": {...}}``) and the time step ``dt``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import equinox as eqx
import jax

from attractor import __version__
from attractor.errors import InputError
from attractor.models.base import DynamicsModel
from attractor.models.registry import build_model, config_from_dict

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.eqx"


def save_model(
    directory: str | Path, model: DynamicsModel, metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``model`` (and JSON-ready ``metadata``) to ``directory``; returns the directory."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "attractor_version": __version__,
        "model": model.config.to_dict(),
        "metadata": metadata or {},
    }
    tmp = out / (CONFIG_FILE + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(out / CONFIG_FILE)
    tmp_w = out / (WEIGHTS_FILE + ".tmp")
    eqx.tree_serialise_leaves(tmp_w, model)
    tmp_w.replace(out / WEIGHTS_FILE)
    return out


def load_model(directory: str | Path) -> tuple[DynamicsModel, dict[str, Any]]:
    """Read a model directory written by :func:`save_model`; returns ``(model, metadata)``."""
    path = Path(directory)
    config_path = path / CONFIG_FILE
    weights_path = path / WEIGHTS_FILE
    if not config_path.is_file():
        raise InputError(f"{path}: not a model directory (no {CONFIG_FILE})")
    if not weights_path.is_file():
        raise InputError(f"{path}: {WEIGHTS_FILE} is missing")
    try:
        payload = json.loads(config_path.read_text())
        config = config_from_dict(payload["model"])
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise InputError(f"{config_path}: unreadable model config ({err})") from None
    except InputError as err:
        raise InputError(f"{config_path}: {err}") from None
    skeleton = build_model(config, key=jax.random.PRNGKey(0))
    try:
        with jax.default_device(jax.devices("cpu")[0]):
            model = eqx.tree_deserialise_leaves(weights_path, skeleton)
    except Exception as err:  # truncated, foreign or mismatched weights
        raise InputError(
            f"{weights_path}: weights do not match the config in {CONFIG_FILE} "
            f"({type(err).__name__})"
        ) from None
    metadata = payload.get("metadata", {})
    if not isinstance(metadata, dict):
        raise InputError(f"{config_path}: 'metadata' must be an object")
    return model, metadata
