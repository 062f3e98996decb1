"""One module per scenario; each has ``NAME`` and ``run(bench: Bench) -> dict``."""
