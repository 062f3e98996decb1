"""System-cron style: one process per call. At each second, for every job due, fork
``/bin/sh -c 'curl …'`` the way cron runs a crontab line (cron itself only has minutes;
this is cron's execution model at one-second resolution).

    python -m bench.peers.cron_curl BACKEND --mode spread --tasks 10000
    python -m bench.peers.cron_curl BACKEND --mode burst --tasks 10000 --at EPOCH

Job *i* calls ``/curl/<i>`` at second ``i mod 60`` (*spread*), or every job at ``--at``
(*burst*), sending ``X-Apicron-Scheduled-Time``. At most ``--max-children`` calls run at
once (default 256, apicron's backend pool size); the rest wait their turn, where cron
would fork them all and exhaust the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import time
from collections import deque
from datetime import UTC, datetime


def main(args: argparse.Namespace) -> None:
    curl = "curl -s -o /dev/null --max-time 5"
    pending: deque[str] = deque()
    running = 0
    spawned = 0
    second = int(time.time()) + 1
    print(json.dumps({"event": "ready"}), flush=True)
    while True:
        now = time.time()
        if now >= second:
            if args.mode == "spread" or second == int(args.at):
                stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                due = (range(args.tasks) if args.mode == "burst"
                       else range(second % 60, args.tasks, 60))
                pending.extend(
                    f"{curl} -H 'X-Apicron-Scheduled-Time: {stamp}' "
                    f"{shlex.quote(args.backend + '/curl/' + str(i))}" for i in due)
            second += 1
        while pending and running < args.max_children:
            os.posix_spawn("/bin/sh", ["sh", "-c", pending.popleft()], os.environ)
            running += 1
            spawned += 1
        while running:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                running = 0
                break
            if pid == 0:
                break
            running -= 1
        time.sleep(max(0.0, min(0.002, second - time.time())))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend")
    parser.add_argument("--mode", choices=("spread", "burst"), required=True)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--at", type=float, default=0.0)
    parser.add_argument("--max-children", type=int, default=256)
    main(parser.parse_args())
