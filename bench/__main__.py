"""apicron's benchmarks: ``python -m bench`` (from the repository root).

    python -m bench                          # every scenario at full size (about 25 min)
    python -m bench --quick                  # every scenario at 1/100 (CI smoke run)
    python -m bench --only burst,gateway     # some scenarios
    python -m bench --only capacity --capacity-steps 500,1000 --capacity-seconds 30
    python -m bench --only scaleout --capacity-steps 100,250,500,1000 --capacity-seconds 20
    python -m bench soak [--minutes 30]      # the soak (not part of the default run)

Each scenario runs apicron and its peers one after the other, in the same run, on the same
machine, against the same recording backend (``bench/backend.py``); prints a table with
ratios against the peers and the goals, and writes ``bench/results/<scenario>.json``
(``bench/results/quick/`` for ``--quick``). Nothing is asserted: figures depend on the
machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.common import Scale, children, machine, write_results
from bench.harness import Bench
from bench.scenarios import burst, capacity, faults, gateway, lateness, scale, scaleout, soak

SCENARIOS: dict[str, ModuleType] = {
    m.NAME: m for m in (lateness, burst, capacity, scaleout, scale, gateway, faults)
}


def _run(names: list[str], quick: bool, extra: Callable[[Bench], dict[str, Any]] | None = None,
         extra_name: str = "", options: dict[str, Any] | None = None) -> int:
    bench_scale = Scale(quick)
    failed: list[str] = []
    about = machine()
    print(f"apicron bench{' --quick' if quick else ''}: {about['cores']} cores, {about['cpu']}, "
          f"Python {about['python']}, load average {about['loadavg'][0]:.2f}",
          flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="apicron-bench-") as workdir, children() as group:
        bench = Bench(bench_scale, group, Path(workdir), **(options or {}))
        bench.start_backend()
        jobs: list[tuple[str, Callable[[Bench], dict[str, Any]]]] = [
            (name, SCENARIOS[name].run) for name in names]
        if extra is not None:
            jobs.append((extra_name, extra))
        for name, job in jobs:
            began = time.monotonic()
            try:
                outcome = job(bench)
            except Exception:
                traceback.print_exc()
                print(f"== {name}: FAILED ==\n", flush=True)
                failed.append(name)
                continue
            outcome["elapsed_s"] = time.monotonic() - began
            write_results(name, bench_scale, outcome)
    print(f"bench done in {time.monotonic() - started:.0f} s"
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "soak":
        parser = argparse.ArgumentParser(prog="python -m bench soak",
                                         description=soak.__doc__.split("\n\n")[0])
        parser.add_argument("--minutes", type=float, default=30.0)
        parser.add_argument("--tasks", type=int, default=1000, help="fires per minute")
        args = parser.parse_args(argv[1:])
        return _run([], False, lambda b: soak.run(b, args.minutes, args.tasks), "soak")
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every scenario at 1/100 scale")
    parser.add_argument("--only", default="",
                        help=f"comma-separated scenarios, of: {', '.join(SCENARIOS)}")
    parser.add_argument("--capacity-steps", default="",
                        help="capacity and scaleout: calls a second to step through, "
                             "comma-separated "
                             f"(default {','.join(map(str, capacity.STEPS))}; --quick "
                             f"{','.join(map(str, capacity.QUICK_STEPS))}, scaleout "
                             f"{','.join(map(str, scaleout.QUICK_STEPS))})")
    parser.add_argument("--capacity-seconds", type=float, default=0.0,
                        help="capacity and scaleout: seconds measured per step (default 60; "
                             "--quick 2)")
    args = parser.parse_args(argv)
    try:
        steps = tuple(int(s) for s in args.capacity_steps.split(",") if s.strip())
    except ValueError:
        parser.error("--capacity-steps: whole numbers of calls a second, e.g. 500,1000")
    if any(s <= 0 for s in steps) or args.capacity_seconds < 0:
        parser.error("--capacity-steps and --capacity-seconds must be positive")
    options = {"capacity_steps": tuple(sorted(steps)), "capacity_seconds": args.capacity_seconds}
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; one of {', '.join(SCENARIOS)}")
    return _run(names, args.quick, options=options)


if __name__ == "__main__":
    sys.exit(main())
