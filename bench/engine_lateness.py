"""Kept for old command lines: ``python -m bench.engine_lateness [--quick]`` is now
``python -m bench --only lateness,burst [--quick]``."""

from __future__ import annotations

import sys

from bench.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["--only", "lateness,burst", *sys.argv[1:]]))
