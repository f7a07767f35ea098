"""Training checkpoints: everything needed to resume a run exactly.

A checkpoint directory holds ``state.eqx`` (equinox leaf serialisation of the model, the optimiser
state, alpha and the PRNG key; no pickle) and ``progress.json`` (epoch, loss history, settings
fingerprint). Files are written to a temporary name and renamed, so a crash mid-write never leaves
a half-written checkpoint behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import equinox as eqx

STATE_FILE = "state.eqx"
PROGRESS_FILE = "progress.json"


def save_checkpoint(directory: str | Path, state: Any, progress: dict[str, Any]) -> Path:
    """Atomically write ``state`` (a pytree) and JSON-ready ``progress`` to ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tmp_state = out / (STATE_FILE + ".tmp")
    eqx.tree_serialise_leaves(tmp_state, state)
    tmp_progress = out / (PROGRESS_FILE + ".tmp")
    tmp_progress.write_text(json.dumps(progress))
    tmp_state.replace(out / STATE_FILE)
    tmp_progress.replace(out / PROGRESS_FILE)
    return out


def has_checkpoint(directory: str | Path) -> bool:
    path = Path(directory)
    return (path / STATE_FILE).is_file() and (path / PROGRESS_FILE).is_file()


def load_checkpoint(directory: str | Path, like: Any) -> tuple[Any, dict[str, Any]]:
    """Read a checkpoint into a pytree shaped like ``like``; returns ``(state, progress)``."""
    path = Path(directory)
    state = eqx.tree_deserialise_leaves(path / STATE_FILE, like)
    progress = json.loads((path / PROGRESS_FILE).read_text())
    return state, progress
