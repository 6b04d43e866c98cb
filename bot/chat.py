"""`wegwijzer chat`: talk to the bot in a terminal, through the real HTTP endpoint and adapter.

The bot runs in this process on a loopback port; its replies go to a local Bot Connector, which
this module prints as readable text with numbered buttons.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.card_text import Button, CardText, Input, card_text
from bot.local_connector import LocalConnector
from bot.settings import Settings

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
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

    def activity(self, **fields: Any) -> dict[str, Any]:
        """A Teams-shaped activity from this user, as the Bot Connector would post it."""
        return {
            "type": "message",
            "id": uuid.uuid4().hex,
            "timestamp": "2026-11-23T10:00:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {"id": f"29:{self.aad_object_id}", "aadObjectId": self.aad_object_id},
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


async def post(
    http: aiohttp.ClientSession, user: TeamsUser, activity: dict[str, Any]
) -> tuple[int, Any]:
    async with http.post(user.bot_url, json=activity) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


def show(activities: list[dict[str, Any]]) -> list[CardText]:
    """Print what a person would see; return the cards so their buttons can be pressed."""
    cards: list[CardText] = []
    for activity in activities:
        if activity.get("type") != "message":
            continue
        if activity.get("text"):
            print(f"\nbot: {activity['text']}")  # noqa: T201
        for attachment in activity.get("attachments") or []:
            if attachment.get("contentType") == ADAPTIVE_CARD:
                cards.append(_print_card(attachment["content"], first=len(_buttons(cards)) + 1))
    return cards


def _buttons(cards: list[CardText]) -> list[Button]:
    return [button for card in cards for button in card.buttons]


def _print_card(card: dict[str, Any], *, first: int) -> CardText:
    text = card_text(card)
    print("\n+" + "-" * 70)  # noqa: T201
    for line in text.lines:
        for part in line.splitlines() or [""]:
            print(f"| {part}")  # noqa: T201
    for number, button in enumerate(text.buttons, start=first):
        print(f"| [{number}] {button.title}")  # noqa: T201
    print("+" + "-" * 70)  # noqa: T201
    return text


def _ask_input(field_: Input) -> str:
    if field_.choices:
        for number, (title, _) in enumerate(field_.choices, start=1):
            print(f"    ({number}) {title}")  # noqa: T201
    answer = input(f"  {field_.label}: ").strip()
    if field_.choices:
        picks = [p.strip() for p in answer.split(",") if p.strip()]
        values = [
            field_.choices[int(p) - 1][1]
            if p.isdigit() and 0 < int(p) <= len(field_.choices)
            else p
            for p in picks
        ]
        return ",".join(values)
    return answer


async def _press(
    http: aiohttp.ClientSession,
    user: TeamsUser,
    connector: LocalConnector,
    cards: list[CardText],
    button: Button,
) -> list[CardText]:
    if button.kind == "Action.OpenUrl":
        print(f"(opent in de browser: {button.url})")  # noqa: T201
        return cards
    card = next(c for c in cards if button in c.buttons)
    fields = card.inputs if button.sends_inputs else []
    values = {field_.id: _ask_input(field_) for field_ in fields}
    data = {**button.data, **values}
    before = len(connector.received)
    if button.kind == "Action.Execute":
        _, body = await post(http, user, user.executes(button.verb, data))
        new = show(connector.received[before:])
        if isinstance(body, dict) and isinstance(body.get("value"), dict):
            refreshed = show(
                [
                    {
                        "type": "message",
                        "attachments": [{"contentType": ADAPTIVE_CARD, "content": body["value"]}],
                    }
                ]
            )
            return new + refreshed if body.get("type") == ADAPTIVE_CARD else new
        return new or cards
    await post(http, user, user.presses(data))
    return show(connector.received[before:])


async def _converse(settings: Settings, locale: str) -> int:
    from bot.app import create_app

    connector = LocalConnector()
    await connector.start()
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    tenant = settings.ALLOWED_TENANT_IDS[0] if settings.ALLOWED_TENANT_IDS else "local-tenant"
    user = TeamsUser(f"http://127.0.0.1:{port}/api/messages", connector.url, tenant, locale)
    print("Wegwijzer I&D, lokaal. Typ een bericht, een knopnummer, of /quit om te stoppen.")  # noqa: T201
    loop = asyncio.get_running_loop()
    try:
        async with aiohttp.ClientSession() as http:
            before = len(connector.received)
            await post(http, user, user.install())
            cards = show(connector.received[before:])
            while True:
                try:
                    line = (await loop.run_in_executor(None, input, "\njij> ")).strip()
                except EOFError:
                    break
                if line in ("/quit", "/exit"):
                    break
                buttons = _buttons(cards)
                if line.isdigit() and 0 < int(line) <= len(buttons):
                    cards = (
                        await _press(http, user, connector, cards, buttons[int(line) - 1]) or cards
                    )
                    continue
                before = len(connector.received)
                await post(http, user, user.says(line))
                cards = show(connector.received[before:]) or cards
    finally:
        await runner.cleanup()
        await connector.stop()
    return 0


def run_chat(settings: Settings, *, locale: str = "nl-NL") -> int:
    """Migrate the database, start the bot in-process and chat until /quit or end of input."""
    from storage.migrate import upgrade

    if settings.is_production:
        print("wegwijzer chat is for development; unset ENVIRONMENT=production")  # noqa: T201
        return 2
    # The chat talks to the bot in-process, so no Bot Framework token is needed or checked.
    settings = settings.model_copy(update={"APP_ID": "", "APP_PASSWORD": ""})
    upgrade(settings.DATABASE_URL)
    return asyncio.run(_converse(settings, locale))
