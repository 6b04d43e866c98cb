"""The Bureau's session buttons and form against forged or absurd card data: a clear answer,
nothing changed, never an error (tried as an attacker would, through /api/messages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from bot.app import APP_KEY
from bot.chat import TeamsUser
from bot.session_bureau_form import form_values
from content.verbs import Verb
from storage.db import create_engine, create_session_factory
from storage.models import OfferSession, SessionEvaluation
from tests.web.bureau import account, bureau_bot, says_to_bot
from tests.web.conftest import RunningBot
from tests.web.test_session_bureau import (
    MEMBER,
    _in_a_month,
    bot,
    execute,
    form,
    lines,
    member,
    sign_up_as,
)
from tests.web.test_sessions import plan, press, sign_up, text_of

__all__ = ["bot"]  # the fixture, used by name

BUREAU_SESSION_VERBS = (
    Verb.SESSION_EDIT,
    Verb.SESSION_CHANGE,
    Verb.SESSION_CALL_OFF,
    Verb.SESSION_PARTICIPANTS,
    Verb.SESSION_REMOVE,
)


async def planned(bot: RunningBot) -> int:
    engine = create_engine(bot.database_url)
    try:
        async with create_session_factory(engine)() as db:
            return int(await db.scalar(select(func.count()).select_from(OfferSession)) or 0)
    finally:
        await engine.dispose()


async def test_a_forged_session_number_on_a_bureau_button_gets_the_stale_card(
    bot: RunningBot,
) -> None:
    user = member(bot)
    # "²" passes str.isdigit but not int(); 2**70 passes int() but not the database.
    for forged in ("²", 2**70, 2**31, "1" * 30):
        for verb in BUREAU_SESSION_VERBS:
            data: dict[str, Any] = {**form(_in_a_month()), "registration": forged}
            shown, _ = await execute(bot, user, verb, session=forged, **data)
            assert "Deze kaart is niet meer actueel" in lines(shown), (verb, forged)
    assert await planned(bot) == 0


async def test_a_session_years_ahead_is_refused_with_a_clear_answer(bot: RunningBot) -> None:
    # Year 9999 at 23:59 for ten hours ran past the last date Python knows: a 500 to Teams.
    far = {"date": "9999-12-31", "time": "23:59", "duration": "600", "deadline_date": ""}
    for user, expected in (
        (member(bot), "hooguit twee jaar vooruit"),
        (member(bot, locale="en-US"), "at most two years ahead"),
    ):
        for changes in (far, {**far, "time": "10:00", "duration": "90"}):
            shown, _ = await execute(
                bot, user, Verb.SESSION_CREATE, **form(_in_a_month(), **changes)
            )
            assert expected in lines(shown)
    assert await planned(bot) == 0


@pytest.mark.postgres
async def test_control_characters_typed_into_session_cards_are_dropped_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    # PostgreSQL refuses a NUL byte: the plan answered 500, the sign-up the apology.
    bureau = TeamsUser("", "", "", aad_object_id=MEMBER)
    async for pg_bot in bureau_bot(tmp_path, [account(bureau)], database_url=postgres_url):
        created, _ = await execute(
            pg_bot,
            member(pg_bot),
            Verb.SESSION_CREATE,
            **form(_in_a_month(), theme="Inclusief\x00 leiden\x07", location="Zaal\x1b[31m 2"),
        )
        assert "Thema: Inclusief leiden" in lines(created)
        assert "Waar: Zaal [31m 2" in lines(created)
        session_id = next(b for b in created.buttons if b.verb == Verb.SESSION_EDIT.value).data[
            "session"
        ]
        await sign_up_as(
            pg_bot,
            "Sam\u202e de Vries",
            session_id,
            function="Team\x00leider",
            directorate="Belas\x85tingen",
        )
        _, new = await execute(
            pg_bot, member(pg_bot), Verb.SESSION_PARTICIPANTS, session=session_id
        )
        assert "Sam de Vries" in lines(new[0])
        assert "Team leider" in lines(new[0])
        assert "Belas tingen" in lines(new[0])


async def test_a_sign_up_deadline_in_the_past_is_refused_unless_the_session_has_it(
    bot: RunningBot,
) -> None:
    # It planned a session nobody could sign up for, shown as open until a job closed it.
    past = {"deadline_date": (datetime.now(UTC) - timedelta(days=2)).date().isoformat()}
    for user, expected in (
        (member(bot), "Dan is het aanmelden al voorbij"),
        (member(bot, locale="en-US"), "Sign-up would already be over"),
    ):
        shown, _ = await execute(bot, user, Verb.SESSION_CREATE, **form(_in_a_month(), **past))
        assert expected in lines(shown)
    assert await planned(bot) == 0

    # A session whose sign-up has closed can still get a new room: its deadline stays.
    closed = await plan(bot, signup_deadline=datetime.now(UTC) - timedelta(hours=1))
    values = {**form_values(closed), "location": "Zaal 3"}
    shown, _ = await execute(bot, member(bot), Verb.SESSION_CHANGE, session=closed.id, **values)
    assert "Waar: Zaal 3" in lines(shown)


async def test_only_who_had_a_place_rates_a_session_and_only_once_it_is_over(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    participant, stranger = running_bot.user(), running_bot.user(locale="en-US")
    await sign_up(running_bot, participant, session)

    def rate(user: TeamsUser) -> Any:
        return press(running_bot, user, Verb.SESSION_EVALUATE, session=session.id, rating="2")

    # Before the session, and for someone who never had a place, the card is not theirs
    # (it said "you already answered").
    assert "Deze kaart is niet meer actueel" in text_of(await rate(participant))
    await move_to_the_past(running_bot, session.id)
    assert "This card is out of date" in text_of(await rate(stranger))

    assert "Dank je wel voor je antwoord" in text_of(await rate(participant))
    assert "al beantwoord" in text_of(await rate(participant))
    engine = create_engine(running_bot.database_url)
    try:
        async with create_session_factory(engine)() as db:
            ratings = list(await db.scalars(select(SessionEvaluation.rating)))
    finally:
        await engine.dispose()
    assert ratings == [2]


async def move_to_the_past(running_bot: RunningBot, session_id: int) -> None:
    engine = create_engine(running_bot.database_url)
    try:
        async with create_session_factory(engine)() as db:
            await db.execute(
                update(OfferSession)
                .where(OfferSession.id == session_id)
                .values(starts_at=datetime.now(UTC) - timedelta(hours=3))
            )
            await db.commit()
    finally:
        await engine.dispose()


async def test_typing_a_personal_command_in_a_channel_says_where_it_works(bot: RunningBot) -> None:
    # It answered "Deze knop is niet voor jou" to something typed, not pressed.
    for typed in ("wethouder", "mijn aanmeldingen", "mijn hulpvragen"):
        _, messages = await bot.send(says_to_bot(member(bot), typed))
        assert [m.get("text") for m in messages if m.get("text")] == [
            "Dat kan in je eigen chat met Wegwijzer I&D. Open die chat en typ het daar."
        ], typed
    _, messages = await bot.send(says_to_bot(member(bot, locale="en-US"), "my sign-ups"))
    assert "You can do that in your own chat" in str([m.get("text") for m in messages])


async def test_once_a_session_has_begun_nobody_comes_off_its_list_and_they_are_told_why(
    bot: RunningBot,
) -> None:
    session = await plan(bot)
    sam = await sign_up_as(bot, "Sam de Vries", session.id)
    _, new = await execute(bot, member(bot), Verb.SESSION_PARTICIPANTS, session=session.id)
    (choice,) = [i for i in new[0].inputs if i.id == "registration"]
    registration = next(value for title, value in choice.choices if title == "Sam de Vries")
    await move_to_the_past(bot, session.id)

    own = await press(bot, sam, Verb.SESSION_CANCEL, session=session.id)
    assert "Het gesprek is al begonnen. Afmelden kan dan niet meer." in text_of(own)
    shown, _ = await execute(
        bot, member(bot), Verb.SESSION_REMOVE, session=session.id, registration=registration
    )
    assert "Het gesprek is al begonnen. De lijst blijft zoals hij is." in lines(shown)
    _, new = await execute(bot, member(bot), Verb.SESSION_PARTICIPANTS, session=session.id)
    assert "Sam de Vries" in lines(new[0])


async def test_a_signature_of_one_kind_of_link_opens_nothing_of_the_other(
    running_bot: RunningBot,
) -> None:
    # The purpose is signed with the parts: a calendar link's numbers and signature, put in a
    # participant-list link (or the other way round), open neither file.
    session = await plan(running_bot)
    user = running_bot.user()
    shown = await sign_up(running_bot, user, session)
    ics = next(b.url for card in shown for b in card.buttons if b.url and ".ics" in b.url)
    registration, ticket, signature = urlsplit(ics).path.rsplit("/", 1)[1][:-4].split("-", 2)
    links = running_bot.app[APP_KEY].participant_files.links
    csv_url = links.url(session_id=session.id, now=datetime.now(UTC), lang="nl")
    _, expires, csv_signature = urlsplit(csv_url).path.rsplit("/", 1)[1][:-4].split("-", 2)

    for path in (
        f"/sessions/participants/{registration}-{ticket}-{signature}.csv",
        f"/sessions/participants/{session.id}-{expires}-{signature}.csv",
        f"/sessions/calendar/{session.id}-{expires}-{csv_signature}.ics",
        f"/sessions/calendar/{registration}-{ticket}-{csv_signature}.ics",
    ):
        async with running_bot.http.get(running_bot.url + path) as response:
            assert response.status == 404, path
            assert "Belastingen" not in await response.text()


async def test_a_called_off_session_leaves_my_sign_ups_and_its_list_stays_as_it_is(
    bot: RunningBot,
) -> None:
    session = await plan(bot, capacity=1)
    anna = await sign_up_as(bot, "Anna de Wit", session.id)
    bert = await sign_up_as(bot, "Bert Jansen", session.id)  # waiting
    _, new = await execute(bot, member(bot), Verb.SESSION_PARTICIPANTS, session=session.id)
    (choice,) = [i for i in new[0].inputs if i.id == "registration"]
    registration = next(value for title, value in choice.choices if title == "Bert Jansen")
    await execute(bot, member(bot), Verb.SESSION_CALL_OFF, session=session.id)

    # 'Mijn aanmeldingen' still showed a place (and a waiting position) in it, to cancel.
    for person in (anna, bert):
        mine = text_of(await press(bot, person, Verb.MY_SESSIONS))
        assert "Je bent nu niet aangemeld voor een gesprek." in mine
    # Cancelling an old card's place said a waiting person would get it.
    own = await press(bot, anna, Verb.SESSION_CANCEL, session=session.id)
    assert "Dit gesprek is afgelast. Je hoeft je niet af te melden." in text_of(own)
    # Taking someone off sent them a removal after the call-off.
    before = len(bot.connector.messages())
    shown, _ = await execute(
        bot, member(bot), Verb.SESSION_REMOVE, session=session.id, registration=registration
    )
    assert "Dit gesprek is afgelast." in lines(shown)
    _, new = await execute(bot, member(bot), Verb.SESSION_PARTICIPANTS, session=session.id)
    assert "Anna de Wit" in lines(new[0]) and "Bert Jansen" in lines(new[0])
    assert not [m for m in bot.connector.messages()[before:] if m.get("type") == "message"
                and m["conversation"]["id"] == bert.conversation_id]  # fmt: skip


async def test_taking_an_offered_place_twice_says_it_is_yours(bot: RunningBot) -> None:
    # The second press said "Deze plek is niet meer voor je vrij" above a list that showed the
    # place as theirs.
    session = await plan(bot, capacity=1)
    anna = await sign_up_as(bot, "Anna de Wit", session.id)
    bert = await sign_up_as(bot, "Bert Jansen", session.id)  # waiting
    await press(bot, anna, Verb.SESSION_CANCEL, session=session.id)  # Bert is offered it
    await press(bot, bert, Verb.SESSION_ACCEPT, session=session.id)

    again = text_of(await press(bot, bert, Verb.SESSION_ACCEPT, session=session.id))

    assert "Deze plek is al van jou. Je hoeft niets meer te doen." in again
    assert "niet meer voor je vrij" not in again
    # Someone who never had it still hears it is not (or no longer) theirs.
    late = text_of(await press(bot, anna, Verb.SESSION_ACCEPT, session=session.id))
    assert "Deze plek is niet meer voor je vrij." in late
