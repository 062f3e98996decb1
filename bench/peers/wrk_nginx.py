"""The machine's own limit for small HTTP calls on loopback: wrk (C, epoll) against nginx
(one worker answering ``200 ok`` from its config), and wrk against any other server.

Both are Debian packages (``apt-get install nginx-light wrk``); without them the peer is
reported as "skipped: not installed".
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bench.common import Children, free_port, tool, wait_http

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 200 "ok"; }}
    }}
}}
"""


def missing() -> list[str]:
    return [name for name in ("nginx", "wrk") if tool(name) is None]


def start_nginx(group: Children, root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """nginx on a free loopback port, configured and logging under ``root``."""
    nginx = tool("nginx")
    assert nginx is not None
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, port=port))
    process = group.start([nginx, "-p", str(root), "-c", str(root / "nginx.conf")],
                          log=root / "nginx.out")
    url = f"http://127.0.0.1:{port}/"
    wait_http(url, process, "nginx", timeout=15)
    return process, url


def run_wrk(url: str, seconds: float, *, connections: int = 64, threads: int = 1,
            headers: dict[str, str] | None = None) -> dict[str, float]:
    """Requests per second and latency percentiles that wrk reports for ``url``."""
    wrk = tool("wrk")
    assert wrk is not None
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True,
                         timeout=seconds + 30).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    figures = {"rps": float(rate.group(1)) if rate else float("nan")}
    for label in ("50", "99"):
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if found:
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
            figures[f"p{label}_ms"] = float(found.group(1)) * scale
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    figures["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return figures
