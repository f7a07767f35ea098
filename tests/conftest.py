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

_CACHE = os.path.join(tempfile.gettempdir(), f"attractor-test-jax-cache-{getpass.getuser()}")
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
