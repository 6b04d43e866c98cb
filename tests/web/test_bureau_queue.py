"""The Bureau's queue in its channel, through /api/messages and the fake Bot Connector."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import APP_KEY
from bot.card_text import card_text
from bot.chat import TeamsUser
from content.schema import Role
from content.templates import as_plain_text, literal
from content.triage_rules import Priority, Urgency
from content.verbs import VERB_FIELD, Verb
from services.help_requests import (
    ContactPreference,
    HelpRequest,
    NewHelpRequest,
    Person,
    RequestKind,
    Suggestion,
)
from services.sla import SlaSettings, remind_in_channel
from storage.db import create_session_factory
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.web.bureau import (
    BUREAU_TEAM,
    QUEUE_CHANNEL,
    account,
    bureau_bot,
    in_channel,
    says_to_bot,
    stranger_team,
)
from tests.web.conftest import RunningBot

SECRET = "Een collega wordt steeds buitengesloten bij het overleg"
REQUESTER = Person("aad-requester", "Sanne de Vries")
FATIMA, BRAM = "aad-fatima", "aad-bram"
OUR_PACKAGES = {"bot", "dialogs", "services", "storage", "content"}


def new_request(**changes: Any) -> NewHelpRequest:
    values: dict[str, Any] = {
        "kind": RequestKind.QUESTION,
        "requester": REQUESTER,
        "directorate": "Wonen",
        "role": Role.TEAMMANAGER,
        "urgency": Urgency.DEZE_WEEK,
        "contact": ContactPreference.TEAMS_CHAT,
        "text": SECRET,
        "theme": "sociale-veiligheid",
        "priority": Priority.HOOG,
        "suggestions": (Suggestion("gespreksbegeleider", (("role", "teammanager"),)),),
    }
    return NewHelpRequest(**{**values, **changes})


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    members = [account(TeamsUser("", "", "", aad_object_id=a), n) for a, n in
               ((FATIMA, "Fatima"), (BRAM, "Bram"))]  # fmt: skip
    async for running in bureau_bot(tmp_path, members):
        yield running


def member(bot: RunningBot, aad: str = FATIMA, **fields: Any) -> TeamsUser:
    return bot.user(aad_object_id=aad, **fields)


async def link_channel(bot: RunningBot) -> None:
    """A Bureau member links the queue channel (which also lets the bot post there)."""
    _, messages = await bot.send(says_to_bot(member(bot), "koppel"))
    # A card of a request sent before may reach the channel before the confirmation.
    assert any("gekoppeld" in m.get("text", "") for m in messages)


def new_post(method: str, path: str, activity: dict[str, Any]) -> bool:
    """A new post of a card in the queue channel (not a thread reply, not an edit)."""
    return (
        method == "POST"
        and path.startswith(f"/v3/conversations/{QUEUE_CHANNEL}/activities")
        and activity["conversation"]["id"] == QUEUE_CHANNEL
        and bool(activity.get("attachments"))
    )


def in_thread_of(post: dict[str, Any]) -> Callable[[str, str, dict[str, Any]], bool]:
    """Messages in the thread of the posted card."""
    thread = f"{QUEUE_CHANNEL};messageid={post['id']}"
    return lambda method, _, activity: method == "POST" and activity["conversation"]["id"] == thread


async def posted(
    bot: RunningBot, request: NewHelpRequest | None = None
) -> tuple[HelpRequest, dict[str, Any]]:
    """Submit a request as the intake does; wait for its card in the channel."""
    before = len(bot.connector.received)
    stored = await bot.app[APP_KEY].help_desk.submit(request or new_request())
    [card] = await bot.connector.wait_for_messages(after=before, where=new_post)
    return stored, card


def card_texts(card: Any) -> str:
    """Every TextBlock's text in the card, nested ones too, in order."""
    if isinstance(card, list):
        return " ".join(card_texts(part) for part in card)
    if not isinstance(card, dict):
        return ""
    own = card.get("text", "") if card.get("type") == "TextBlock" else ""
    inner = [card_texts(card[key]) for key in ("body", "items", "columns") if key in card]
    return " ".join(part for part in (own, *inner) if part)


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = activity["attachments"][0]["content"]
    return card


def facts(card: dict[str, Any]) -> dict[str, str]:
    return {
        f["title"]: f["value"]
        for element in card["body"]
        if element["type"] == "FactSet"
        for f in element["facts"]
    }


async def test_a_new_request_arrives_in_the_linked_channel_as_a_card_with_its_text(
    bot: RunningBot,
) -> None:
    await link_channel(bot)

    # A new post in the channel (its conversation is the channel, not a thread in it).
    request, activity = await posted(bot)

    card = card_of(activity)
    assert f"Hulpvraag {request.id}: Vraag aan het Bureau" in card_texts(card)
    assert "Prioriteit: Hoog" in card_texts(card)
    assert SECRET in card_texts(card)
    assert facts(card)["Status"] == "Nieuw"
    assert facts(card)["Gevraagd door"] == "Sanne de Vries"
    assert facts(card)["Thema"] == "Sociale veiligheid"
    assert card["refresh"]["action"]["data"] == {"request": request.id}
    # The roster this instance read for the link command: Teams refreshes it for them.
    assert card["refresh"]["userIds"] == [f"29:{BRAM}", f"29:{FATIMA}"]
    assert [a["title"] for a in card["actions"]] == [
        "Oppakken", "Toewijzen", "Status wijzigen", "Antwoorden", "Notitie",
    ]  # fmt: skip


async def test_a_request_sent_before_any_channel_was_linked_is_posted_when_one_is(
    bot: RunningBot,
) -> None:
    request = await bot.app[APP_KEY].help_desk.submit(new_request())

    await link_channel(bot)
    [card] = await bot.connector.wait_for_messages(where=new_post)

    assert f"Hulpvraag {request.id}" in card_texts(card_of(card))


async def press(
    bot: RunningBot,
    who: TeamsUser,
    verb: Verb,
    data: dict[str, Any],
    post: dict[str, Any],
    **where: Any,
) -> dict[str, Any]:
    """Press a button on the posted card, as Teams sends it from the channel; the card back."""
    activity = in_channel(who.executes(verb, data), thread=post["id"], reply_to=post["id"], **where)
    async with bot.http.post(bot.url + "/api/messages", json=activity) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = body["value"]
    return card


def edits_of(bot: RunningBot, post: dict[str, Any]) -> list[dict[str, Any]]:
    """The card edits (PUT) of the posted card the connector received, oldest first."""
    return [
        activity
        for (method, path, _), activity in zip(
            bot.connector.requests, bot.connector.received, strict=True
        )
        if method == "PUT" and path.endswith(f"/activities/{post['id']}")
    ]


async def outbox_rows(bot: RunningBot) -> list[OutboxMessage]:
    async with bot.app[APP_KEY].engine.connect() as connection:
        rows = await connection.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows)  # type: ignore[arg-type]


async def test_claiming_updates_the_card_for_everyone_and_tells_the_presser(
    bot: RunningBot,
) -> None:
    await link_channel(bot)
    request, post = await posted(bot)

    card = await press(bot, member(bot), Verb.HELP_REQUEST_CLAIM, {"request": request.id}, post)

    assert "Je hebt deze hulpvraag opgepakt." in card_texts(card)
    assert facts(card)["Opgepakt door"] == "Fatima"
    assert facts(card)["Status"] == "In behandeling"
    assert "Oppakken" not in [a["title"] for a in card["actions"]]
    [edit] = edits_of(bot, post)
    everyone = card_of(edit)
    assert facts(everyone)["Opgepakt door"] == "Fatima"
    assert "opgepakt." not in card_texts(everyone)  # the presser's line is theirs alone
    # The roster (sorted by name), as Teams names users: their MRIs.
    assert everyone["refresh"]["userIds"] == [f"29:{BRAM}", f"29:{FATIMA}"]


async def test_the_second_to_claim_sees_who_has_it_and_changes_nothing(bot: RunningBot) -> None:
    await link_channel(bot)
    request, post = await posted(bot)
    await press(bot, member(bot), Verb.HELP_REQUEST_CLAIM, {"request": request.id}, post)

    card = await press(
        bot, member(bot, BRAM), Verb.HELP_REQUEST_CLAIM, {"request": request.id}, post
    )

    assert "Fatima heeft deze hulpvraag al opgepakt." in card_texts(card)
    assert facts(card)["Opgepakt door"] == "Fatima"
    stored = await bot.app[APP_KEY].help_desk.mine(REQUESTER.id)
    assert stored[0].claimed_by == Person(FATIMA, "Fatima")


async def test_two_bureau_members_claiming_at_once_on_postgresql_one_wins(
    tmp_path: Path, postgres_url: str
) -> None:
    members = [account(TeamsUser("", "", "", aad_object_id=a), n) for a, n in
               ((FATIMA, "Fatima"), (BRAM, "Bram"))]  # fmt: skip
    async for bot in bureau_bot(tmp_path, members, database_url=postgres_url):
        await link_channel(bot)
        request, post = await posted(bot)
        data = {"request": request.id}

        cards = await asyncio.gather(
            press(bot, member(bot), Verb.HELP_REQUEST_CLAIM, data, post),
            press(bot, member(bot, BRAM), Verb.HELP_REQUEST_CLAIM, data, post),
        )

        [holder] = {facts(card)["Opgepakt door"] for card in cards}
        won = [c for c in cards if "Je hebt deze hulpvraag opgepakt." in card_texts(c)]
        lost = [c for c in cards if f"{holder} heeft deze hulpvraag al opgepakt." in card_texts(c)]
        assert (len(won), len(lost)) == (1, 1)
        stored = (await bot.app[APP_KEY].help_desk.mine(REQUESTER.id))[0]
        assert stored.claimed_by is not None and stored.claimed_by.name == holder


async def test_assigning_offers_the_teams_members_and_assigns_the_one_chosen(
    bot: RunningBot,
) -> None:
    await link_channel(bot)
    request, post = await posted(bot)

    form = await press(
        bot, member(bot), Verb.HELP_REQUEST_ASSIGN_FORM, {"request": request.id}, post
    )
    [choices] = [e for e in form["body"] if e["type"] == "Input.ChoiceSet"]
    assert [(c["title"], c["value"]) for c in choices["choices"]] == [
        ("Bram", BRAM), ("Fatima", FATIMA),
    ]  # fmt: skip
    assert edits_of(bot, post) == []  # the picker is for the presser alone

    data = {"request": request.id, "assignee": BRAM}
    card = await press(bot, member(bot), Verb.HELP_REQUEST_ASSIGN, data, post)

    assert "Toegewezen aan Bram." in card_texts(card)
    assert facts(card_of(edits_of(bot, post)[-1]))["Toegewezen aan"] == "Bram"


async def test_assigning_someone_outside_the_team_is_refused(bot: RunningBot) -> None:
    await link_channel(bot)
    request, post = await posted(bot)

    data = {"request": request.id, "assignee": "aad-not-in-the-team"}
    card = await press(bot, member(bot), Verb.HELP_REQUEST_ASSIGN, data, post)

    assert "geen lid van het team" in card_texts(card)
    assert facts(card)["Toegewezen aan"] == "Nog niemand"


async def test_changing_the_status_and_one_that_is_not_allowed(bot: RunningBot) -> None:
    await link_channel(bot)
    request, post = await posted(bot)

    closed = await press(
        bot,
        member(bot),
        Verb.HELP_REQUEST_STATUS,
        {"request": request.id, "status": "closed"},
        post,
    )
    refused = await press(
        bot, member(bot), Verb.HELP_REQUEST_STATUS,
        {"request": request.id, "status": "waiting_for_requester"}, post,
    )  # fmt: skip

    assert "De status is nu: Afgesloten." in card_texts(closed)
    assert facts(card_of(edits_of(bot, post)[0]))["Status"] == "Afgesloten"
    assert "Die status kan niet" in card_texts(refused)
    assert facts(refused)["Status"] == "Afgesloten"


async def test_a_reply_goes_to_the_requester_sealed_and_a_note_stays_inside(
    bot: RunningBot,
) -> None:
    await link_channel(bot)
    request, post = await posted(bot)
    reply, note = "Kun je me bellen op dinsdag?", "Lijkt op de vraag van vorige week"
    before = len(bot.connector.received)

    replied = await press(
        bot, member(bot), Verb.HELP_REQUEST_REPLY, {"request": request.id, "reply": reply}, post
    )
    noted = await press(
        bot, member(bot), Verb.HELP_REQUEST_NOTE, {"request": request.id, "note": note}, post
    )

    assert "Je antwoord gaat naar de aanvrager." in card_texts(replied)
    assert "Je notitie is opgeslagen." in card_texts(noted)
    to_requester = [r for r in await outbox_rows(bot) if r.recipient_owner == REQUESTER.id]
    assert [r.template for r in to_requester] == ["help_request_notice"]
    assert all(reply not in r.data and note not in r.data for r in await outbox_rows(bot))
    # Both in the card's thread, for colleagues to read back; the note only there.
    # The dispatcher sends them a second apart (one conversation).
    in_thread = await bot.connector.wait_for_messages(2, after=before, where=in_thread_of(post))
    assert [m["text"] for m in in_thread] == [
        f"Fatima antwoordde de aanvrager: {reply}",
        f"Notitie van Fatima (de aanvrager ziet dit niet): {note}",
    ]


async def test_an_empty_reply_is_refused_and_nothing_is_sent(bot: RunningBot) -> None:
    await link_channel(bot)
    request, post = await posted(bot)

    card = await press(
        bot, member(bot), Verb.HELP_REQUEST_REPLY, {"request": request.id, "reply": "  "}, post
    )

    assert "Je tekst is leeg." in card_texts(card)
    assert [r for r in await outbox_rows(bot) if r.recipient_owner == REQUESTER.id] == []


async def test_refresh_shows_the_current_card_to_the_viewer_alone(bot: RunningBot) -> None:
    await link_channel(bot)
    request, post = await posted(bot)
    await bot.app[APP_KEY].help_desk.withdraw(request.id, REQUESTER)

    card = await press(
        bot, member(bot, BRAM), Verb.HELP_REQUEST_REFRESH, {"request": request.id}, post
    )

    assert facts(card)["Status"] == "Ingetrokken door de aanvrager"
    assert "actions" not in card  # nothing left to do on a withdrawn request
    assert edits_of(bot, post) == []


async def test_someone_outside_the_team_cannot_claim_and_nothing_changes(
    bot: RunningBot,
) -> None:
    await link_channel(bot)
    request, post = await posted(bot)
    outsider = bot.user(aad_object_id="aad-outsider")

    card = await press(bot, outsider, Verb.HELP_REQUEST_CLAIM, {"request": request.id}, post)

    assert "Dat mag je hier niet doen" in card_texts(card)
    assert (await bot.app[APP_KEY].help_desk.mine(REQUESTER.id))[0].claimed_by is None
    assert edits_of(bot, post) == []


async def test_a_bureau_verb_from_another_team_is_refused(bot: RunningBot) -> None:
    await link_channel(bot)
    request, post = await posted(bot)

    card = await press(
        bot, member(bot), Verb.HELP_REQUEST_CLAIM, {"request": request.id}, post,
        team=stranger_team(),
    )  # fmt: skip

    assert "Dat mag je hier niet doen" in card_texts(card)
    assert (await bot.app[APP_KEY].help_desk.mine(REQUESTER.id))[0].claimed_by is None


async def test_a_forged_bureau_submit_in_a_personal_chat_is_refused_logged_without_content(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    await link_channel(bot)
    request, _ = await posted(bot)
    fatima = member(bot)
    forged = {VERB_FIELD: Verb.HELP_REQUEST_REPLY.value, "request": request.id, "reply": SECRET}
    # Even with the Bureau's team in its channel data: a personal chat is no channel of it.
    activity = fatima.presses(forged)
    activity["channelData"]["team"] = {"id": BUREAU_TEAM}

    with caplog.at_level(logging.DEBUG):
        _, messages = await bot.send(activity)
    ours = [r for r in caplog.records if r.name.split(".")[0] in OUR_PACKAGES]

    assert "Dat mag je hier niet doen" in card_texts(card_of(messages[0]))
    assert [r for r in await outbox_rows(bot) if r.recipient_owner == REQUESTER.id] == []
    logged = "\n".join(r.getMessage() for r in ours)
    assert "press refused: verb help_request_reply" in logged
    assert SECRET not in logged and FATIMA not in logged


async def test_an_unclaimed_request_is_raised_in_its_thread_once_per_period(
    bot: RunningBot,
) -> None:
    await link_channel(bot)
    request, post = await posted(bot)
    wegwijzer = bot.app[APP_KEY]
    assert "help-request-sla" in [job.name for job in wegwijzer.jobs.jobs]
    uow_factory = partial(
        UnitOfWork, create_session_factory(wegwijzer.engine), cipher=wegwijzer.cipher
    )
    later = request.created_at + timedelta(days=7)  # past two working days, whatever the weekday

    before = len(bot.connector.received)
    for _ in range(2):  # the job runs again in the same period (or on another instance)
        async with uow_factory() as uow:
            await remind_in_channel(uow=uow, sla=SlaSettings(), now=later)
    [reminder] = await bot.connector.wait_for_messages(after=before, where=in_thread_of(post))

    assert reminder["text"] == (
        f"Herinnering: hulpvraag {request.id} is na 2 werkdagen nog door niemand opgepakt."
    )
    reminders = [r for r in await outbox_rows(bot) if ":reminder:" in r.idempotency_key]
    assert [r.idempotency_key.split(":")[4] for r in reminders] == ["claim"]


BUREAU_VERBS = [
    (Verb.HELP_REQUEST_REFRESH, {}),
    (Verb.HELP_REQUEST_CLAIM, {}),
    (Verb.HELP_REQUEST_ASSIGN_FORM, {}),
    (Verb.HELP_REQUEST_ASSIGN, {"assignee": BRAM}),
    (Verb.HELP_REQUEST_STATUS, {"status": "closed"}),
    (Verb.HELP_REQUEST_REPLY, {"reply": "Hallo"}),
    (Verb.HELP_REQUEST_NOTE, {"note": "Intern"}),
]


async def test_every_bureau_verb_executed_from_a_personal_chat_is_refused(
    bot: RunningBot,
) -> None:
    await link_channel(bot)
    request, _ = await posted(bot)
    fatima = member(bot)  # a Bureau member, but in her personal chat with the bot

    for verb, data in BUREAU_VERBS:
        activity = fatima.executes(verb, {"request": request.id, **data})
        async with bot.http.post(bot.url + "/api/messages", json=activity) as response:
            body = await response.json()
        assert "Dat mag je hier niet doen" in card_texts(body["value"]), verb

    [stored] = await bot.app[APP_KEY].help_desk.mine(REQUESTER.id)
    assert (stored.status.value, stored.claimed_by, stored.assigned_to) == ("new", None, None)
    assert [r for r in await outbox_rows(bot) if r.recipient_owner == REQUESTER.id] == []


async def test_a_card_of_a_request_that_is_gone_says_it_is_out_of_date(bot: RunningBot) -> None:
    await link_channel(bot)
    _, post = await posted(bot)

    card = await press(bot, member(bot), Verb.HELP_REQUEST_CLAIM, {"request": 999}, post)

    assert "Deze kaart is niet meer actueel" in card_texts(card)


async def test_a_forged_request_number_past_the_column_gets_the_stale_card(bot: RunningBot) -> None:
    # 2**70 is an int, but no row can have it: the database would refuse it with an error.
    await link_channel(bot)
    _, post = await posted(bot)

    for forged in (2**70, "²", True, 1.5):
        card = await press(bot, member(bot), Verb.HELP_REQUEST_CLAIM, {"request": forged}, post)
        assert "Deze kaart is niet meer actueel" in card_texts(card)


async def test_a_bureau_member_with_english_teams_gets_the_card_in_english(
    bot: RunningBot,
) -> None:
    await link_channel(bot)
    request, post = await posted(bot)

    card = await press(
        bot, member(bot, locale="en-US"), Verb.HELP_REQUEST_CLAIM, {"request": request.id}, post
    )

    assert "You have claimed this help request." in card_texts(card)
    assert facts(card)["Status"] == "In progress"


async def test_what_the_requester_and_the_bureau_typed_is_shown_as_typed(bot: RunningBot) -> None:
    typed = "Zie [link](https://x) en **vet**\n# kop\n- punt\n<at>Fatima</at>"
    name = "**Sanne** [de Vries](https://x)"
    await link_channel(bot)
    request, post = await posted(bot, new_request(text=typed, requester=Person(REQUESTER.id, name)))
    card = card_of(post)

    assert f"  Gevraagd door: {name}" in card_text(card).lines  # as a reader sees it
    assert typed in card_text(card).lines
    # Escaped, and the address broken by an invisible U+2060 so Teams makes no link of it.
    assert "Zie \\[link\\](https:/\u2060/x) en \\*\\*vet\\*\\*\n\\# kop\n\\- punt\n\\<at>" in (
        card_texts(card)
    )
    assert facts(card)["Gevraagd door"] == "\\*\\*Sanne\\*\\* \\[de Vries\\](https:/\u2060/x)"

    before = len(bot.connector.received)
    await press(
        bot, member(bot), Verb.HELP_REQUEST_REPLY, {"request": request.id, "reply": typed}, post
    )
    [in_thread] = await bot.connector.wait_for_messages(after=before, where=in_thread_of(post))
    assert in_thread["text"] == f"Fatima antwoordde de aanvrager: {literal(typed)}"
    assert as_plain_text(in_thread["text"]).endswith(typed)


def action_data(card: dict[str, Any], verb: Verb) -> dict[str, Any]:
    """The data the card's button for `verb` sends (as Teams sends it, with the inputs added)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("verb") == verb.value:
                found.append(dict(node.get("data") or {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    assert found, f"no {verb.value} button on the card"
    return found[0]


async def test_a_reply_pressed_twice_at_once_reaches_the_requester_and_the_thread_once(
    bot: RunningBot,
) -> None:
    # A double click on 'Antwoorden' stored the reply twice, relayed it to the requester twice
    # and posted it twice in the card's thread.
    await link_channel(bot)
    _, post = await posted(bot)
    data = action_data(card_of(post), Verb.HELP_REQUEST_REPLY)
    assert data.get("submission")  # the card carries the key of this rendering
    queued = len(await outbox_rows(bot))

    pressed = {**data, "reply": "Kun je me bellen op dinsdag?"}
    cards = await asyncio.gather(
        *(press(bot, member(bot), Verb.HELP_REQUEST_REPLY, pressed, post) for _ in range(3))
    )

    assert all("Je antwoord gaat naar de aanvrager." in card_texts(c) for c in cards)
    to_requester = [r for r in await outbox_rows(bot) if r.recipient_owner == REQUESTER.id]
    assert [r.template for r in to_requester] == ["help_request_notice"]
    assert len(await outbox_rows(bot)) == queued + 2  # the notice and the post in the thread
    # The card the press gave back has a new key: a next reply from it is a new reply.
    assert action_data(cards[0], Verb.HELP_REQUEST_REPLY)["submission"] != data["submission"]
