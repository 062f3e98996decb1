"""``APICRON_GATEWAY_WORKERS``: several gateway processes sharing the gateway's port
(SO_REUSEPORT), each with its own snapshot fed by the change feed (issue 20).

The setting's rules, then one real ``apicron serve`` with two workers on SQLite: calls are
answered by both (``X-Apicron-Gateway-Worker``) and counted once in ``/metrics``, a publish,
a grant and a revocation reach every worker, a replayed signature is refused whichever
worker gets it; and one more: a worker killed with -9 is reported and restarted, and
SIGTERM stops every worker.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apicron.domain.errors import ConfigurationError
from apicron.gateway.listener import WORKER_HEADER
from apicron.settings import load_settings
from apicron.signing import sign_request
from tests.conftest import World
from tests.servers import ApicronProcess
from tests.test_gateway import Backend, hw, path_of, setup

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="SO_REUSEPORT balancing is Linux's")

WORKERS = {"1", "2"}
# Three Python processes start instead of one: on this loaded, shared machine that has
# taken longer than ApicronProcess's default 90 s.
START_S = 240.0


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APICRON_")}
    return subprocess.run(
        [sys.executable, "-m", "apicron", *args], env={**clean, **env},
        capture_output=True, text=True, timeout=60, check=False,
    )


# -- the setting --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "65", "two"])
def test_a_worker_count_out_of_bounds_is_refused_in_one_line(value: str) -> None:
    result = cli("config", "show", env={"APICRON_GATEWAY_WORKERS": value})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"apicron: error: APICRON_GATEWAY_WORKERS must be a whole number from 1 to 64, "
        f"got '{value}'"
    )


def test_config_show_lists_the_worker_count_and_where_it_came_from() -> None:
    assert re.search(r"^gateway_workers\s+1\s+default$",
                     cli("config", "show", env={}).stdout, re.M)
    shown = cli("config", "show", env={"APICRON_GATEWAY_WORKERS": "4"}).stdout
    assert re.search(r"^gateway_workers\s+4\s+env APICRON_GATEWAY_WORKERS$", shown, re.M), shown


def test_more_than_one_worker_is_refused_where_the_kernel_does_not_balance_the_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"APICRON_GATEWAY_WORKERS": "2"})
    assert str(caught.value) == (
        "APICRON_GATEWAY_WORKERS must be 1 on this platform (darwin): several gateway "
        "workers share the port through SO_REUSEPORT, which only Linux balances"
    )
    assert load_settings({"APICRON_GATEWAY_WORKERS": "1"}).gateway_workers == 1


# -- two workers on one port --------------------------------------------------------------


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    made = Backend().start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApicronProcess]:
    process = ApicronProcess(tmp_path_factory.mktemp("workers"),
                             {"APICRON_GATEWAY_WORKERS": "2"}).start(timeout=START_S)
    yield process
    process.stop()


def each_worker(
    process: ApicronProcess, send: Callable[[httpx.Client], httpx.Response],
    until: Callable[[httpx.Response], bool], limit: float = 15.0,
) -> tuple[list[httpx.Response], float]:
    """Send on a new connection each time (the kernel picks the worker per connection)
    until every worker has answered so that ``until`` holds; the answers and the seconds
    it took. Fails after ``limit`` seconds: a worker that never sees it is the fault."""
    began = time.monotonic()
    done: set[str] = set()
    answers: list[httpx.Response] = []
    while done != WORKERS:
        with httpx.Client(base_url=f"http://127.0.0.1:{process.gateway_port}",
                          timeout=10) as gw:
            answer = send(gw)
        answers.append(answer)
        worker = answer.headers.get(WORKER_HEADER, "")
        assert worker in WORKERS, answer.headers
        if until(answer):
            done.add(worker)
        assert time.monotonic() - began < limit, (
            f"after {limit} s only workers {sorted(done)} answered as wanted; last: "
            f"{answer.status_code} {answer.text[:200]}"
        )
    return answers, time.monotonic() - began


def metric(process: ApicronProcess, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` with these labels in the server's /metrics."""
    with process.client() as client:
        text = client.get("/metrics").text
    total = 0.0
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample.split("{", 1)[0] != name:
            continue
        if all(f'{key}="{want}"' in sample for key, want in labels.items()):
            total += float(value)
    return total


def test_calls_are_answered_by_both_workers_and_counted_once(
    two_workers: ApicronProcess, backend: Backend
) -> None:
    with two_workers.client() as client:
        app, api = setup(World(client), backend_url=backend.url(backend.path()))
    answers, _ = each_worker(two_workers, lambda gw: gw.post(path_of(api, id="1"),
                                                             headers=hw(app), content=b"{}"),
                             lambda answer: answer.status_code == 200)
    assert {answer.status_code for answer in answers} == {200}
    # Every call once in the sums over the workers (prometheus_client's multiprocess mode).
    assert metric(two_workers, "apicron_gateway_calls_total", api_id=api["id"]) == len(answers)
    assert metric(two_workers, "apicron_gateway_call_duration_seconds_count",
                  api_id=api["id"]) == len(answers)
    assert metric(two_workers, "apicron_gateway_workers_running") == 2
    with httpx.Client() as probe:
        ready = probe.get(f"{two_workers.url}/readyz")
    assert ready.status_code == 200 and ready.json()["gateway_workers"] == "ok", ready.text


def test_a_publish_a_grant_and_a_revocation_reach_every_worker(
    two_workers: ApicronProcess, backend: Backend
) -> None:
    """The SQLite polling fallback of the change watcher, in each worker."""
    with two_workers.client() as client:
        world = World(client)
        owner, caller = world.app(), world.app()
        api = world.api(world.group(owner), publish=False, method="GET",
                        backend_url=backend.url(backend.path()))

        def call(gw: httpx.Client) -> httpx.Response:
            return gw.get(api["path"], headers=hw(caller))

        def answers(status: int) -> Callable[[httpx.Response], bool]:
            return lambda answer: answer.status_code == status

        each_worker(two_workers, call, answers(404))  # both built a snapshot without it
        world.ok(client.post(f"/v1/apis/{api['id']}/publish"))
        _, published = each_worker(two_workers, call, answers(403))  # routed, no grant
        grant = world.grant(caller, api)
        _, granted = each_worker(two_workers, call, answers(200))
        world.ok(client.delete(f"/v1/app-auths/{grant['id']}"), 204)
        _, revoked = each_worker(two_workers, call, answers(403))
    print(f"\nevery worker saw the publish after {published:.3f} s, the grant after "
          f"{granted:.3f} s, the revocation after {revoked:.3f} s")


def test_a_replayed_signature_is_refused_whichever_worker_gets_it(
    two_workers: ApicronProcess, backend: Backend
) -> None:
    """The replay guard's memory is the database (one SQLite file for every worker)."""
    with two_workers.client() as client:
        world = World(client)
        world.ok(client.put("/v1/instance", json={"params": {"replay_guard": True}}))
        marker = backend.path()
        app, api = setup(world, backend_url=backend.url(marker))
    target = path_of(api, id="1")
    url = f"http://127.0.0.1:{two_workers.gateway_port}{target}"
    captured = sign_request("POST", url, {}, b"{}", key=app["key"], secret=app["secret"])
    try:
        answers, _ = each_worker(
            two_workers, lambda gw: gw.post(target, headers=captured, content=b"{}"),
            lambda answer: answer.status_code == 401)
    finally:
        with two_workers.client() as client:
            world.ok(client.put("/v1/instance", json={"params": {"replay_guard": False}}))
    assert [answer.status_code for answer in answers].count(200) == 1
    assert len(backend.to(marker)) == 1


def _worker_pids(process: ApicronProcess) -> dict[str, int]:
    """Each worker's pid, from the serve process's log (the latest line per worker)."""
    pids: dict[str, int] = {}
    log = process.log()
    for listing in re.findall(r"gateway workers listening: (.*)", log):
        pids.update(re.findall(r"(\d+) \(pid (\d+)\)", listing))
    pids.update(re.findall(r"gateway worker (\d+) restarted \(pid (\d+)\)", log))
    return {slot: int(pid) for slot, pid in pids.items()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for the port; serve reaps its children.
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return status != "Z"


def wait_for(check: Callable[[], Any], what: str, limit: float = 30.0) -> Any:
    deadline = time.monotonic() + limit
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return found


def test_a_killed_worker_is_reported_and_restarted_and_sigterm_stops_them_all(
    tmp_path: Path, backend: Backend
) -> None:
    process = ApicronProcess(tmp_path, {"APICRON_GATEWAY_WORKERS": "2"}).start(timeout=START_S)
    try:
        first = _worker_pids(process)
        assert set(first) == WORKERS and all(_alive(pid) for pid in first.values())
        os.kill(first["2"], signal.SIGKILL)
        wait_for(lambda: "gateway worker 2 (pid" in process.log(), "the death in the log")
        assert re.search(rf"ERROR .*gateway worker 2 \(pid {first['2']}\) exited with signal 9 "
                         r"\(SIGKILL\); restarting it", process.log()), process.log()[-2000:]
        again = wait_for(lambda: _worker_pids(process)["2"] != first["2"] and _worker_pids(
            process), "the restart")
        assert again["1"] == first["1"] and _alive(again["2"])
        assert metric(process, "apicron_gateway_worker_restarts_total", worker="2") == 1
        assert metric(process, "apicron_gateway_worker_restarts_total", worker="1") == 0
        wait_for(lambda: httpx.get(f"{process.url}/readyz").status_code == 200, "ready again")
        with process.client() as client:
            app, api = setup(World(client), backend_url=backend.url(backend.path()))
        each_worker(process, lambda gw: gw.post(path_of(api, id="1"), headers=hw(app),
                                                content=b"{}"),
                    lambda answer: answer.status_code == 200)
        process.stop(signal.SIGTERM)
        assert process.process is not None and process.process.returncode == 0
        assert not any(_alive(pid) for pid in again.values())
        assert "exited with" not in process.log().split("restarted (pid", 1)[1]
    finally:
        process.stop()
        for pid in _worker_pids(process).values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_workers_do_not_outlive_a_serve_killed_with_9(tmp_path: Path) -> None:
    """Their stdin is serve's pipe: its end stops them (no orphan keeps the port)."""
    process = ApicronProcess(tmp_path, {"APICRON_GATEWAY_WORKERS": "2"}).start(timeout=START_S)
    pids = _worker_pids(process)
    try:
        assert set(pids) == WORKERS
        process.stop(signal.SIGKILL)
        wait_for(lambda: not any(_alive(pid) for pid in pids.values()),
                 "the workers to stop after serve was killed")
    finally:
        process.stop()
        for pid in pids.values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
