"""The README's walkthrough, run as written: every ``apicron`` command of it against a real
server, so a rule added later cannot leave the first page a new user reads broken."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import ADMIN_TOKEN, ApicronProcess

README = Path(__file__).resolve().parent.parent / "README.md"


@dataclass
class Command:
    argv: list[str]
    documented: list[str] = field(default_factory=list)  # the comment lines after it


def walkthrough_commands(text: str) -> list[Command]:
    """The ``apicron …`` commands of the walkthrough's sh blocks, with the ``# …`` lines that
    follow each (what the README says it prints)."""
    section = text.split("## Five-minute walkthrough", 1)[1].split("\n## ", 1)[0]
    commands: list[Command] = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        current: Command | None = None
        for line in joined.splitlines():
            stripped = line.strip()
            if stripped.startswith("apicron "):
                current = Command(shlex.split(stripped, comments=True))
                commands.append(current)
            elif stripped.startswith("#") and current is not None:
                current.documented.append(stripped.lstrip("# ").rstrip())
            else:
                current = None
    return commands


def run(server: ApicronProcess, argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APICRON_URL": server.url, "APICRON_ADMIN_TOKEN": ADMIN_TOKEN}
    return subprocess.run(
        [sys.executable, "-m", "apicron", *argv[1:]], env=env, capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL, check=False,
    )


def test_the_parser_finds_the_walkthrough() -> None:
    commands = walkthrough_commands(README.read_text())
    names = [" ".join(c.argv[1:3]) for c in commands]
    for expected in ("app create", "group create", "api create", "grant create", "task create",
                     "task start", "task run", "cron explain"):
        assert expected in names, names


def test_every_walkthrough_command_does_what_the_readme_says(
    fresh_server: ApicronProcess,
) -> None:
    for command in walkthrough_commands(README.read_text()):
        result = run(fresh_server, command.argv)
        shown = " ".join(command.argv)
        errors = [d for d in command.documented if d.startswith("apicron: error:")]
        if errors:
            assert result.returncode != 0, (shown, result.stdout)
            # The README cuts a long message with "…"; the part before it is printed as is.
            assert errors[0].split("…")[0] in result.stderr, (shown, result.stderr)
            continue
        assert result.returncode == 0, (shown, result.stderr)
        for line in command.documented:
            # Lines naming the schedule in words are stable; dates and tables depend on today.
            if line.startswith(("schedule:", "At ")):
                assert line in result.stdout + result.stderr, (shown, line, result.stdout)
