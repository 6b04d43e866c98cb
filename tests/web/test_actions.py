"""Card buttons through the action router, posted as Teams posts them (invokes and submits)."""

from __future__ import annotations

import json
import logging
import uuid
from functools import partial
from typing import Any

import pytest

from bot.actions import Press, Replace, StaleCard, Who
from bot.app import APP_KEY
from bot.chat import BOT_ID, TeamsUser
from content.verbs import VERB_FIELD, Verb
from tests.web.conftest import TENANT, RunningBot
from tests.web.test_messages import card_texts, cards

BUREAU_TEAM = "19:bureau-team@thread.tacv2"
# A verb that is a flow in the personal chat, so the router's registry has room for it here.
BUREAU_VERB = Verb.FINDER


async def invoke(running_bot: RunningBot, activity: dict[str, Any]) -> tuple[int, Any]:
    async with running_bot.http.post(running_bot.url + "/api/messages", json=activity) as response:
        return response.status, await response.json()


def in_bureau_channel(user: TeamsUser, activity: dict[str, Any]) -> dict[str, Any]:
    """The same activity, as posted from a channel of the Bureau's team."""
    channel = "19:queue@thread.tacv2"
    return {
        **activity,
        "conversation": {
            "id": f"{channel};messageid=1700000000000",
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": TENANT,
        },
        "channelData": {
            "tenant": {"id": TENANT},
            "team": {"id": BUREAU_TEAM},
            "channel": {"id": channel},
        },
        "replyToId": "1700000000001",
    }


class BureauButton:
    """A Bureau verb whose handler records who pressed it and answers with a new card."""

    def __init__(self, running_bot: RunningBot, *, members: set[str], stale: bool = False) -> None:
        wegwijzer = running_bot.app[APP_KEY]
        self.presses: list[Press] = []
        self._stale = stale
        renderer = wegwijzer.replies.renderer

        async def roster(_: object, actor: str) -> bool:
            return actor in members

        async def handle(press: Press) -> Replace:
            if self._stale:
                raise StaleCard
            self.presses.append(press)
            return Replace(renderer.card("menu", press.lang))

        wegwijzer.actions.bureau_team_id = BUREAU_TEAM
        wegwijzer.actions.roster = roster
        wegwijzer.actions.register(BUREAU_VERB, handle, who=Who.BUREAU)


async def test_executing_a_personal_verb_answers_in_the_chat(running_bot: RunningBot) -> None:
    user = running_bot.user()
    status, body = await invoke(running_bot, user.executes(Verb.HELP, {}))
    assert status == 200
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.activity.message"
    help_text, menu = await running_bot.connector.wait_for(2)
    assert "Typ 'menu'" in help_text["text"]
    assert menu["attachments"]  # the menu: a next step after the explanation


async def test_an_unknown_verb_gets_a_dutch_card_and_changes_nothing(
    running_bot: RunningBot,
) -> None:
    status, body = await invoke(running_bot, running_bot.user().executes("no-such", {}))
    assert status == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Die knop werkt niet meer" in card_texts(body["value"])
    assert running_bot.connector.messages() == []


async def test_an_unknown_verb_gets_an_english_card_for_an_english_locale(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user(locale="en-US")
    _, body = await invoke(running_bot, user.executes("no-such", {}))
    assert "That button no longer works" in card_texts(body["value"])


async def test_a_malformed_invoke_gets_the_unknown_card(running_bot: RunningBot) -> None:
    activity = running_bot.user().executes(Verb.HELP, {})
    activity["value"] = ["not", "an", "action"]
    status, body = await invoke(running_bot, activity)
    assert status == 200
    assert "Die knop werkt niet meer" in card_texts(body["value"])


async def test_an_unknown_or_forged_verb_submitted_gets_the_same_card_as_an_execute(
    running_bot: RunningBot,
) -> None:
    """Action.Submit in a personal chat and Action.Execute answer a verb they do not know alike."""
    user = running_bot.user()
    _, body = await invoke(running_bot, user.executes("no-such", {}))
    for forged in ("no-such", 7, None, {"verb": "menu"}, ["menu"], ""):
        _, messages = await running_bot.send(user.presses({VERB_FIELD: forged, "id": 1}))
        (card,) = cards(messages)
        assert card == body["value"], forged
        assert len(messages) == 1


async def test_an_unknown_verb_in_the_middle_of_the_finder_leaves_the_finder_where_it_was(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    await running_bot.send(user.presses({VERB_FIELD: Verb.FINDER.value}))
    _, messages = await running_bot.send(user.presses({VERB_FIELD: "no-such"}))
    assert "Die knop werkt niet meer" in card_texts(cards(messages)[0])
    _, messages = await running_bot.send(user.presses({"finder": "teammanager", "step": 1}))
    assert "Vraag 2 van 4" in card_texts(cards(messages)[0])


async def test_a_bureau_verb_pressed_in_a_personal_chat_is_refused(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    button = BureauButton(running_bot, members={user.aad_object_id})
    status, body = await invoke(running_bot, user.executes(BUREAU_VERB, {"request": 1}))
    assert status == 200
    assert "Dat mag je hier niet doen" in card_texts(body["value"])
    assert button.presses == []
    assert running_bot.connector.received == []


async def test_a_bureau_verb_submitted_in_a_personal_chat_is_refused(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    button = BureauButton(running_bot, members={user.aad_object_id})
    _, messages = await running_bot.send(user.presses({VERB_FIELD: BUREAU_VERB, "request": 1}))
    assert "Dat mag je hier niet doen" in card_texts(cards(messages)[0])
    assert button.presses == []


def in_group_chat(activity: dict[str, Any]) -> dict[str, Any]:
    """The same activity, as posted from a group chat the bot is in."""
    return {
        **activity,
        "conversation": {
            "id": "19:group@thread.v2",
            "conversationType": "groupChat",
            "isGroup": True,
            "tenantId": TENANT,
        },
    }


@pytest.mark.parametrize("where", [in_group_chat, "channel"])
@pytest.mark.parametrize("verb", [Verb.MY_HELP_REQUESTS, Verb.MY_DATA, Verb.WETHOUDER])
async def test_a_menu_button_pressed_outside_the_personal_chat_says_where_it_works(
    running_bot: RunningBot, where: Any, verb: Verb
) -> None:
    # The menu answers "menu" in a group chat or channel too; its buttons are not refused
    # there as if they belonged to someone else.
    user = running_bot.user()
    shaped = in_group_chat if where is in_group_chat else partial(in_bureau_channel, user)
    _, messages = await running_bot.send(shaped(user.presses({VERB_FIELD: verb.value})))
    texts = card_texts(cards(messages)[0])
    assert "Dat kan in je eigen chat" in texts
    assert "niet voor jou" not in texts
    _, body = await invoke(running_bot, shaped(user.executes(verb, {})))
    assert "Dat kan in je eigen chat" in card_texts(body["value"])


def menu_verbs(card: dict[str, Any]) -> list[str]:
    rows = [e["actions"] for e in card["body"] if e["type"] == "ActionSet"]
    rows.append(card.get("actions", []))
    return [b["data"][VERB_FIELD] for row in rows for b in row]


@pytest.mark.parametrize("how", ["typed", "pressed", "help"])
async def test_the_menu_in_a_group_chat_offers_only_what_works_there(
    running_bot: RunningBot, how: str
) -> None:
    user = running_bot.user()
    activity = {
        "typed": user.says("menu"),
        "pressed": user.presses({VERB_FIELD: Verb.MENU.value}),
        "help": user.presses({VERB_FIELD: Verb.HELP.value}),
    }[how]
    _, messages = await running_bot.send(in_group_chat(activity))
    (menu,) = cards(messages)
    assert menu_verbs(menu) == [Verb.FINDER.value]
    assert "in je eigen chat met Wegwijzer I&D" in card_texts(menu)
    assert "'gesprekken'" not in card_texts(menu)  # the Bureau's commands are for its channel


@pytest.mark.parametrize(
    ("data", "shows"),
    [
        (
            {VERB_FIELD: "item", "id": "gespreksbegeleider"},
            "Gespreksbegeleider voor een teamgesprek",
        ),
        ({VERB_FIELD: "coaching"}, "Pilot voor leidinggevenden met een vraag of dilemma"),
        ({VERB_FIELD: "contact"}, "Zo bereik je Bureau I&D"),
    ],
)
async def test_the_finders_and_answers_buttons_work_in_a_group_chat(
    running_bot: RunningBot, data: dict[str, Any], shows: str
) -> None:
    # The finder and free questions answer there; their "Meer over" buttons said the page was
    # only for one's own chat.
    _, messages = await running_bot.send(in_group_chat(running_bot.user().presses(data)))
    assert card_texts(cards(messages)[0]).startswith(shows)


async def test_the_menu_in_a_channel_names_the_bureaus_commands(running_bot: RunningBot) -> None:
    user = running_bot.user(locale="en-US")
    _, messages = await running_bot.send(in_bureau_channel(user, user.says("menu")))
    (menu,) = cards(messages)
    assert menu_verbs(menu) == [Verb.FINDER.value]
    assert "in your own chat with Wegwijzer I&D" in card_texts(menu)
    assert "'sessions', 'new session' or 'link this channel'" in card_texts(menu)


async def test_a_menu_button_in_a_group_chat_speaks_english_to_an_english_locale(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user(locale="en-US")
    _, messages = await running_bot.send(in_group_chat(user.presses({VERB_FIELD: "my_data"})))
    assert "You can do that in your own chat" in card_texts(cards(messages)[0])


async def test_a_bureau_member_in_the_bureau_team_changes_the_card_for_everyone(
    running_bot: RunningBot,
) -> None:
    member = running_bot.user()
    button = BureauButton(running_bot, members={member.aad_object_id})
    activity = in_bureau_channel(member, member.executes(BUREAU_VERB, {"request": 1}))
    status, body = await invoke(running_bot, activity)
    assert status == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["body"][0]["text"] == "Waar kan ik je mee helpen?"
    (press,) = button.presses
    assert press.actor == member.aad_object_id
    assert press.data == {"request": 1}
    (update,) = await running_bot.connector.wait_for(1)
    method, path, _ = running_bot.connector.requests[0]
    assert method == "PUT"
    assert path.endswith("/activities/1700000000001")
    assert update["attachments"][0]["content"] == body["value"]


async def test_identity_comes_from_the_activity_never_from_the_card(
    running_bot: RunningBot,
) -> None:
    member, outsider = running_bot.user(), running_bot.user()
    button = BureauButton(running_bot, members={member.aad_object_id})
    forged = outsider.executes(BUREAU_VERB, {"aadObjectId": member.aad_object_id})
    _, body = await invoke(running_bot, in_bureau_channel(outsider, forged))
    assert "Dat mag je hier niet doen" in card_texts(body["value"])
    assert button.presses == []


async def test_a_bureau_verb_from_another_team_is_refused(running_bot: RunningBot) -> None:
    member = running_bot.user()
    button = BureauButton(running_bot, members={member.aad_object_id})
    activity = in_bureau_channel(member, member.executes(BUREAU_VERB, {}))
    activity["channelData"]["team"] = {"id": f"19:{uuid.uuid4().hex}@thread.tacv2"}
    _, body = await invoke(running_bot, activity)
    assert "Dat mag je hier niet doen" in card_texts(body["value"])
    assert button.presses == []


async def test_a_stale_card_gets_a_card_that_says_so(running_bot: RunningBot) -> None:
    member = running_bot.user(locale="en-GB")
    BureauButton(running_bot, members={member.aad_object_id}, stale=True)
    activity = in_bureau_channel(member, member.executes(BUREAU_VERB, {}))
    _, body = await invoke(running_bot, activity)
    assert "This card is out of date" in card_texts(body["value"])
    assert running_bot.connector.received == []


async def test_submitting_a_menu_button_in_a_personal_chat_answers(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user(locale="en-US")
    _, messages = await running_bot.send(user.presses({VERB_FIELD: Verb.HELP}))
    assert "Type 'menu'" in messages[0]["text"]
    _, messages = await running_bot.send(user.presses({VERB_FIELD: Verb.COACHING}))
    assert "Pilot for managers with a question or dilemma" in card_texts(cards(messages)[0])


async def test_the_bot_answers_without_knowing_the_bot_id_of_the_card(
    running_bot: RunningBot,
) -> None:
    # Teams sends the bot's own id as recipient; the router needs nothing more.
    activity = running_bot.user().executes(Verb.MENU, {})
    assert activity["recipient"]["id"] == BOT_ID
    status, _ = await invoke(running_bot, activity)
    assert status == 200


SECRET = "mijn-geheime-verhaal"


def failing_button(running_bot: RunningBot) -> None:
    """A personal verb whose handler fails unexpectedly, with user text in its message."""

    async def handle(_: Press) -> Replace:
        raise RuntimeError(SECRET)

    running_bot.app[APP_KEY].actions.register(BUREAU_VERB, handle, who=Who.PERSONAL)


async def test_a_failing_handler_gets_a_card_not_the_apology_or_a_500(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    failing_button(running_bot)
    activity = running_bot.user().executes(BUREAU_VERB, {"x": SECRET})
    with caplog.at_level(logging.DEBUG):
        async with running_bot.http.post(
            running_bot.url + "/api/messages", json=activity
        ) as response:
            status, text = response.status, await response.text()
    assert status == 200
    assert "Traceback" not in text and SECRET not in text
    body = json.loads(text)
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Dat is niet gelukt" in card_texts(body["value"])
    assert running_bot.connector.messages() == []  # no apology in the chat
    assert "press failed: verb finder: RuntimeError" in caplog.text
    assert SECRET not in caplog.text and "Traceback" not in caplog.text


async def test_a_failing_handler_submitted_gets_the_same_card_in_english(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    failing_button(running_bot)
    user = running_bot.user(locale="en-US")
    with caplog.at_level(logging.DEBUG):
        status, messages = await running_bot.send(
            user.presses({VERB_FIELD: BUREAU_VERB.value, "x": SECRET})
        )
    assert status == 201  # a message is answered as always
    (card,) = cards(messages)
    assert len(messages) == 1  # the card, and no apology after it
    assert "That did not work" in card_texts(card)
    assert SECRET not in caplog.text and "Traceback" not in caplog.text
