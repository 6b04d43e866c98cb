"""The dev chat page's people play a help request's loop: the Bureau persona in the stand-in
team claims the manager's request in the channel, and the manager's notice reaches their chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.app import APP_KEY
from bot.chat_user import TeamsUser
from bot.devchat import CONNECTOR_PATH, DEV_BUREAU_TEAM, personas
from bot.settings import Settings
from content.schema import Role
from content.triage_rules import Urgency
from content.verbs import Verb
from services.help_requests import ContactPreference, NewHelpRequest, Person, RequestKind
from tests.devchat.conftest import DevChat, serve

TENANT = "city-tenant"
BOT = "28:wegwijzer-dev"


def as_persona(chat: DevChat, key: str) -> TeamsUser:
    person = next(p for p in personas(Settings(_env_file=None)) if p.key == key)  # type: ignore[call-arg]
    return TeamsUser(
        chat.url + "/api/messages",
        chat.url + CONNECTOR_PATH + "/",
        TENANT,
        aad_object_id=person.aad_object_id,
        conversation_id=person.conversation_id,
    )


def in_the_channel(activity: dict[str, Any], thread: str) -> dict[str, Any]:
    return {
        **activity,
        "recipient": {"id": BOT},
        "conversation": {
            "id": f"{DEV_BUREAU_TEAM};messageid={thread}",
            "conversationType": "channel",
            "tenantId": TENANT,
        },
        "channelData": {
            "tenant": {"id": TENANT},
            "team": {"id": DEV_BUREAU_TEAM},
            "channel": {"id": DEV_BUREAU_TEAM},
        },
    }


async def post(chat: DevChat, activity: dict[str, Any]) -> Any:
    async with chat.http.post(chat.url + "/api/messages", json=activity) as response:
        assert response.status in (200, 201)
        return await response.json() if response.content_type == "application/json" else None


async def arrived(chat: DevChat, conversation: str, count: int) -> list[dict[str, Any]]:
    """The first `count` messages the page shows in this conversation (a channel: any thread)."""
    for _ in range(10):
        found = [
            a
            for a in chat.connector.received
            if a.get("type") == "message"
            and a["conversation"]["id"].split(";messageid=")[0] == conversation
        ]
        if len(found) >= count:
            return found[:count]
        await chat.connector.changes(len(chat.connector.received), seconds=2)
    raise AssertionError(f"fewer than {count} messages arrived in {conversation}")


@pytest.mark.asyncio
async def test_the_bureau_persona_claims_in_the_channel_and_the_manager_hears_of_it(
    tmp_path: Path,
) -> None:
    async for chat in serve(
        tmp_path,
        ALLOWED_TENANT_IDS=[TENANT],
        BUREAU_TEAM_ID=DEV_BUREAU_TEAM,
        QUIET_HOURS_START="00:00",
        QUIET_HOURS_END="00:00",
        QUIET_HOURS_WEEKENDS=False,
    ):
        manager, bureau = as_persona(chat, "manager"), as_persona(chat, "bureau")
        await post(chat, manager.install())  # the manager has a personal chat with the bot
        link = in_the_channel(bureau.says("koppel"), "1")
        await post(chat, link)  # the Bureau links its General channel (the page's channel)
        request = await chat.app[APP_KEY].help_desk.submit(
            NewHelpRequest(
                kind=RequestKind.QUESTION,
                requester=Person(manager.aad_object_id, "Manager"),
                directorate="Wonen",
                role=Role.TEAMMANAGER,
                urgency=Urgency.DEZE_WEEK,
                contact=ContactPreference.TEAMS_CHAT,
                text="Hoe begin ik het gesprek over inclusie in mijn team?",
            )
        )
        card = next(
            a
            for a in await arrived(chat, DEV_BUREAU_TEAM, 2)
            if a.get("attachments") and f"Hulpvraag {request.id}" in str(a["attachments"])
        )

        claim = in_the_channel(
            bureau.executes(Verb.HELP_REQUEST_CLAIM.value, {"request": request.id}),
            card["id"],
        )
        claim["replyToId"] = card["id"]
        answer = await post(chat, claim)

        assert answer["type"] == "application/vnd.microsoft.card.adaptive"
        personal = await arrived(chat, manager.conversation_id, 3)  # welcome, menu, notice
        assert "behandelt je hulpvraag nu" in str(personal[-1]["attachments"])
