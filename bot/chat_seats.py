"""The people the terminal chat can be: a manager in a personal chat, and a Bureau member.

The Bureau member writes in a channel of the Bureau's team, as Teams posts it (a channel
conversation, `channelData.team` and `.channel`, the bot @mentioned), and the local Bot
Connector lists them as the team's only member, so the roster lets them act as the Bureau.
Without BUREAU_TEAM_ID the chat makes up a local team and uses its General channel.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from bot.chat_user import BOT_ID, TeamsUser
from bot.settings import Settings

# The Bureau's team of the terminal chat when none is configured; its General channel has its id.
LOCAL_TEAM = "19:wegwijzer-local-bureau@thread.tacv2"
# Fixed ids: a chat on the same database finds its own requests and channel again.
MANAGER_ID = "00000000-0000-4000-8000-0000000c0001"
BUREAU_MEMBER_ID = "00000000-0000-4000-8000-0000000c0b01"
BOT_NAME = "Wegwijzer I&D"
# Made-up names, so the Bureau's card shows who asked and who handles it, as in Teams.
MANAGER_NAME = "Sam Jansen (lokaal)"
BUREAU_MEMBER_NAME = "Noor Bakker (lokaal)"
_threads = itertools.count(1)


def chat_settings(settings: Settings) -> Settings:
    """The settings the terminal chat runs with: no token, no quiet hours, a Bureau team."""
    team = settings.BUREAU_TEAM_ID or LOCAL_TEAM
    return settings.model_copy(
        update={
            # The chat talks to the bot in-process, so no Bot Framework token is needed.
            "APP_ID": "",
            "APP_PASSWORD": "",
            # A notice that waits for the morning would leave the developer guessing.
            "QUIET_HOURS_START": time(0, 0),
            "QUIET_HOURS_END": time(0, 0),
            "QUIET_HOURS_WEEKENDS": False,
            "BUREAU_TEAM_ID": team,
            "BUREAU_CHANNEL_ID": settings.BUREAU_CHANNEL_ID or team,
            "BUREAU_MEMBER_IDS": [],
        }
    )


@dataclass
class ChannelMember(TeamsUser):
    """A member of a Teams team, writing in a channel of it (a new thread, or a card's thread)."""

    team_id: str = LOCAL_TEAM
    channel_id: str = LOCAL_TEAM
    thread: str | None = None  # the root message of the thread being answered, if any

    def activity(self, **fields: Any) -> dict[str, Any]:
        thread = self.thread or f"local-{next(_threads)}"
        return super().activity(
            **{
                "conversation": {
                    "id": f"{self.channel_id};messageid={thread}",
                    "conversationType": "channel",
                    "isGroup": True,
                    "tenantId": self.tenant_id,
                },
                "channelData": {
                    "tenant": {"id": self.tenant_id},
                    "team": {"id": self.team_id},
                    "channel": {"id": self.channel_id},
                },
                **fields,
            }
        )

    def install(self) -> dict[str, Any]:
        """The bot added to the team, as Teams announces it in the General channel."""
        activity = self.activity(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
        activity["conversation"]["id"] = self.channel_id
        activity["channelData"]["eventType"] = "teamMemberAdded"
        activity.pop("text", None)
        return activity

    def says(self, text: str) -> dict[str, Any]:
        """A message in the channel that @mentions the bot: only those reach a bot in Teams."""
        mention = f"<at>{BOT_NAME}</at>"
        return self.activity(
            text=f"{mention} {text}",
            textFormat="plain",
            entities=[
                {"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
            ],
        )

    def account(self) -> dict[str, str]:
        """The member as Teams' member calls list them."""
        return {
            "id": f"29:{self.aad_object_id}",
            "aadObjectId": self.aad_object_id,
            "name": self.name,
        }


@dataclass
class Seat:
    """One person in the chat, with how far they have read what the connector received."""

    title: str  # in the prompt
    user: TeamsUser
    seen: int = 0
    announced: int = 0  # unread messages already announced while someone else was chatting
    cards: list[Any] = field(default_factory=list)  # the cards whose buttons have numbers now

    def owns(self, activity: dict[str, Any]) -> bool:
        """Whether this activity reached this person's conversation (a channel: any thread)."""
        conversation = str((activity.get("conversation") or {}).get("id", ""))
        return conversation.split(";", 1)[0] == self.user.conversation_id.split(";", 1)[0]
