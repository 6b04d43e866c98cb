"""What a caller sees when something fails: a proper status, a short log line, no content.

And when the database hangs: an answer within Teams' window, then at once, until it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from sqlalchemy.engine import make_url

from bot.app import APP_KEY
from bot.local_connector import LocalConnector
from storage.breaker import breaker_for
from tests.web.conftest import RunningBot, start_bot
from tests.web.test_messages import cards

SECRET = "mijn-geheime-verhaal"


async def test_an_execute_with_an_unexpected_action_type_gets_a_calm_answer(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    activity = running_bot.user().executes("finder", {"x": SECRET})
    activity["value"]["action"]["type"] = f"Action.{SECRET}"
    with caplog.at_level(logging.DEBUG):
        async with running_bot.http.post(
            running_bot.url + "/api/messages", json=activity
        ) as response:
            assert response.status == 200
            assert "Traceback" not in await response.text()
    assert SECRET not in caplog.text and "Traceback" not in caplog.text


async def test_expect_replies_is_refused_with_a_proper_status(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    activity = running_bot.user().says(f"menu {SECRET}")
    activity["deliveryMode"] = "expectReplies"
    with caplog.at_level(logging.DEBUG):
        status, _ = await running_bot.send(activity)
    assert status == 400
    assert SECRET not in caplog.text and "Traceback" not in caplog.text


async def test_an_unexpected_failure_answers_500_and_logs_no_content(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = running_bot.app[APP_KEY].adapter

    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(adapter, "process_activity", broken)
    with caplog.at_level(logging.DEBUG):
        async with running_bot.http.post(
            running_bot.url + "/api/messages", json=running_bot.user().says(SECRET)
        ) as response:
            assert response.status == 500
            assert SECRET not in await response.text()
    assert "request failed: builtins.RuntimeError" in caplog.text
    assert SECRET not in caplog.text and "Traceback" not in caplog.text


async def test_a_newline_in_a_logged_field_cannot_forge_a_log_line(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    activity = running_bot.user().says("menu")
    activity["channelId"] = "slack\n2026-11-29 12:00:00 ERROR forged: admin logged in"
    with caplog.at_level(logging.INFO):
        status, messages = await running_bot.send(activity)
    assert status in (200, 201) and messages == []
    assert "refused activity" in caplog.text
    assert not any(line.startswith("2026-11-29 12:00:00") for line in caplog.text.splitlines())
    assert "slack\\n2026" in caplog.text


class HungDatabase:
    """A TCP server on loopback that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _accept(self, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)  # kept open, never answered

    async def __aenter__(self) -> HungDatabase:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()


@contextlib.asynccontextmanager
async def bot_on(database_url: str) -> AsyncIterator[RunningBot]:
    """A bot whose database is `database_url`, started without migrating it."""
    async for bot in start_bot(Path(), LocalConnector(), database_url, migrate=False):
        yield bot


async def timed_turn(bot: RunningBot) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    status, messages = await bot.send(bot.user().says("menu"))
    assert status in (200, 201)
    return time.perf_counter() - started, messages


async def test_a_hung_database_gets_an_answer_in_time_and_then_at_once() -> None:
    async with (
        HungDatabase() as hung,
        bot_on(f"postgresql+asyncpg://nobody@127.0.0.1:{hung.port}/wegwijzer") as bot,
    ):
        first = await asyncio.gather(*(timed_turn(bot) for _ in range(3)))
        for seconds, messages in first:
            assert seconds < 10, f"a turn took {seconds:.1f} s: Teams waits 15 at most"
            assert "Probeer het zo nog eens" in messages[-1]["text"]
        seconds, messages = await timed_turn(bot)
        assert seconds < 1, f"with the breaker open a turn still took {seconds:.2f} s"
        assert "Probeer het zo nog eens" in messages[-1]["text"]
        async with bot.http.get(bot.url + "/readyz") as response:
            assert response.status == 503


async def test_many_readiness_probes_at_once_share_one_check(
    running_bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.app

    checks = 0
    ping = bot.app.ping

    async def counted(engine: Any) -> bool:
        nonlocal checks
        checks += 1
        return await ping(engine)

    monkeypatch.setattr(bot.app, "ping", counted)
    # The route's handler, 6,000 times at once: as many probes as sockets could not carry here.
    probe = make_mocked_request("GET", "/readyz", app=running_bot.app)
    responses = await asyncio.gather(*(bot.app._readyz(probe) for _ in range(6000)))
    statuses = [response.status for response in responses]
    assert statuses.count(200) == 6000, f"{6000 - statuses.count(200)} probes said not ready"
    assert checks <= 5, f"{checks} database checks for 6,000 probes"


class FlakyProxy:
    """A loopback TCP proxy to PostgreSQL that can stop passing anything on (hang) and resume."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                await self.flowing.wait()  # hung: accepted, read, never passed on
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.flowing.wait()
        target_reader, target_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        for task in (
            asyncio.create_task(self._pipe(reader, target_writer)),
            asyncio.create_task(self._pipe(target_reader, writer)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def __aenter__(self) -> FlakyProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self.flowing.set()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()


async def test_the_bot_recovers_by_itself_when_the_database_answers_again(
    postgres_url: str,
) -> None:
    url = make_url(postgres_url)
    async with FlakyProxy(url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        async with bot_on(proxied) as bot:
            breaker = breaker_for(bot.app[APP_KEY].engine)
            breaker.cooldown = 0.5
            _, messages = await timed_turn(bot)
            assert cards(messages), "the menu, while the database answers"

            proxy.flowing.clear()
            turns = await asyncio.gather(*(timed_turn(bot) for _ in range(3)))
            assert all("Probeer het zo nog eens" in m[-1]["text"] for _, m in turns)
            assert breaker.is_open

            proxy.flowing.set()
            for _ in range(40):
                await asyncio.sleep(0.6)
                _, messages = await timed_turn(bot)
                if cards(messages):
                    break
            assert cards(messages), "the bot answered normally again without a restart"
            assert not breaker.is_open


async def test_the_same_answer_pressed_twice_at_once_gets_a_calm_word_not_the_apology(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    # Two turns of one conversation at once: the one that saves its state second is refused
    # (eTag). It said "Sorry, er ging iets mis aan mijn kant" and logged an error, though nothing
    # broke: a double click does this.
    user = running_bot.user()
    await running_bot.send(user.presses({"action": "finder"}))
    role = user.presses({"finder": "teammanager"})

    async def press() -> int:
        async with running_bot.http.post(running_bot.url + "/api/messages", json=role) as sent:
            return sent.status

    before = len(running_bot.connector.messages())
    with caplog.at_level(logging.INFO):
        statuses = await asyncio.gather(press(), press(), press())
    said = " ".join(m.get("text") or "" for m in running_bot.connector.messages()[before:])

    assert set(statuses) <= {200, 201}
    assert "twee keer vlak na elkaar" in said and "iets mis" not in said
    assert "turn failed" not in caplog.text and "overtaken" in caplog.text
    # The winner's step stands: the next question is the theme.
    _, after = await running_bot.send(user.presses({"finder": "gesprekstechnieken"}))
    assert any("Vraag 3 van 4" in str(card) for card in cards(after))
