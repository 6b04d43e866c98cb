"""What an operator relies on: /metrics, JSON logs without personal text, a graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.chat import TeamsUser
from bot.local_connector import LocalConnector
from bot.logs import JsonFormatter
from tests.serving import serve, wait_ready
from tests.web.conftest import TENANT, RunningBot, start_bot


@pytest.fixture
async def running_bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    async for running in start_bot(tmp_path, LocalConnector()):
        yield running


async def read_metrics(running: RunningBot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on /metrics, by name and labels."""
    async with running.http.get(running.url + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        body = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def turns(figures: dict[Any, float], outcome: str, kind: str = "message") -> float:
    return figures.get(("wegwijzer_turns_total", (("outcome", outcome), ("type", kind))), 0.0)


async def test_metrics_count_turns_by_outcome_and_time_them(running_bot: RunningBot) -> None:
    before = await read_metrics(running_bot)
    await running_bot.send(running_bot.user().says("menu"))
    stranger = running_bot.user()
    stranger.tenant_id = "other-tenant"
    await running_bot.send(stranger.says("menu"))
    async with running_bot.http.post(running_bot.url + "/api/messages", data=b"x") as response:
        assert response.status == 415
    after = await read_metrics(running_bot)

    assert turns(after, "ok") - turns(before, "ok") == 1
    assert turns(after, "refused") - turns(before, "refused") == 1
    refused = ("wegwijzer_requests_refused_total", (("status", "415"),))
    assert after[refused] - before.get(refused, 0.0) == 1
    count = ("wegwijzer_turn_seconds_count", (("type", "message"),))
    assert after[count] - before.get(count, 0.0) == 2


async def test_a_failed_turn_is_counted_as_an_error_with_its_kind(tmp_path: Path) -> None:
    failures = iter([500])
    connector = LocalConnector(fail_with=lambda _: next(failures, None))
    async for running in start_bot(tmp_path, connector):
        before = await read_metrics(running)
        await running.send(running.user().says("menu"))
        after = await read_metrics(running)
    assert turns(after, "error") - turns(before, "error") == 1
    errors = {key: value for key, value in after.items() if key[0] == "wegwijzer_errors_total"}
    assert any(dict(labels)["where"] == "turn" for _, labels in errors)
    assert (
        sum(errors.values())
        - sum(value for key, value in before.items() if key[0] == "wegwijzer_errors_total")
        == 1
    )


async def test_another_part_registers_its_figures_and_they_show(running_bot: RunningBot) -> None:
    deliveries = metrics.counter("test_deliveries", "Deliveries, for this test", ["outcome"])
    deliveries.labels("sent").inc(3)
    figures = await read_metrics(running_bot)
    assert figures[("wegwijzer_test_deliveries_total", (("outcome", "sent"),))] == 3


def test_a_json_log_line_has_the_fields_and_the_failure_without_its_message() -> None:
    try:
        raise ValueError("Jan Jansen schreef: mijn geheime verhaal")
    except ValueError:
        record = logging.LogRecord(
            "bot.errors", logging.ERROR, __file__, 1, "turn failed", None, sys.exc_info()
        )
    record.conversation_kind = "personal"
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.errors"
    assert entry["message"] == "turn failed" and entry["conversation_kind"] == "personal"
    assert entry["error"].startswith("builtins.ValueError at test_operations.py:")
    assert "Jan" not in line and "geheime" not in line


class SlowConnector(LocalConnector):
    """A Bot Connector that takes a while to accept each reply, so a turn stays in flight."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.first_call = asyncio.Event()

    async def _activity(self, request: web.Request) -> web.Response:
        self.first_call.set()
        await asyncio.sleep(self.delay)
        return await super()._activity(request)


async def test_serve_finishes_a_turn_in_flight_on_sigterm_and_logs_json_without_text(
    sqlite_url: str, tmp_path: Path
) -> None:
    connector = SlowConnector(delay=1.0)
    await connector.start()
    settings = {
        "DATABASE_URL": sqlite_url,
        "ALLOWED_TENANT_IDS": TENANT,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    try:
        async with serve(tmp_path, **settings) as (url, server), aiohttp.ClientSession() as http:
            await wait_ready(http, url)
            user = TeamsUser(url + "/api/messages", connector.url, TENANT)
            turn = asyncio.ensure_future(
                http.post(user.bot_url, json=user.says("Jan Jansen: mijn geheime vraag"))
            )
            await asyncio.wait_for(connector.first_call.wait(), 10)
            server.send_signal(signal.SIGTERM)  # the turn is now waiting for the connector
            async with await asyncio.wait_for(turn, 20) as response:
                status = response.status
            _, err = await asyncio.wait_for(server.communicate(), 20)
    finally:
        await connector.stop()

    assert status in (200, 201)
    assert connector.messages(), "the turn's answer reached the connector before the exit"
    assert server.returncode == 0
    lines = err.decode().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    messages = [entry["message"] for entry in entries]
    assert any(m.startswith("shutting down") for m in messages)
    assert "Jan" not in err.decode() and "geheime" not in err.decode()
