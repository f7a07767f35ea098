"""Bad inputs through the installed ``attractor`` script, one subprocess per case.

Every case asserts the CLI's error contract: the exit status (2, or 130/143 for signals),
exactly one non-empty stderr line, no traceback anywhere, nothing on stdout except (with
``--json``) exactly one JSON document with an ``"error"`` key, and no file in the case's
directory created, changed or removed.

Adding a case is one line in ``CASES``: ``C(id, argv, match=..., setup=[...])``. ``argv`` is
split like a shell command and runs with the case's own temporary directory as the working
directory; ``setup`` builds files there first (``model()`` copies a valid model directory,
optionally corrupted; ``npy``, ``text``, ``raw`` write data files); ``match`` is a piece of the
expected stderr line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import io
import json
import os
import pickle
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from attractor.cli.signals import GRACE_S

ATTRACTOR = Path(sys.executable).parent / "attractor"
TIMEOUT_S = 120
DYSTS = importlib.util.find_spec("dysts") is not None

Setup = Callable[[Path, Path], None]  # (case directory, valid model directory) -> None


# ------------------------------------------------------------------------------ the case table
@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int = 2
    match: str | None = None
    setup: tuple[Setup, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


def C(
    id: str,
    argv: str,
    *,
    code: int = 2,
    match: str | None = None,
    setup: list[Setup] | tuple[Setup, ...] = (),
    env: dict[str, str] | None = None,
) -> Any:
    case = Case(id, tuple(shlex.split(argv)), code, match, tuple(setup), tuple((env or {}).items()))
    return pytest.param(case, id=id)


def raw(name: str, content: bytes | str) -> Setup:
    def build(tmp: Path, _: Path) -> None:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return build


def text(name: str, content: str) -> Setup:
    return raw(name, content)


def npy(name: str, array: Any) -> Setup:
    def build(tmp: Path, _: Path) -> None:
        np.save(tmp / name, np.asarray(array), allow_pickle=True)

    return build


def directory(name: str) -> Setup:
    def build(tmp: Path, _: Path) -> None:
        (tmp / name).mkdir(parents=True)

    return build


def model(
    name: str = "model",
    *,
    config: Callable[[dict], Any] | None = None,
    config_text: str | None = None,
    weights: bytes | Callable[[bytes], bytes] | None = None,
    remove: tuple[str, ...] = (),
) -> Setup:
    """A copy of the valid model directory, optionally corrupted: ``config`` edits the parsed
    config.json in place, ``config_text`` replaces it, ``weights`` replaces (bytes) or transforms
    (function of the old bytes) weights.eqx, ``remove`` deletes files."""

    def build(tmp: Path, base: Path) -> None:
        target = tmp / name
        shutil.copytree(base, target)
        cfg = target / "config.json"
        if config is not None:
            doc = json.loads(cfg.read_text())
            config(doc)
            cfg.write_text(json.dumps(doc))  # allow_nan: writes NaN/Infinity when asked to
        if config_text is not None:
            cfg.write_text(config_text)
        w = target / "weights.eqx"
        if weights is not None:
            w.write_bytes(weights(w.read_bytes()) if callable(weights) else weights)
        for item in remove:
            (target / item).unlink()

    return build


def set_in(path: str, value: Any) -> Callable[[dict], None]:
    """Edit of a parsed config: ``set_in("model.latent_dim", 1e9)``; value ``...`` deletes."""

    def edit(doc: dict) -> None:
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value

    return edit


def store_of_schema(name: str, version: int) -> Setup:
    """A run store file whose schema table says ``version``."""

    def build(tmp: Path, _: Path) -> None:
        import sqlite3

        db = sqlite3.connect(tmp / name)
        with db:
            db.execute("CREATE TABLE schema (version INTEGER, written_by TEXT)")
            db.execute("INSERT INTO schema VALUES (?, 'attractor 9.9')", (version,))
        db.close()

    return build


SUITE_TOML = """name = "t"
seeds = [0]
systems = ["henon"]
[protocol]
n_train = 300
n_test = 100
context = 20
horizon = 10
[models.nvar]
"""
PICKLE = pickle.dumps({"weights": list(range(2000))})
CSV_NAN = "x,y,z\n1,2,3\n4,nan,6\n" + "1,2,3\n" * 50
GOOD = np.random.default_rng(1).normal(size=(400, 3))
LONG = np.random.default_rng(2).normal(size=(1000, 3))
EMBEDDING = {"kind": "delay_embedding", "m": 3, "tau": 2, "input_dim": 1}

CASES = [
    # --- the entry point and global flags
    C("unknown-command", "frobnicate", match="No such command 'frobnicate'"),
    C("unknown-global-option", "--frob systems list", match="--frob"),
    C("json-before-command", "--json systems list", match="--json"),
    C("debug-after-command", "systems list --debug", match="--debug"),
    C("global-flags-only", "--verbose --debug", match="Missing command"),
    C("version-with-value", "--version=yes", match="--version"),
    C("help-with-value", "--help=1", match="--help"),
    C("empty-command-name", "''", match="No such command"),
    C("subcommand-unknown", "systems frobnicate", match="No such command"),
    C("subcommand-unknown-json", "systems frobnicate --json", match="No such command"),
    C("eval-no-arguments", "eval", match="Missing argument"),
    C("simulate-no-arguments", "simulate", match="Missing"),
    C("demo-epochs-not-a-number", "demo --epochs many", match="--epochs"),
    # --- systems list / show
    C("list-kind-unknown", "systems list --kind chaos", match="--kind must be one of"),
    C("list-kind-no-value", "systems list --kind", match="requires an argument"),
    C("list-source-unknown-json", "systems list --source mine --json", match="--source"),
    C("list-extra-argument", "systems list lorenz63", match="unexpected extra argument"),
    C("show-unknown-system", "systems show lorenz36", match="did you mean"),
    C("show-unknown-system-json", "systems show nope --json", match="unknown system 'nope'"),
    C("show-missing-name", "systems show", match="Missing argument"),
    C("show-empty-name", "systems show ''", match="system"),
    C("show-two-names", "systems show lorenz63 rossler", match="unexpected extra argument"),
    # --- systems simulate: every argument
    C("sim-steps-missing", "systems simulate lorenz63", match="Missing option '--steps'"),
    C("sim-steps-word", "systems simulate lorenz63 --steps abc", match="--steps"),
    C("sim-steps-exponent", "systems simulate lorenz63 --steps 1e10", match="--steps"),
    C("sim-steps-zero", "systems simulate lorenz63 --steps 0", match="--steps"),
    C("sim-steps-negative", "systems simulate lorenz63 --steps -5", match="--steps"),
    C("sim-steps-huge", "systems simulate lorenz63 --steps 10000000000", match="GiB"),
    C("sim-ics-zero", "systems simulate lorenz63 --steps 10 --ics 0", match="--ics"),
    C("sim-ics-huge", "systems simulate lorenz96 --steps 100000 --ics 100000000", match="GiB"),
    C("sim-dt-negative", "systems simulate lorenz63 --steps 10 --dt -1", match="--dt"),
    C("sim-dt-zero", "systems simulate lorenz63 --steps 10 --dt 0", match="--dt"),
    C("sim-dt-nan", "systems simulate lorenz63 --steps 10 --dt nan", match="--dt"),
    C("sim-dt-inf", "systems simulate lorenz63 --steps 10 --dt inf", match="--dt"),
    C("sim-dt-of-a-map", "systems simulate henon --steps 10 --dt 0.5", match="is a map"),
    C("sim-dt-too-large", "systems simulate lorenz63 --steps 10 --dt 1e6", match="--dt"),
    C("sim-seed-without-ics", "systems simulate lorenz63 --steps 10 --seed 3", match="--ics"),
    C("sim-seed-negative", "systems simulate lorenz63 --steps 10 --ics 2 --seed -1", match="seed"),
    C("sim-seed-too-big", "systems simulate lorenz63 --steps 9 --ics 2 --seed 4294967296",
      match="--seed"),  # fmt: skip
    C("sim-unknown-system", "systems simulate lorenz36 --steps 10", match="unknown system"),
    C("sim-out-suffix", "systems simulate lorenz63 --steps 10 --out x.txt", match=".npy"),
    C("sim-out-no-directory", "systems simulate lorenz63 --steps 10 --out no/x.npy",
      match="does not exist"),  # fmt: skip
    C("sim-out-exists", "systems simulate lorenz63 --steps 10 --out x.npy", match="--overwrite",
      setup=[npy("x.npy", GOOD)]),  # fmt: skip
    C("sim-out-is-directory", "systems simulate lorenz63 --steps 10 --out d.npy",
      match="is a directory", setup=[directory("d.npy")]),  # fmt: skip
    C("sim-plot-exists", "systems simulate lorenz63 --steps 10 --plot p.png",
      match="--overwrite", setup=[raw("p.png", b"\x89PNG old")]),  # fmt: skip
    C("sim-plot-suffix", "systems simulate lorenz63 --steps 10 --plot p.jpgx", match="--plot"),
    C("sim-json-out-exists", "systems simulate lorenz63 --steps 10 --out x.npy --json",
      setup=[npy("x.npy", GOOD)], match="--overwrite"),  # fmt: skip
    # --- systems lyapunov
    C("lyap-unknown-system", "systems lyapunov lorenz36", match="unknown system"),
    C("lyap-exponents-zero", "systems lyapunov lorenz63 --exponents 0", match="--exponents"),
    C("lyap-exponents-too-many", "systems lyapunov lorenz63 --exponents 4", match="dimension 3"),
    C("lyap-steps-zero", "systems lyapunov lorenz63 --steps 0", match="--steps"),
    C("lyap-steps-word", "systems lyapunov lorenz63 --steps many", match="--steps"),
    C("lyap-steps-too-many", "systems lyapunov lorenz63 --steps 9000000000", match="2**31"),
    C("lyap-delay-system", "systems lyapunov mackey_glass --json", match="delay system"),
    C("lyap-extra-argument", "systems lyapunov lorenz63 --json extra", match="extra argument"),
    # --- eval: arguments and data files
    C("eval-missing-directory", "eval nowhere", match="not a model directory"),
    C("eval-missing-directory-json", "eval nowhere --json", match="not a model directory"),
    C("eval-file-not-directory", "eval notes.txt", setup=[text("notes.txt", "hi")],
      match="not a model directory"),  # fmt: skip
    C("eval-runs-zero", "eval model --runs 0", setup=[model()], match="--runs"),
    C("eval-runs-negative", "eval model --runs -2", setup=[model()], match="--runs"),
    C("eval-runs-word", "eval model --runs all", setup=[model()], match="--runs"),
    C("eval-runs-exponent", "eval model --runs 1e8", setup=[model()], match="--runs"),
    C("eval-runs-too-many", "eval model --runs 100000000", setup=[model()], match="--runs"),
    C("eval-data-missing", "eval model --data none.npy", setup=[model()], match="no such file"),
    C("eval-data-nan", "eval model --data bad.csv", setup=[model(), text("bad.csv", CSV_NAN)],
      match="bad.csv"),  # fmt: skip
    C("eval-data-columns", "eval model --data two.npy",
      setup=[model(), npy("two.npy", GOOD[:, :2])], match="2 columns"),  # fmt: skip
    C("eval-data-garbage", "eval model --data junk.txt",
      setup=[model(), text("junk.txt", "a b\n")], match="junk.txt"),  # fmt: skip
    C("eval-data-pickle", "eval model --data obj.npy",
      setup=[model(), npy("obj.npy", np.array([{"a": 1}], dtype=object))],
      match="obj.npy"),  # fmt: skip
    C("eval-data-empty", "eval model --data empty.csv", setup=[model(), text("empty.csv", "")],
      match="empty.csv"),  # fmt: skip
    C("eval-data-extension", "eval model --data d.parquet",
      setup=[model(), raw("d.parquet", b"PAR1")], match="d.parquet"),  # fmt: skip
    C("eval-data-directory", "eval model --data d.npy", setup=[model(), directory("d.npy")],
      match="d.npy"),  # fmt: skip
    C("eval-data-one-row", "eval model --data one.npy", setup=[model(), npy("one.npy", GOOD[:1])],
      match="one.npy"),  # fmt: skip
    C("eval-embedded-data-columns", "eval model --data two.npy",
      setup=[model(config=set_in("metadata.embedding", EMBEDDING)), npy("two.npy", GOOD[:, :2])],
      match="two.npy: 2 columns, but the delay embedding (m=3, tau=2) applies to 1-column data"),
    C("eval-embedded-data-short", "eval model --data short.npy",
      setup=[model(config=set_in("metadata.embedding", EMBEDDING)), npy("short.npy", GOOD[:4, 0])],
      match="4 rows are too few for a delay embedding with m=3, tau=2"),
    C("eval-embedding-wrong-size", "eval model --json",
      setup=[model(config=set_in("metadata.embedding", {**EMBEDDING, "m": 2}))],
      match="the delay embedding gives 2 columns, the model has 3"),
    C("simulate-embedding-corrupt", "simulate model --steps 5 --out g.npy",
      setup=[model(config=set_in("metadata.embedding", {**EMBEDDING, "tau": 0}))],
      match="embedding tau must be a positive integer"),
    C("eval-data-inf", "eval model --data inf.npy",
      setup=[model(), npy("inf.npy", np.where(GOOD > 2, np.inf, GOOD))],
      match="inf.npy"),  # fmt: skip
    # --- corrupted model directories
    C("model-config-not-json", "eval model", setup=[model(config_text="{not json")],
      match="config.json"),  # fmt: skip
    C("model-config-empty", "eval model", setup=[model(config_text="")], match="config.json"),
    C("model-config-a-list", "eval model", setup=[model(config_text="[1, 2]")],
      match="config.json"),  # fmt: skip
    C("model-config-infinity", "eval model", setup=[model(config=set_in("metadata.dt", 1e999))],
      match="Infinity"),  # fmt: skip
    C("model-config-nan-std", "simulate model --steps 5 --out g.npy",
      setup=[model(config=set_in("metadata.standardizer.std", [float("nan"), 1, 1]))],
      match="NaN"),  # fmt: skip
    C("model-latent-1e9", "eval model", setup=[model(config=set_in("model.latent_dim", 1e9))],
      match="latent_dim"),  # fmt: skip
    C("model-latent-huge-int", "simulate model --steps 5 --out g.npy",
      setup=[model(config=set_in("model.latent_dim", 10**9))], match="GiB"),  # fmt: skip
    C("model-hidden-negative", "eval model", setup=[model(config=set_in("model.hidden_dim", -4))],
      match="hidden_dim"),  # fmt: skip
    C("model-unknown-kind", "eval model", setup=[model(config=set_in("model.model", "gpt9"))],
      match="gpt9"),  # fmt: skip
    C("model-unknown-field", "eval model", setup=[model(config=set_in("model.wings", 2))],
      match="wings"),  # fmt: skip
    C("model-no-config", "eval model", setup=[model(remove=("config.json",))],
      match="not a model directory"),  # fmt: skip
    C("model-no-weights", "eval model", setup=[model(remove=("weights.eqx",))],
      match="weights.eqx is missing"),  # fmt: skip
    C("model-weights-pickle", "simulate model --steps 5 --out g.npy",
      setup=[model(weights=PICKLE)], match="weights.eqx"),  # fmt: skip
    C("model-weights-truncated", "eval model", setup=[model(weights=lambda b: b[: len(b) // 2])],
      match="weights.eqx"),  # fmt: skip
    C("model-weights-empty", "simulate model --steps 5 --out g.npy", setup=[model(weights=b"")],
      match="weights.eqx"),  # fmt: skip
    C("model-no-standardizer", "simulate model --steps 5 --out g.npy",
      setup=[model(config=set_in("metadata.standardizer", ...))],
      match="standardisation"),  # fmt: skip
    C("model-standardizer-columns", "eval model",
      setup=[model(config=set_in("metadata.standardizer.mean", [0.0, 0.0]))],
      match="standardizer"),  # fmt: skip
    C("model-std-zero", "eval model",
      setup=[model(config=set_in("metadata.standardizer.std", [0.0, 1.0, 1.0]))],
      match="std"),  # fmt: skip
    C("model-x0-garbage", "simulate model --steps 5 --out g.npy",
      setup=[model(config=set_in("metadata.x0", "origin"))], match="x0"),  # fmt: skip
    C("model-dt-negative", "eval model", setup=[model(config=set_in("metadata.dt", -1))],
      match="dt"),  # fmt: skip
    C("model-trained-on-files", "eval model", setup=[model(config=set_in("metadata.data", ...))],
      match="--data"),  # fmt: skip
    C("model-n-test-negative", "eval model",
      setup=[model(config=set_in("metadata.data.n_test", -5))], match="n_test"),  # fmt: skip
    C("model-n-test-huge", "eval model --runs 2",
      setup=[model(config=set_in("metadata.data.n_test", 10**13))], match="GiB"),  # fmt: skip
    C("model-unknown-system", "eval model",
      setup=[model(config=set_in("metadata.data.system", "lorenz36"))],
      match="lorenz36"),  # fmt: skip
    # --- simulate a model
    C("msim-out-missing", "simulate model --steps 5", setup=[model()], match="--out"),
    C("msim-steps-missing", "simulate model --out g.npy", setup=[model()], match="--steps"),
    C("msim-steps-zero", "simulate model --steps 0 --out g.npy", setup=[model()], match="--steps"),
    C("msim-steps-huge", "simulate model --steps 100000000000 --out g.npy", setup=[model()],
      match="GiB"),  # fmt: skip
    C("msim-x0-nan", "simulate model --steps 5 --out g.npy --x0 nan,1,2", setup=[model()],
      match="--x0"),  # fmt: skip
    C("msim-x0-inf", "simulate model --steps 5 --out g.npy --x0 1,-inf,2", setup=[model()],
      match="--x0"),  # fmt: skip
    C("msim-x0-short", "simulate model --steps 5 --out g.npy --x0 1,2", setup=[model()],
      match="needs 3"),  # fmt: skip
    C("msim-x0-words", "simulate model --steps 5 --out g.npy --x0 a,b,c", setup=[model()],
      match="--x0"),  # fmt: skip
    C("msim-x0-overflow", "simulate model --steps 5 --out g.npy --x0 1e300,1,2", setup=[model()],
      match="--x0"),  # fmt: skip
    C("msim-out-exists", "simulate model --steps 5 --out g.npy", match="--overwrite",
      setup=[model(), npy("g.npy", GOOD)]),  # fmt: skip
    C("msim-out-exists-json", "simulate model --steps 5 --out g.csv --json", match="--overwrite",
      setup=[model(), text("g.csv", "1,2,3\n")]),  # fmt: skip
    C("msim-out-suffix", "simulate model --steps 5 --out g.parquet", setup=[model()],
      match=".npy or .csv"),  # fmt: skip
    C("msim-out-no-directory", "simulate model --steps 5 --out no/g.npy", setup=[model()],
      match="does not exist"),  # fmt: skip
    C("msim-no-model", "simulate nowhere --steps 5 --out g.npy", match="not a model directory"),
    # --- train (every argument is checked before data are made or a model is built)
    C("train-no-data", "train --out r", match="exactly one of"),
    C("train-both-data", "train --system lorenz63 --data a.npy --out r",
      setup=[npy("a.npy", GOOD)], match="exactly one of"),  # fmt: skip
    C("train-no-out", "train --system lorenz63", match="--out"),
    C("train-unknown-model", "train --system lorenz63 --model lstmx --out r",
      match="unknown model"),  # fmt: skip
    C("train-epochs-zero", "train --system lorenz63 --epochs 0 --out r", match="--epochs"),
    C("train-epochs-word", "train --system lorenz63 --epochs many --out r", match="--epochs"),
    C("train-seq-len-word", "train --system lorenz63 --seq-len long --out r", match="--seq-len"),
    C("train-latent-zero", "train --system lorenz63 --latent 0 --out r", match="--latent"),
    C("train-hidden-on-plrnn", "train --system lorenz63 --model plrnn --hidden 5 --out r",
      match="--hidden"),  # fmt: skip
    C("train-set-unknown", "train --system lorenz63 --set wings=2 --out r", match="wings"),
    C("train-set-type", "train --system lorenz63 --set hidden_dim=1.5 --out r",
      match="hidden_dim"),  # fmt: skip
    C("train-set-no-equals", "train --system lorenz63 --set hidden_dim --out r",
      match="KEY=VALUE"),  # fmt: skip
    C("train-grad-clip-negative", "train --system lorenz63 --grad-clip -1 --out r",
      match="--grad-clip"),  # fmt: skip
    C("train-noise-negative", "train --system lorenz63 --noise -0.1 --out r", match="--noise"),
    C("train-batch-noise-negative", "train --system lorenz63 --batch-noise -1 --out r",
      match="--batch-noise"),  # fmt: skip
    C("train-select-every-zero", "train --system lorenz63 --select-every 0 --out r",
      match="--select-every"),  # fmt: skip
    C("train-batch-noise-word", "train --system lorenz63 --batch-noise lots --out r",
      match="--batch-noise must be auto or a number"),  # fmt: skip
    C("train-denoise-even", "train --system lorenz63 --denoise 20 --out r",
      match="--denoise must be off, auto or an odd window >= 5"),  # fmt: skip
    C("train-denoise-word", "train --system lorenz63 --denoise strong --out r",
      match="--denoise must be off, auto or an odd window"),  # fmt: skip
    C("train-denoise-longer-than-data",
      "train --system lorenz63 --n-train 100 --n-test 100 --denoise 101 --out r",
      match="--denoise: denoise window 101 is longer than the series (100 rows)"),
    C("train-select-by-word", "train --system lorenz63 --select-by d_stps --out r",
      match="--select-by must be d_stsp or d_h, got 'd_stps'"),  # fmt: skip
    C("train-select-steps-zero", "train --system lorenz63 --select-steps 0 --out r",
      match="--select-steps must be 'auto' or a positive integer"),  # fmt: skip
    C("train-select-probes-word", "train --system lorenz63 --select-probes many --out r",
      match="--select-probes must be off or a positive integer, got 'many'"),  # fmt: skip
    C("train-select-probes-negative", "train --system lorenz63 --select-probes -3 --out r",
      match="--select-probes must be off or a positive integer"),  # fmt: skip
    C("train-retries-negative", "train --system lorenz63 --retries -1 --out r",
      match="--retries must be"),  # fmt: skip
    C("train-patience-zero", "train --system lorenz63 --patience 0 --out r",
      match="--patience must be auto, off or a positive integer"),  # fmt: skip
    C("train-patience-word", "train --system lorenz63 --patience later --out r",
      match="--patience"),  # fmt: skip
    C("train-patience-without-selection",
      "train --system lorenz63 --patience 50 --select-every off --out r",
      match="needs model selection"),  # fmt: skip
    C("train-tau-with-gtf", "train --system lorenz63 --forcing gtf --tau 5 --out r",
      match="tau applies to stf"),  # fmt: skip
    C("train-alpha-out-of-range", "train --system lorenz63 --alpha 1.5 --out r", match="alpha"),
    C("train-unknown-objective", "train --system lorenz63 --objective teacher --out r",
      match="unknown training objective"),  # fmt: skip
    C("train-ridge-on-shplrnn", "train --system lorenz63 --objective ridge --out r --json",
      match="readout_only"),  # fmt: skip
    C("train-gtf-on-esn", "train --system lorenz63 --model esn --objective gtf --out r",
      match="teacher_forcing"),  # fmt: skip
    C("train-time-parallel-no-jacobian",
      "train --system lorenz63 --model gru --objective onestep --time-parallel --out r",
      match="lacks the 'jacobian' capability"),  # fmt: skip
    C("train-time-parallel-freerun", "train --system lorenz63 --model gru --time-parallel --out r",
      match="--time-parallel applies to the teacher-forcing objectives"),  # fmt: skip
    C("train-time-parallel-ridge", "train --system lorenz63 --model esn --time-parallel --out r",
      match="--time-parallel applies"),  # fmt: skip
    C("train-time-parallel-value", "train --system lorenz63 --time-parallel=yes --out r",
      match="time-parallel"),  # fmt: skip
    C("train-dt-negative", "train --system lorenz63 --dt -1 --out r", match="--dt"),
    C("train-n-test-tiny", "train --system lorenz63 --n-test 5 --out r", match="--n-test"),
    C("train-n-train-huge", "train --system lorenz63 --n-train 100000000000 --out r",
      match="GiB"),  # fmt: skip
    C("train-lr-zero", "train --system lorenz63 --lr 0 --out r", match="--lr"),
    C("train-overwrite-and-resume", "train --system lorenz63 --out r --overwrite --resume",
      match="not both"),  # fmt: skip
    C("train-test-equals-train", "train --data a.npy --test-data a.npy --out r",
      setup=[npy("a.npy", GOOD)], match="leak"),  # fmt: skip
    C("train-into-existing-model", "train --system lorenz63 --out model --json",
      setup=[model()], match="--overwrite"),  # fmt: skip
    C("train-unknown-system", "train --system lorenz36 --out r", match="unknown system"),
    C("train-embed-three-parts", "train --system lorenz63 --embed 3,4,5 --out r",
      match="--embed must be auto, M or M,TAU"),  # fmt: skip
    C("train-embed-word", "train --system lorenz63 --embed three --out r",
      match="--embed must be auto, M or M,TAU"),  # fmt: skip
    C("train-embed-empty-tau", "train --system lorenz63 --embed 3, --out r",
      match="--embed must be auto, M or M,TAU"),  # fmt: skip
    C("train-embed-m-zero", "train --system lorenz63 --embed 0 --out r",
      match="--embed 0: m must be a positive integer"),  # fmt: skip
    C("train-embed-tau-negative", "train --system lorenz63 --embed 3,-2 --out r --json",
      match="--embed 3,-2: tau must be a positive integer"),  # fmt: skip
    C("train-embed-window-too-long", "train --data long.npy --embed 50,10 --out r",
      setup=[npy("long.npy", LONG)],
      match="--embed 50,10: test data: 200 rows are too few for a delay embedding with m=50, "
            "tau=10"),  # fmt: skip
    C("train-embed-m-too-large", "train --data long.npy --embed 1000,1 --out r",
      setup=[npy("long.npy", LONG)],
      match="training data: 800 rows are too few for a delay embedding with m=1000, tau=1: its "
            "window (m-1)*tau = 999 rows leaves 0, fewer than 100; at most m=701 fits"),
    C("train-embed-auto-noise", "train --data noise.npy --embed auto --out r",
      setup=[npy("noise.npy", LONG[:, 0])],
      match="no embedding dimension m <= 10 brings the false-neighbour fraction to 0.03"),
    C("train-embed-auto-hint", "train --data noise.npy --embed auto --out r",
      setup=[npy("noise.npy", LONG[:, 0])], match="; set them with --embed M,TAU"),
    C("train-observe-out-of-range", "train --system lorenz63 --observe 3 --out r",
      match="--observe 3: lorenz63 has coordinates 0..2"),  # fmt: skip
    C("train-observe-twice", "train --system lorenz63 --observe 0,0 --out r",
      match="each given once"),  # fmt: skip
    C("train-observe-word", "train --system lorenz63 --observe x --out r",
      match="--observe must be comma-separated coordinates"),  # fmt: skip
    C("train-observe-with-data", "train --data long.npy --observe 0 --out r",
      setup=[npy("long.npy", LONG)], match="--observe applies to --system only"),
    # --- forecast
    C("forecast-no-out", "forecast --system lorenz63", match="--out"),
    C("forecast-horizon-zero", "forecast --system lorenz63 --horizon 0 --out f",
      match="--horizon"),  # fmt: skip
    C("forecast-context-word", "forecast --system lorenz63 --context lots --out f",
      match="--context"),  # fmt: skip
    C("forecast-windows-zero", "forecast --system lorenz63 --windows 0 --out f",
      match="--windows"),  # fmt: skip
    C("forecast-lyapunov-negative", "forecast --system lorenz63 --lyapunov -1 --out f --json",
      match="--lyapunov"),  # fmt: skip
    C("forecast-unknown-model", "forecast --system lorenz63 --model gpt --out f",
      match="unknown model"),  # fmt: skip
    C("forecast-into-existing", "forecast --system lorenz63 --out model", setup=[model()],
      match="--overwrite"),  # fmt: skip
    C("forecast-embed-tau-zero", "forecast --system lorenz63 --embed auto,0 --out f",
      match="--embed auto,0: tau must be a positive integer"),  # fmt: skip
    # --- analyze
    C("analyze-no-arguments", "analyze", match="Missing argument"),
    C("analyze-nothing-to-do", "analyze model --out a --json", setup=[model()],
      match="nothing to do"),  # fmt: skip
    C("analyze-cycles-word", "analyze model --cycles many --out a", setup=[model()],
      match="--cycles"),  # fmt: skip
    C("analyze-cycles-huge", "analyze model --cycles 99 --out a", setup=[model()],
      match="--cycles"),  # fmt: skip
    C("analyze-epsilon-negative", "analyze model --koopman --epsilon -1 --out a",
      setup=[model()], match="--epsilon"),  # fmt: skip
    C("analyze-dictionary-unknown", "analyze model --koopman --dictionary wavelets --out a",
      setup=[model()], match="--dictionary"),  # fmt: skip
    C("analyze-steps-zero", "analyze model --fixed-points --steps 0 --out a", setup=[model()],
      match="--steps"),  # fmt: skip
    C("analyze-slow-points-alone", "analyze model --slow-points --out a", setup=[model()],
      match="--slow-points"),  # fmt: skip
    C("analyze-truncated-weights", "analyze model --lyapunov --out a",
      setup=[model(weights=b"junk")], match="weights.eqx"),  # fmt: skip
    C("analyze-not-a-model-dir", "analyze runs/none --fixed-points --out a",
      match="not a model directory"),  # fmt: skip
    C("analyze-out-is-the-model", "analyze model --fixed-points --out model --overwrite",
      setup=[model()], match="model directory"),  # fmt: skip
    C("analyze-into-existing", "analyze model --fixed-points --out other --json",
      setup=[model(), model("other")], match="--overwrite"),  # fmt: skip
    # --- models
    C("models-show-unknown", "models show lstmx --json", match="unknown model"),
    C("models-show-missing", "models show", match="Missing argument"),
    C("models-unknown-command", "models tune", match="No such command"),
    # --- demo
    C("demo-into-existing", "demo --out model", setup=[model()], match="--overwrite"),
    C("demo-epochs-zero", "demo --epochs 0 --out d", match="--epochs"),
    C("demo-unknown-system", "demo --system lorenz36 --out d", match="unknown system"),
    # --- bench: every argument is checked before a store, a worker or a task exists
    C("bench-run-no-store", "bench run dysts-short", match="Missing option '--store'"),
    C("bench-run-unknown-suite", "bench run dysts-shrot --store s.sqlite", match="unknown suite"),
    C("bench-run-suite-file-missing", "bench run mine.toml --store s.sqlite",
      match="no such file"),  # fmt: skip
    C("bench-run-malformed-suite", "bench run bad.toml --store s.sqlite --json",
      setup=[text("bad.toml", "name = [\n")], match="not valid TOML"),  # fmt: skip
    C("bench-run-unknown-model", "bench run dysts-short --models nvar,gpt9 --store s.sqlite",
      match="unknown model 'gpt9'"),  # fmt: skip
    C("bench-run-unknown-system", "bench run dysts-short --systems lorenz36 --store s.sqlite",
      match="unknown system 'lorenz36'"),  # fmt: skip
    C("bench-run-workers-zero", "bench run dysts-short --workers 0 --store s.sqlite",
      match="--workers"),  # fmt: skip
    C("bench-run-seeds-word", "bench run dysts-short --seeds two --store s.sqlite",
      match="--seeds"),  # fmt: skip
    C("bench-run-executor-unknown", "bench run dysts-short --executor slurm --store s.sqlite",
      match="--executor"),  # fmt: skip
    C("bench-run-scheduler-without-dask",
      "bench run dysts-short --scheduler tcp://h:8786 --store s.sqlite", match="--scheduler"),
    C("bench-run-store-not-sqlite", "bench run dysts-short --store s.sqlite",
      setup=[text("s.sqlite", "hello")], match="not a SQLite run store"),  # fmt: skip
    C("bench-run-store-newer-schema", "bench run dysts-short --store s.sqlite --json",
      setup=[store_of_schema("s.sqlite", 99)], match="Upgrade attractor"),  # fmt: skip
    C("bench-run-store-no-directory", "bench run dysts-short --store no/s.sqlite",
      match="does not exist"),  # fmt: skip
    C("bench-run-compile-cache-is-a-file",
      "bench run dysts-short --compile-cache c --store s.sqlite", setup=[text("c", "x")],
      match=": exists and is not a directory"),  # fmt: skip
    C("bench-run-compile-cache-no-parent",
      "bench run dysts-short --compile-cache no/c --store s.sqlite",
      match="--compile-cache"),  # fmt: skip
    C("bench-status-no-store-file", "bench status --store s.sqlite", match="no such file"),
    C("bench-report-no-out", "bench report --store s.sqlite", match="--out"),
    C("bench-report-old-schema", "bench report --store s.sqlite --out r",
      setup=[store_of_schema("s.sqlite", 0)], match="cannot be migrated"),  # fmt: skip
    C("bench-export-suffix", "bench export --store s.sqlite --out m.xlsx", match=".csv"),
    C("bench-suites-extra-argument", "bench suites dsr", match="unexpected extra argument"),
    # --- README command forms, done wrong
    C("readme-train-two-files-after-one-flag",
      "train --data a.npy b.csv --dt 0.01 --model alrnn --latent 20 --pwl 2 --forcing stf "
      "--out runs/mine"),  # fmt: skip
    C("readme-eval-before-training", "eval runs/l63 --json", match="not a model directory"),
    C("readme-simulate-before-training", "simulate runs/l63 --steps 10000 --out gen.npy",
      match="not a model directory"),  # fmt: skip
    C("readme-l96-twice", "systems simulate lorenz96 --steps 5000 --ics 8 --out l96.npy "
      "--plot l96.png", setup=[npy("l96.npy", GOOD)], match="--overwrite"),  # fmt: skip
    C("readme-show-without-name", "systems show --json", match="Missing argument"),
    *(
        []
        if DYSTS
        else [C("dysts-without-extra", "systems show dysts:Lorenz", match="dysts extra")]
    ),
    *(
        []
        if importlib.util.find_spec("distributed") is not None
        else [C("bench-dask-without-extra", "bench run dysts-short --executor dask --store s.db",
                match="attractor[dask]")]
    ),
]


# ------------------------------------------------------------------------------------ helpers
def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (and a marker for every directory) under root."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        found[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


def environment(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ATTRACTOR_DEBUG",)}
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.update(extra)
    return env


def check_error_contract(
    argv: tuple[str, ...], code: int, returncode: int, stdout: str, stderr: str
) -> list[str]:
    """The contract every failing command keeps; returns what is broken (empty if nothing)."""
    problems = []
    if returncode != code:
        problems.append(f"exit status {returncode}, expected {code}")
    lines = stderr.splitlines()
    if len(lines) != 1 or not lines[0].strip():
        problems.append(f"stderr has {len(lines)} lines, expected exactly one non-empty line")
    if "Traceback" in stdout + stderr:
        problems.append("a traceback was printed")
    if "--json" in argv:
        try:
            doc = json.loads(stdout)
        except ValueError:
            problems.append(f"stdout is not exactly one JSON document: {stdout[:200]!r}")
        else:
            if not (isinstance(doc, dict) and {"type", "message"} <= set(doc.get("error", {}))):
                problems.append(f"the JSON document has no error type/message: {doc!r}")
    elif stdout.strip():
        problems.append(f"stdout is not empty: {stdout[:200]!r}")
    return problems


@pytest.fixture(scope="module")
def valid_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid (untrained) model directory as `attractor train` writes it, built in-process."""
    import jax

    from attractor.data.standardize import Standardizer
    from attractor.models.io import save_model
    from attractor.models.registry import build_model, make_config

    config = make_config("shplrnn", obs_dim=3, latent_dim=3, hidden_dim=8)
    net = build_model(config, key=jax.random.PRNGKey(0))
    meta = {
        "standardizer": Standardizer().fit(GOOD).to_dict(),
        "dt": 0.01,
        "data": {"system": "lorenz63", "n_train": 2000, "n_test": 1000, "noise": 0.05, "dt": 0.01},
        "seed": 0,
        "x0": GOOD[0].tolist(),
    }
    return save_model(tmp_path_factory.mktemp("valid") / "model", net, meta)


# -------------------------------------------------------------------------------------- tests
def test_the_installed_script_exists() -> None:
    assert ATTRACTOR.is_file(), f"{ATTRACTOR} is missing: pip install -e . first"


def command_of(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The command words of ``argv`` (``("systems", "show")``, ``("train",)``, ``()`` for global
    flags): the options and arguments dropped."""
    words = []
    for word in argv:
        if word.startswith("-") or "." in word or "/" in word or len(words) == 2:
            break
        words.append(word)
    return tuple(words[:2] if words[:1] in (["systems"], ["models"], ["bench"]) else words[:1])


def through_the_script(case: Case) -> bool:
    """Whether ``case`` also runs through the installed script: the first case of each command
    (every command is tested end to end as a process), and every case that needs a process of
    its own (environment variables, signal exits). The rest run in-process only — the same
    ``main`` the script calls — which spares ~2 s of interpreter and JAX start-up per case."""
    first = {}
    for param in CASES:
        first.setdefault(command_of(param.values[0].argv), param.values[0].id)
    return bool(case.env) or case.code != 2 or first[command_of(case.argv)] == case.id


def run_in_process(case: Case, cwd: Path) -> tuple[int, str, str]:
    """``attractor.cli.main.main(argv)`` in ``cwd``: (exit status, stdout, stderr)."""
    from attractor.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(case.argv))
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(previous)
    return code, out.getvalue(), err.getvalue()


def run_script(case: Case, cwd: Path) -> tuple[int, str, str]:
    proc = subprocess.run(
        [str(ATTRACTOR), *case.argv],
        cwd=cwd,
        env=environment(case.env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case: Case, tmp_path: Path, valid_model: Path) -> None:
    for build in case.setup:
        build(tmp_path, valid_model)
    before = snapshot(tmp_path)
    runners = [run_script] if through_the_script(case) else []
    if not case.env and case.code == 2:
        runners.append(run_in_process)
    for runner in runners:
        code, stdout, stderr = runner(case, tmp_path)
        problems = check_error_contract(case.argv, case.code, code, stdout, stderr)
        if case.match is not None and case.match not in stderr:
            problems.append(f"stderr does not mention {case.match!r}")
        after = snapshot(tmp_path)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if changed:
            problems.append(f"files created, changed or removed: {changed}")
        assert not problems, (
            f"{runner.__name__}: {shlex.join(case.argv)}: {problems}\nstderr: {stderr[-2000:]}"
        )


def test_every_command_runs_through_the_script() -> None:
    """The in-process shortcut never leaves a command without an end-to-end process test."""
    commands = {command_of(p.values[0].argv) for p in CASES}
    scripted = {command_of(p.values[0].argv) for p in CASES if through_the_script(p.values[0])}
    assert commands == scripted
    assert ("train",) in commands and ("systems", "show") in commands


@pytest.mark.parametrize(
    "argv",
    [
        "systems show lorenz63 --json",
        "systems lyapunov henon --steps 2000 --json",
        "systems simulate lorenz63 --steps 10 --out x.npy --json",
        "simulate model --steps 5 --out g.npy --json",
    ],
)
def test_json_success_is_one_document(argv: str, tmp_path: Path, valid_model: Path) -> None:
    """The positive control: the fixtures are valid, and success also prints one document."""
    shutil.copytree(valid_model, tmp_path / "model")
    proc = subprocess.run(
        [str(ATTRACTOR), *shlex.split(argv)],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(proc.stdout), dict) and "error" not in json.loads(proc.stdout)
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------- real signals
def _handler_installed(pid: int, signum: int) -> bool:
    """Whether process ``pid`` catches ``signum`` (Linux /proc), i.e. `attractor` reached main."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except OSError:
        pass
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    ("signum", "code", "word", "json_flag", "delay"),
    [
        # in the measurement (JAX imported, the chunked QR run compiled and running)
        (signal.SIGINT, 130, "interrupted", True, 4.0),
        (signal.SIGTERM, 143, "terminated", False, 4.0),
        # while JAX is being imported: the exception is held back until the import is done
        (signal.SIGTERM, 143, "terminated", False, 0.3),
    ],
)
def test_a_real_signal_stops_a_long_computation(
    signum: int, code: int, word: str, json_flag: bool, delay: float, tmp_path: Path
) -> None:
    argv = ["systems", "lyapunov", "lorenz63", "--steps", "1000000000"]
    argv += ["--json"] if json_flag else []
    # A child inherits an ignored SIGINT (xdist workers, nohup): a two-line wrapper gives it the
    # default back and execs the script (no preexec_fn: forking a JAX process can deadlock).
    reset = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    reset += "os.execv(sys.argv[1], sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", reset, str(ATTRACTOR), *argv],
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _handler_installed(proc.pid, signal.SIGTERM):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "attractor never reached main()"
            time.sleep(0.05)
        time.sleep(delay)
        assert proc.poll() is None, "the 10^9-step measurement ended on its own"
        sent = time.monotonic()
        proc.send_signal(signum)
        try:
            stdout, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
            pytest.fail(f"still running 60 s after the signal; stderr: {stderr[-2000:]}")
        stopped_after = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    problems = check_error_contract(tuple(argv), code, proc.returncode, stdout, stderr)
    assert not problems, f"{problems}\nstderr: {stderr[-2000:]}"
    assert stderr.startswith(word)
    # Stopped by the exception between two chunks, not by the backstop that fires after GRACE_S.
    assert stopped_after < GRACE_S - 2, f"took {stopped_after:.1f} s to stop"
    if json_flag:
        assert json.loads(stdout)["error"]["type"] == "Interrupted"
