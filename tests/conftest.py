"""What the whole test run shares: bytecode caching, whatever the environment says.

The run spawns three xdist workers and about a hundred trioload and trioserve processes. With
bytecode caching off (``PYTHONDONTWRITEBYTECODE``, set in some sandboxes and CI images), each
of them compiles the project's sources again: about 60 ms of CPU a process, and about 3 s of
collection a worker (pytest cannot cache its rewritten test modules either). On two cores that
is several seconds of the suite's minute. Loaded before the workers start, so they and every
process they spawn inherit it; the caches go to ``__pycache__/``, which git ignores.
"""

from __future__ import annotations

import os
import sys

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
