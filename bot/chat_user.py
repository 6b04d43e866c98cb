"""A person in a Teams personal chat with the bot, as the Bot Connector posts their activities."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

BOT_ID = "28:wegwijzer-local"


@dataclass
class TeamsUser:
    """One person in a personal chat with the bot, sending Teams-shaped activities."""

    bot_url: str
    service_url: str
    tenant_id: str
    locale: str = "nl-NL"
    aad_object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    conversation_id: str = field(default_factory=lambda: f"a:local-{uuid.uuid4().hex}")
    name: str = ""  # the display name Teams sends along (`from.name`), if any

    def activity(self, **fields: Any) -> dict[str, Any]:
        """A Teams-shaped activity from this user, as the Bot Connector would post it."""
        return {
            "type": "message",
            "id": uuid.uuid4().hex,
            "timestamp": "2026-11-23T10:00:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {
                "id": f"29:{self.aad_object_id}",
                "aadObjectId": self.aad_object_id,
                **({"name": self.name} if self.name else {}),
            },
            "recipient": {"id": BOT_ID},
            "conversation": {
                "id": self.conversation_id,
                "conversationType": "personal",
                "tenantId": self.tenant_id,
            },
            "channelData": {"tenant": {"id": self.tenant_id}},
            "locale": self.locale,
            **fields,
        }

    def install(self) -> dict[str, Any]:
        return self.activity(type="conversationUpdate", membersAdded=[{"id": BOT_ID}], text=None)

    def says(self, text: str) -> dict[str, Any]:
        return self.activity(text=text, textFormat="plain")

    def presses(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.activity(value=data)

    def executes(self, verb: str | None, data: dict[str, Any]) -> dict[str, Any]:
        return self.activity(
            type="invoke",
            name="adaptiveCard/action",
            value={
                "action": {"type": "Action.Execute", "verb": verb, "data": data},
                "trigger": "manual",
            },
        )
