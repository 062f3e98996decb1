"""The Node.js peer: croner schedules, Node's built-in ``fetch`` calls (``node_croner/``).

A stack many teams would pick instead of a Python scheduler. The bench installs the
version pinned in ``node_croner/package.json`` and ``package-lock.json`` from npm into
``node_croner/node_modules`` (git-ignored) with ``npm ci``, once; without ``node`` and
``npm`` (Debian packages ``nodejs`` and ``npm``) the peer is skipped.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.common import tool

FOLDER = Path(__file__).parent / "node_croner"
KIND = "node"
"""First path segment of the peer's calls (``/node/<i>``)."""


def missing() -> str | None:
    """Why the peer cannot run (``skipped: …``), or None once croner is installed."""
    node, npm = tool("node"), tool("npm")
    if node is None or npm is None:
        return "skipped: not installed (node, npm)"
    if not (FOLDER / "node_modules" / "croner" / "package.json").exists():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=FOLDER, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return f"skipped: npm ci failed ({done.stderr.strip()[-200:]})"
    return None


def command(backend: str, *args: object) -> list[str]:
    """The peer's command line: ``node peer.mjs BACKEND --mode … --tasks …``."""
    node = tool("node")
    assert node is not None
    return [node, str(FOLDER / "peer.mjs"), backend, *map(str, args)]


def version() -> str:
    """``node --version`` and croner's pinned version, for the tables' notes."""
    node = tool("node")
    if node is None:
        return "node not installed"
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    pinned = (FOLDER / "package.json").read_text().split('"croner": "')[1].split('"')[0]
    return f"Node.js {done.stdout.strip()}, croner {pinned}"
