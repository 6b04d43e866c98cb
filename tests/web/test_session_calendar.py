"""The calendar button: a signed link the bot serves, showing the place as it is now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from icalendar import Calendar

from bot.app import APP_KEY
from bot.card_text import card_text
from content.verbs import Verb
from services.session_admin import cancel_session, change_session
from services.session_types import SessionDetails, SessionInfo
from storage.db import create_session_factory
from storage.uow import UnitOfWork
from tests.web.conftest import RunningBot
from tests.web.test_messages import cards
from tests.web.test_sessions import button, outbox, plan, press, sign_up, text_of

CALENDAR = "Zet in je agenda"


async def fetch(running_bot: RunningBot, url: str) -> tuple[int, str, bytes]:
    """GET a link's path and query on the running bot (the link names the configured host)."""
    parts = urlsplit(url)
    async with running_bot.http.get(f"{running_bot.url}{parts.path}?{parts.query}") as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


def event_of(ics: bytes) -> tuple[Calendar, Any]:
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


async def signed_up_link(running_bot: RunningBot, session: SessionInfo) -> tuple[Any, str]:
    user = running_bot.user()
    shown = await sign_up(running_bot, user, session)
    assert "Je bent aangemeld" in text_of(shown)
    return user, button(shown, CALENDAR).url


async def test_the_confirmation_links_an_ics_at_the_local_time_in_amsterdam(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    _, url = await signed_up_link(running_bot, session)

    status, content_type, ics = await fetch(running_bot, url)

    assert status == 200
    assert content_type.startswith("text/calendar")
    calendar, event = event_of(ics)
    assert calendar["method"] == "REQUEST"
    start = event.decoded("dtstart")
    assert (start.tzinfo.key, start.hour, start.minute) == ("Europe/Amsterdam", 15, 0)
    assert start == session.starts_at
    assert event.decoded("dtend") - start == timedelta(minutes=90)
    assert str(event["location"]) == "Amstelpark 22"
    assert str(event["summary"]) == "Gesprek met de wethouder"
    description = str(event["description"])
    assert "Thema: Inclusief leidinggeven" in description
    assert "Er komt geen verslag" in description
    assert "Bureau Integriteit luistert mee" in description
    assert "De wethouder krijgt vooraf de lijst met deelnemers" in description
    assert calendar.walk("VTIMEZONE")[0]["tzid"] == "Europe/Amsterdam"


async def test_an_english_link_gives_english_text(running_bot: RunningBot) -> None:
    session = await plan(running_bot)
    user = running_bot.user(locale="en-US")
    shown = await sign_up(running_bot, user, session)

    status, _, ics = await fetch(running_bot, button(shown, "Add to your calendar").url)

    assert status == 200
    assert "Theme: Inclusief leidinggeven" in str(event_of(ics)[1]["description"])


async def test_a_changed_or_forged_link_is_not_found(running_bot: RunningBot) -> None:
    session = await plan(running_bot)
    _, url = await signed_up_link(running_bot, session)
    _, other = await signed_up_link(running_bot, session)
    path = urlsplit(url).path
    registration, ticket, signature = path.rsplit("/", 1)[1].removesuffix(".ics").split("-", 2)
    other_signature = urlsplit(other).path.rsplit("/", 1)[1].split("-", 2)[2]

    for forged in (
        f"/sessions/calendar/{registration}-{ticket}-{'A' * 43}.ics",
        f"/sessions/calendar/{int(registration) + 1}-{ticket}-{signature}.ics",
        f"/sessions/calendar/{registration}-{int(ticket) + 1}-{signature}.ics",
        f"/sessions/calendar/{registration}-{ticket}-{other_signature}",
        f"/sessions/calendar/{registration}-{ticket}-{signature[:-1]}.ics",
    ):
        async with running_bot.http.get(running_bot.url + forged) as response:
            assert response.status == 404, forged


async def test_my_sign_ups_has_the_link_and_after_cancelling_it_serves_the_cancellation(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    user, url = await signed_up_link(running_bot, session)
    _, _, before = await fetch(running_bot, url)
    mine = await press(running_bot, user, Verb.MY_SESSIONS)
    assert button(mine, CALENDAR).url == url

    cancelled = await press(running_bot, user, Verb.SESSION_CANCEL, session=session.id)
    assert button(cancelled, "Haal uit je agenda").url == url
    status, content_type, after = await fetch(running_bot, url)

    assert status == 200 and "method=CANCEL" in content_type
    calendar, cancelled = event_of(after)
    _, original = event_of(before)
    assert calendar["method"] == "CANCEL"
    assert str(cancelled["status"]) == "CANCELLED"
    assert str(cancelled["uid"]) == str(original["uid"])
    assert int(cancelled["sequence"]) > int(original["sequence"])


async def test_signing_up_again_after_cancelling_is_a_new_event(running_bot: RunningBot) -> None:
    session = await plan(running_bot)
    user, old_url = await signed_up_link(running_bot, session)
    await press(running_bot, user, Verb.SESSION_CANCEL, session=session.id)

    shown = await sign_up(running_bot, user, session)
    new_url = button(shown, CALENDAR).url

    _, _, old = await fetch(running_bot, old_url)
    _, _, new = await fetch(running_bot, new_url)
    assert event_of(old)[0]["method"] == "CANCEL"
    assert event_of(new)[0]["method"] == "REQUEST"
    assert str(event_of(old)[1]["uid"]) != str(event_of(new)[1]["uid"])


async def test_no_link_for_the_waiting_list(running_bot: RunningBot) -> None:
    session = await plan(running_bot, capacity=1)
    await signed_up_link(running_bot, session)
    waiting = running_bot.user()

    shown = await sign_up(running_bot, waiting, session)
    shown += await press(running_bot, waiting, Verb.SESSION_CANCEL, session=session.id)

    assert "wachtlijst" in text_of(shown)
    assert "Je bent afgemeld" in text_of(shown)
    titles = {b.title for card in shown for b in card.buttons}
    assert CALENDAR not in titles and "Haal uit je agenda" not in titles


async def test_a_moved_session_reaches_the_chat_with_a_link_to_the_moved_event(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    _, url = await signed_up_link(running_bot, session)
    _, _, before = await fetch(running_bot, url)
    moved = session.starts_at + timedelta(days=1, hours=1)
    session_factory = create_session_factory(running_bot.app[APP_KEY].engine)
    before_count = len(running_bot.connector.received)

    async with UnitOfWork(session_factory) as uow:
        await change_session(
            uow=uow,
            session_id=session.id,
            details=SessionDetails(**{**_details(session), "starts_at": moved}),
            now=datetime.now(UTC),
            rules=running_bot.app[APP_KEY].settings.session_rules(),
        )
    arrived = await running_bot.connector.wait_for_messages(after=before_count)

    [notice] = [card_text(c) for c in cards(arrived)]
    assert "Je gesprek is veranderd" in "\n".join(notice.lines)
    link = next(b.url for b in notice.buttons if b.title == CALENDAR)
    assert link == url  # the same place, the same link: it serves the event as it is now
    _, _, after = await fetch(running_bot, link)
    _, event = event_of(after)
    assert event.decoded("dtstart") == moved
    assert event.decoded("dtstart").hour == 16
    assert str(event["uid"]) == str(event_of(before)[1]["uid"])
    assert int(event["sequence"]) > int(event_of(before)[1]["sequence"])


async def test_a_cancelled_session_serves_the_cancellation_and_its_notice_says_remove(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    user, url = await signed_up_link(running_bot, session)
    session_factory = create_session_factory(running_bot.app[APP_KEY].engine)
    before_count = len(running_bot.connector.received)

    async with UnitOfWork(session_factory) as uow:
        await cancel_session(uow=uow, session_id=session.id, now=datetime.now(UTC))
    arrived = await running_bot.connector.wait_for_messages(after=before_count)

    [notice] = [card_text(c) for c in cards(arrived)]
    link = next(b.url for b in notice.buttons if b.title == "Haal uit je agenda")
    assert link == url
    _, _, ics = await fetch(running_bot, link)
    assert event_of(ics)[0]["method"] == "CANCEL"
    reminders = [m for m in await outbox(running_bot, user.aad_object_id) if m.kind == "reminder"]
    assert reminders and {m.state for m in reminders} == {"skipped"}


def _details(session: SessionInfo) -> dict[str, Any]:
    return {
        field: getattr(session, field)
        for field in (
            "offer",
            "starts_at",
            "theme",
            "duration_minutes",
            "location",
            "questions",
            "audience",
            "capacity",
            "signup_deadline",
        )
    }


async def test_the_reminders_queued_for_a_place_get_its_link_when_they_are_sent(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    user, url = await signed_up_link(running_bot, session)
    reminders = [m for m in await outbox(running_bot, user.aad_object_id) if m.kind == "reminder"]
    links = running_bot.app[APP_KEY].calendar_files.links
    renderer = running_bot.app[APP_KEY].replies.renderer

    for reminder in reminders:
        data = json.loads(reminder.data)
        values = links.values_for(reminder.template, data, "nl")
        card = card_text(renderer.card(reminder.template, "nl", **data, **values).card)
        assert next(b.url for b in card.buttons if b.title == CALENDAR) == url
        assert any(b.title == "Meld me af" for b in card.buttons)
    assert len(reminders) == 2
    assert links.values_for("session_place_offered", json.loads(reminders[0].data), "nl") == {}
