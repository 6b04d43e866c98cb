"""The outbox's figures on /metrics, read over HTTP from a running app: what the dispatcher did
(by outcome, retries by cause, 429 pauses) and the outbox's state (by state, oldest due age),
with no content, no names and no ids of people in them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.app import APP_KEY, create_app
from bot.outbox_metrics import cause_of
from bot.periodic import PeriodicJobs
from bot.settings import Settings
from services.outbox import Recipient
from storage.types import utcnow
from tests.bot.outbox_fixtures import FAST, Outbox, sqlite_outbox

Figures = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def outbox(sqlite_url: str) -> AsyncIterator[Outbox]:
    async with sqlite_outbox(sqlite_url) as box:
        yield box


@dataclass
class RunningApp:
    url: str
    jobs: PeriodicJobs

    async def scrape(self) -> tuple[str, Figures]:
        """Read the outbox's state now (the app's periodic job), then GET /metrics."""
        assert (await self.jobs.run_once())["outbox-figures"]
        async with aiohttp.ClientSession() as http, http.get(self.url + "/metrics") as response:
            assert response.status == 200
            body = await response.text()
        figures: Figures = {}
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name.startswith("wegwijzer_outbox_"):
                    figures[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return body, figures


@pytest.fixture
async def app(sqlite_url: str) -> AsyncIterator[RunningApp]:
    """A running app on the same database; its own dispatcher and jobs off (the test runs
    them)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, DATABASE_URL=sqlite_url, OUTBOX_ENABLED=False, JOBS_ENABLED=False
    )
    application = create_app(settings)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield RunningApp(f"http://127.0.0.1:{runner.addresses[0][1]}", application[APP_KEY].jobs)
    finally:
        await runner.cleanup()


def delta(before: Figures, after: Figures, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_the_dispatchers_outcomes_and_the_outbox_state_show_without_people(
    outbox: Outbox, app: RunningApp
) -> None:
    people = ["anna", "bram", "cem", "dora"]
    for person in people:
        await outbox.remember(person)
        await outbox.queue(person, Recipient.person(person), n=7)
    outbox.connector.by_conversation["a:anna"].append(503)  # tried again, then sent
    outbox.connector.by_conversation["a:bram"].append((429, 0.2))  # a pause, then sent
    outbox.connector.by_conversation["a:cem"].append(404)  # unreachable
    _, before = await app.scrape()

    dispatcher = outbox.dispatcher(replace(FAST, rate_per_second=5))
    for _ in range(200):
        await dispatcher.run_once()
        if len(outbox.connector.received) == 3:
            break
        await asyncio.sleep(0.05)
    body, after = await app.scrape()

    sends = "wegwijzer_outbox_sends_total"
    assert {
        outcome: delta(before, after, sends, outcome=outcome)
        for outcome in ("sent", "retried", "throttled", "unreachable", "failed")
    } == {"sent": 3, "retried": 1, "throttled": 1, "unreachable": 1, "failed": 0}
    assert delta(before, after, "wegwijzer_outbox_retries_total", cause="503") == 1
    assert delta(before, after, "wegwijzer_outbox_pauses_total") == 1
    assert 0.15 <= delta(before, after, "wegwijzer_outbox_paused_seconds_total") <= 0.25
    # The whole outbox's state, read by the app's periodic job.
    assert after[("wegwijzer_outbox_messages", (("state", "sent"),))] == 3
    assert after[("wegwijzer_outbox_messages", (("state", "unreachable"),))] == 1
    assert after[("wegwijzer_outbox_messages", (("state", "pending"),))] == 0
    assert after[("wegwijzer_outbox_oldest_due_seconds", ())] == 0
    for private in (*people, "a:", "29:", "nl 7", "probe", "http://127.0.0.1"):
        assert private not in body


async def test_the_oldest_due_message_shows_how_long_it_has_waited(
    outbox: Outbox, app: RunningApp
) -> None:
    await outbox.remember("anna")
    await outbox.queue("late", Recipient.person("anna"), due=utcnow() - timedelta(minutes=5))
    await outbox.queue("later", Recipient.person("anna"), due=utcnow() + timedelta(hours=1))

    _, figures = await app.scrape()

    assert 295 <= figures[("wegwijzer_outbox_oldest_due_seconds", ())] <= 400
    assert figures[("wegwijzer_outbox_messages", (("state", "pending"),))] == 2


def test_a_retrys_cause_is_one_of_a_few_fixed_labels() -> None:
    assert [
        cause_of(reason)
        for reason in ("timeout", "connection: ClientOSError", "http 503", "http 412", "http 418")
    ] == ["timeout", "connection", "503", "412", "other"]
