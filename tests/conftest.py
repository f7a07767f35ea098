"""Test-session settings: a persistent XLA compilation cache shared by the pytest-xdist workers.

Many tests compile the same programs (a model's training epoch, its forecast of a given length);
with the cache, a second compilation of an identical program is a disk read. The cache lives in
the system's temporary directory, so it never enters the repository; the library itself never
turns it on.
"""

from __future__ import annotations

import getpass
import os
import tempfile

import jax
import pytest

_CACHE = os.path.join(tempfile.gettempdir(), f"attractor-test-jax-cache-{getpass.getuser()}")
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


@pytest.fixture
def run_cli(capsys):
    """``run_cli(argv, capsys)`` -> (exit status, stdout, stderr) of ``attractor argv`` run
    in-process through :func:`attractor.cli.main.main`."""
    from attractor.cli.main import main

    def run(args: list[str], capsys=capsys) -> tuple[int, str, str]:
        code = 0
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run
