"""What a backend answers is kept as a redacted excerpt (≤ 4 KiB): every credential form
the call carried is redacted before the answer is cut, so none survives in part. Driven
clock, real store (SQLite and PostgreSQL), real gateway code, a real backend on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from apicron.domain.models import AppCreate
from apicron.engine.dispatch import EXCERPT_BYTES
from apicron.services import apps
from apicron.signing import occurrence_key
from tests.conftest import unique
from tests.engine_harness import Backend, Harness


class CarelessBackend(Backend):
    """Answers with what the test says, the call's own headers filled in."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = ""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append({"headers": dict(request.headers)})
        text = self.answer
        for name, value in request.headers.items():
            text = text.replace("{" + name.lower() + "}", value)
        return web.Response(text=text)


def _run(tmp_path: Path, database_url: str | None, answer: str) -> tuple[str, dict[str, str]]:
    """The excerpt recorded for one call answered with ``answer`` (``{secret}``, ``{key}``,
    ``{occurrence_key}`` and ``{header-name}`` filled in), and the values filled in."""
    result: list[str] = []
    values: dict[str, str] = {}

    async def main() -> None:
        harness = Harness(tmp_path, database_url)
        backend = harness.backend = CarelessBackend()
        async with harness as h:
            app = apps.create_app(h.ctx, AppCreate(name=unique("app")))
            owned = h.api(owner=app.id)
            values.update(secret=app.secret, key=app.key,
                          occurrence_key=occurrence_key(app.secret, owned["api_id"]))
            text = answer
            for name, value in values.items():
                text = text.replace("{" + name + "}", value)
            backend.answer = text
            task_id = h.task(owned, cron_expression="0 0 * * * ?")
            await h.advance(1)
            (execution,) = h.history(task_id)
            excerpt = execution.attempts[0].response_excerpt
            assert execution.status == "SUCCEEDED" and excerpt is not None
            result.append(excerpt)
            values["signature"] = backend.received[0]["headers"][
                "X-Apicron-Occurrence-Signature"].removeprefix("v1=")

    asyncio.run(main())
    return result[0], values


def test_a_secret_straddling_the_4_kib_cut_is_redacted_not_halved(
    tmp_path: Path, database_url: str | None
) -> None:
    padding = "p" * (EXCERPT_BYTES - 12)
    excerpt, values = _run(tmp_path, database_url, padding + "{secret}" + "q" * 200)
    assert len(excerpt.encode()) <= EXCERPT_BYTES
    assert excerpt.startswith(padding)
    assert values["secret"][:12] not in excerpt
    assert excerpt[len(padding):].startswith("[REDAC")


def test_every_credential_form_the_call_carried_is_redacted(
    tmp_path: Path, database_url: str | None
) -> None:
    answer = ("secret={secret} key={key} occurrence-key={occurrence_key} "
              "signature={x-apicron-occurrence-signature} end")
    excerpt, values = _run(tmp_path, database_url, answer)
    for name in ("secret", "key", "occurrence_key", "signature"):
        assert values[name] not in excerpt, name
    assert excerpt == ("secret=[REDACTED] key=[REDACTED] occurrence-key=[REDACTED] "
                       "signature=v1=[REDACTED] end")
