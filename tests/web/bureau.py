"""Teams-shaped activities from a channel of the Bureau's team, and a bot that knows the team."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.chat import BOT_ID, TeamsUser
from bot.local_connector import LocalConnector
from tests.web.conftest import TENANT, RunningBot, start_bot

BUREAU_TEAM = "19:bureau-team@thread.tacv2"
QUEUE_CHANNEL = "19:hulpvragen@thread.tacv2"
BOT_NAME = "Wegwijzer I&D"


def account(user: TeamsUser, name: str = "") -> dict[str, str]:
    """A member as Teams' member calls list them."""
    return {"id": f"29:{user.aad_object_id}", "aadObjectId": user.aad_object_id, "name": name}


def in_channel(
    activity: dict[str, Any],
    *,
    team: str = BUREAU_TEAM,
    channel: str = QUEUE_CHANNEL,
    thread: str = "1700000000000",
    reply_to: str | None = None,
) -> dict[str, Any]:
    """The activity as Teams posts it from a thread of a team's channel."""
    shaped = {
        **activity,
        "conversation": {
            "id": f"{channel};messageid={thread}",
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": TENANT,
        },
        "channelData": {
            "tenant": {"id": TENANT},
            "team": {"id": team},
            "channel": {"id": channel},
        },
    }
    if reply_to is not None:
        shaped["replyToId"] = reply_to
    return shaped


def says_to_bot(user: TeamsUser, text: str, **where: Any) -> dict[str, Any]:
    """A channel message that @mentions the bot, as Teams sends it."""
    mention = f"<at>{BOT_NAME}</at>"
    return in_channel(
        user.activity(
            text=f"{mention} {text}",
            textFormat="plain",
            entities=[
                {
                    "type": "mention",
                    "text": mention,
                    "mentioned": {"id": BOT_ID, "name": BOT_NAME},
                }
            ],
        ),
        **where,
    )


def stranger_team() -> str:
    return f"19:{uuid.uuid4().hex}@thread.tacv2"


async def bureau_bot(
    tmp_path: Path,
    members: list[dict[str, str]],
    *,
    database_url: str | None = None,
    **settings: Any,
) -> AsyncIterator[RunningBot]:
    """A running bot whose Bureau team (on the connector) has these members."""
    connector = LocalConnector(members={BUREAU_TEAM: members})
    async for running in start_bot(
        tmp_path, connector, database_url, **{"BUREAU_TEAM_ID": BUREAU_TEAM, **settings}
    ):
        yield running
