"""Kept for old command lines: ``python -m bench.gateway_latency [--quick]`` is now
``python -m bench --only gateway [--quick]``."""

from __future__ import annotations

import sys

from bench.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["--only", "gateway", *sys.argv[1:]]))
