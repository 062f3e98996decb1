"""What every scenario shares: ports, child processes, figures, tables and result files."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

RESULTS_DIR = Path(__file__).parent / "results"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"  # noqa: S105 - a throwaway instance


@dataclass(frozen=True)
class Scale:
    """Full size, or 1/100 of it (``--quick``: CI smoke run, figures meaningless)."""

    quick: bool

    def of(self, full: int, *, minimum: int = 1) -> int:
        return max(minimum, full // 100) if self.quick else full

    def seconds(self, full: float, quick: float) -> float:
        return quick if self.quick else full


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def python_module(module: str, *args: object) -> list[str]:
    return [sys.executable, "-m", module, *map(str, args)]


def tool(name: str) -> str | None:
    """Path of a system tool (nginx, wrk, curl), or None: the peer is then skipped."""
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )


# -- child processes: only ever our own, by pid ---------------------------------------------


class Children:
    """Starts child processes in their own session and stops exactly those, by pid.

    A child that spawns processes of its own (the cron-style peer) is stopped with its
    process group, which it leads: nothing else is in it.
    """

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def start(self, command: Sequence[str], *, env: dict[str, str] | None = None,
              log: Path | None = None, stdin: bool = False,
              stdout_pipe: bool = False) -> subprocess.Popen[bytes]:
        out: Any = subprocess.PIPE if stdout_pipe else (
            log.open("ab") if log is not None else subprocess.DEVNULL)
        process = subprocess.Popen(
            list(command), env=env, stdout=out,
            stderr=subprocess.STDOUT if log is not None else None,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, start_new_session=True,
        )
        self._running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 15) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        # The group may hold children that outlived their leader (cron-style curls).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        for stream in (process.stdout, process.stdin):
            if stream is not None:
                stream.close()
        if process in self._running:
            self._running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self._running)):
            self.stop(process)


@contextlib.contextmanager
def children() -> Iterator[Children]:
    group = Children()
    try:
        yield group
    finally:
        group.stop_all()


def wait_http(url: str, process: subprocess.Popen[bytes] | None, what: str,
              timeout: float = 60) -> float:
    """Wait until ``url`` answers (any status); returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{what} exited at start (code {process.returncode})")
        try:
            httpx.get(url, timeout=2)
            return time.monotonic() - started
        except httpx.HTTPError:
            time.sleep(0.02)
    raise SystemExit(f"{what} did not answer within {timeout:.0f} s")


def read_line(process: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    """The next JSON line a peer prints on stdout (its protocol with the harness)."""
    assert process.stdout is not None
    import select

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit(f"peer pid {process.pid} said nothing within {timeout:.0f} s")
        ready, _, _ = select.select([process.stdout], [], [], left)
        if ready:
            line = process.stdout.readline()
            if not line:
                raise SystemExit(f"peer pid {process.pid} exited (code {process.wait()})")
            with contextlib.suppress(ValueError):
                decoded: dict[str, Any] = json.loads(line)
                return decoded


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of ``pid`` (``VmHWM``: its peak so far)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return math.nan


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used by ``pid`` and its reaped children so far."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        return ticks / os.sysconf("SC_CLK_TCK")
    return math.nan


def sleep_until(epoch: float) -> None:
    time.sleep(max(0.0, epoch - time.time()))


# -- figures --------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def spread_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p99/max/mean in milliseconds of durations given in seconds."""
    ordered = sorted(seconds)
    if not ordered:
        return {"p50_ms": math.nan, "p99_ms": math.nan, "max_ms": math.nan,
                "mean_ms": math.nan}
    return {"p50_ms": percentile(ordered, 0.50) * 1000,
            "p99_ms": percentile(ordered, 0.99) * 1000, "max_ms": ordered[-1] * 1000,
            "mean_ms": statistics.fmean(ordered) * 1000}


def ratio(peer: float | None, ours: float | None) -> str:
    """``peer / ours`` as ``×1.8``: above 1, apicron's figure is the smaller one."""
    if peer is None or ours is None or math.isnan(peer) or math.isnan(ours) or ours <= 0:
        return "—"
    return f"×{peer / ours:.2f}" if peer / ours < 10 else f"×{peer / ours:.0f}"


def cell(value: object, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]],
                notes: Sequence[str] = ()) -> str:
    """Print (and return) a plain-text table under ``== title ==``."""
    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text_rows)) if text_rows else len(h)
              for i, h in enumerate(headers)]
    lines = [f"== {title} =="]
    lines.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                           for i, (h, w) in enumerate(zip(headers, widths, strict=True))))
    lines.append("  ".join("-" * w for w in widths))
    for row in text_rows:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(row, widths, strict=True))))
    lines.extend(notes)
    text = "\n".join(lines)
    print(text + "\n", flush=True)
    return text


def goal(label: str, measured: float | None, limit: float, unit: str, *,
         at_least: bool = False) -> dict[str, Any]:
    """A goal line: ``measured ≤ limit`` (``≥`` with ``at_least``); a missing or NaN
    figure or limit is not met."""
    known = measured is not None and not math.isnan(measured) and not math.isnan(limit)
    met = known and (measured >= limit if at_least else measured <= limit)  # type: ignore[operator]
    return {"goal": label, "limit": limit, "measured": measured, "unit": unit, "met": met,
            "at_least": at_least}


def goal_lines(goals: Sequence[dict[str, Any]]) -> list[str]:
    return [f"goal {g['goal']} {'≥' if g.get('at_least') else '≤'} {cell(g['limit'], 2)} "
            f"{g['unit']}: measured {cell(g['measured'], 2)} "
            f"{g['unit']} — {'met' if g['met'] else 'NOT met'}" for g in goals]


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import aiohttp

    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(), "aiohttp": aiohttp.__version__,
            "loadavg": os.getloadavg()}


def write_results(name: str, scale: Scale, payload: dict[str, Any]) -> Path:
    # A quick run never overwrites a full run's figures.
    folder = RESULTS_DIR / "quick" if scale.quick else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    document = {"scenario": name, "quick": scale.quick,
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine(), **payload}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}\n",
          flush=True)
    return path
