"""`wegwijzer chat`: talk to the bot in a terminal, through the real HTTP endpoint and adapter.

The bot runs in this process on a loopback port; its replies go to a local Bot Connector, which
this module prints as readable text with numbered buttons. The chat plays two people: a manager
in their personal chat, and a member of the Bureau in the Bureau's channel (`/wissel` switches,
`--as-bureau` starts there). What the bot sends on its own (a new request in the channel, a
notice to the manager) is sent by the app's outbox dispatcher, as in Teams; after each turn the
chat waits until the outbox has sent what is due, then shows what reached the person it plays
and says how many messages wait for the other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from bot.card_text import Button, CardText, Input, card_text
from bot.chat_seats import (
    BUREAU_MEMBER_ID,
    BUREAU_MEMBER_NAME,
    MANAGER_ID,
    MANAGER_NAME,
    ChannelMember,
    Seat,
    chat_settings,
)
from bot.chat_user import BOT_ID, TeamsUser
from bot.local_connector import LocalConnector
from bot.settings import Settings
from content.templates import as_plain_text

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
SETTLE_SECONDS = 10.0  # the longest the chat waits for the outbox after a turn
SWITCH, WAIT, QUIT = ("/wissel", "/switch"), ("/wacht", "/wait"), ("/quit", "/exit")


@dataclass
class ShownCard:
    """A card on screen, and the message that carries it (to press its buttons in its thread)."""

    text: CardText
    activity_id: str | None
    conversation_id: str | None


async def post(
    http: aiohttp.ClientSession, user: TeamsUser, activity: dict[str, Any]
) -> tuple[int, Any]:
    async with http.post(user.bot_url, json=activity) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


def show(activities: list[dict[str, Any]]) -> list[CardText]:
    """Print what a person would see; return the cards so their buttons can be pressed."""
    return [shown.text for shown in _show(activities, first=1)]


def _show(
    activities: list[dict[str, Any]], *, first: int, updates: frozenset[int] = frozenset()
) -> list[ShownCard]:
    cards: list[ShownCard] = []
    for position, activity in enumerate(activities):
        if activity.get("type") != "message":
            continue
        if position in updates:
            print("\n(bijgewerkt)")  # noqa: T201
        if activity.get("text"):
            print(f"\nbot: {as_plain_text(activity['text'])}")  # noqa: T201
        for attachment in activity.get("attachments") or []:
            if attachment.get("contentType") == ADAPTIVE_CARD:
                number = first + sum(len(c.text.buttons) for c in cards)
                text = _print_card(attachment["content"], first=number)
                conversation = (activity.get("conversation") or {}).get("id")
                cards.append(ShownCard(text, activity.get("id"), conversation))
    return cards


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


def _number(typed: str) -> int | None:
    """A button's or choice's number as typed, or None: "²" and 5,000 digits are no number."""
    if typed.isascii() and typed.isdigit() and len(typed) < 10:
        return int(typed)
    return None


def _ask_input(field_: Input) -> str:
    if field_.choices:
        for number, (title, _) in enumerate(field_.choices, start=1):
            print(f"    ({number}) {title}")  # noqa: T201
    shown = next((title for title, value in field_.choices if value == field_.value), field_.value)
    kept = f" [Enter: {shown}]" if field_.value else ""
    answer = input(f"  {field_.label}{kept}: ").strip()
    if not answer and field_.value:
        return field_.value  # Enter keeps what the card filled in
    if field_.choices:
        picks = [p.strip() for p in answer.split(",") if p.strip()]
        values = [
            field_.choices[picked - 1][1]
            if (picked := _number(p)) is not None and 0 < picked <= len(field_.choices)
            else p
            for p in picks
        ]
        return ",".join(values)
    return answer


class TerminalChat:
    """Two people and one bot: sends what the current person does, shows what reaches them."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        connector: LocalConnector,
        seats: list[Seat],
        settle: Callable[[], Awaitable[None]],
    ) -> None:
        self._http = http
        self._connector = connector
        self._seats = seats
        self._settle = settle
        self.seat = seats[0]

    async def send(self, activity: dict[str, Any], *, pressed: ShownCard | None = None) -> None:
        """Send one activity as the current person, wait for the outbox, show what came."""
        _, body = await post(self._http, self.seat.user, activity)
        await self._settle()
        answer = None
        if pressed is not None and isinstance(body, dict) and body.get("type") == ADAPTIVE_CARD:
            # The invoke's answer: the card as the one who pressed sees it now (with a word
            # for them, or a refusal), in place of the update everyone else sees.
            answer = {
                "type": "message",
                "id": pressed.activity_id,
                "conversation": {"id": pressed.conversation_id},
                "attachments": [{"contentType": ADAPTIVE_CARD, "content": body["value"]}],
            }
        self.show_new(answer)

    def show_new(self, answer: dict[str, Any] | None = None) -> list[ShownCard]:
        """Print what reached the current person since they last looked; announce the rest.

        `answer` is a pressed card's answer for the presser: it stands in for that card's update.
        """
        received = list(self._connector.received)
        methods = [method for method, _, _ in self._connector.requests]
        seat = self.seat
        mine = [i for i in range(seat.seen, len(received)) if seat.owns(received[i])]
        if answer is not None:
            mine = [i for i in mine if methods[i] != "PUT" or received[i].get("id") != answer["id"]]
        activities = [received[i] for i in mine] + ([answer] if answer is not None else [])
        updates = frozenset(n for n, i in enumerate(mine) if methods[i] == "PUT")
        if answer is not None:
            updates |= {len(mine)}
        shown = _show(activities, first=1, updates=updates)
        seat.seen = seat.announced = len(received)
        if shown:
            seat.cards = shown
        for other in self._seats:
            if other is not seat:
                waiting = [a for a in received[other.seen :] if _is_message(a) and other.owns(a)]
                unannounced = [
                    a for a in received[other.announced :] if _is_message(a) and other.owns(a)
                ]
                if unannounced:
                    print(  # noqa: T201
                        f"\n({len(waiting)} nieuw voor de {other.title}: typ /wissel om te kijken)"
                    )
                other.announced = len(received)
        return shown

    def switch(self) -> None:
        """Play the next person; show what reached them meanwhile."""
        index = self._seats.index(self.seat)
        self.seat = self._seats[(index + 1) % len(self._seats)]
        print(f"\n== Je bent nu de {self.seat.title}. ==")  # noqa: T201
        self.show_new()

    def button(self, number: int) -> tuple[ShownCard, Button] | None:
        for card in self.seat.cards:
            if number <= len(card.text.buttons):
                return card, card.text.buttons[number - 1]
            number -= len(card.text.buttons)
        return None

    async def press(self, card: ShownCard, button: Button) -> None:
        if button.kind == "Action.OpenUrl":
            print(f"(opent in de browser: {button.url})")  # noqa: T201
            return
        fields = [field_ for field_ in card.text.inputs if button.sends(field_)]
        data = {**button.data, **{field_.id: _ask_input(field_) for field_ in fields}}
        user = self.seat.user
        if isinstance(user, ChannelMember):
            # A button on a channel card answers in that card's thread, as in Teams.
            thread = (card.conversation_id or "").partition(";messageid=")[2] or card.activity_id
            user.thread = thread
        try:
            if button.kind == "Action.Execute":
                activity = user.executes(button.verb, data)
            else:
                activity = user.presses(data)
        finally:
            if isinstance(user, ChannelMember):
                user.thread = None
        if card.activity_id:
            activity["replyToId"] = card.activity_id
        await self.send(activity, pressed=card)


def _is_message(activity: dict[str, Any]) -> bool:
    return activity.get("type") == "message"


async def _outbox_settled(app: web.Application) -> None:
    """Wait (a while at most) until the outbox has no message that is due and unsent."""
    from bot.app import APP_KEY
    from storage.db import create_session_factory
    from storage.uow import UnitOfWork

    factory = create_session_factory(app[APP_KEY].engine)
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        async with UnitOfWork(factory) as uow:
            status = await uow.outbox.status(now=datetime.now(UTC))
        if status.oldest_due_seconds is None:
            return
        await asyncio.sleep(0.1)


async def _converse(settings: Settings, locale: str, *, as_bureau: bool) -> int:
    from bot.app import create_app

    tenant = settings.ALLOWED_TENANT_IDS[0] if settings.ALLOWED_TENANT_IDS else "local-tenant"
    bureau = ChannelMember(
        "",
        "",
        tenant,
        locale,
        aad_object_id=BUREAU_MEMBER_ID,
        name=BUREAU_MEMBER_NAME,
        conversation_id=settings.BUREAU_CHANNEL_ID,
        team_id=settings.BUREAU_TEAM_ID,
        channel_id=settings.BUREAU_CHANNEL_ID,
    )
    connector = LocalConnector(members={settings.BUREAU_TEAM_ID: [bureau.account()]})
    await connector.start()
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bot_url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    manager = TeamsUser(
        bot_url, connector.url, tenant, locale, aad_object_id=MANAGER_ID, name=MANAGER_NAME
    )
    bureau.bot_url, bureau.service_url = bot_url, connector.url
    seats = [Seat("leidinggevende", manager), Seat("Bureau-medewerker", bureau)]
    print(  # noqa: T201
        "Wegwijzer I&D, lokaal. Typ een bericht of een knopnummer. /wissel: speel de ander"
        " (leidinggevende of Bureau), /wacht: kijk of er iets nieuws is, /quit: stoppen."
    )
    loop = asyncio.get_running_loop()
    try:
        async with aiohttp.ClientSession() as http:
            chat = TerminalChat(http, connector, seats, lambda: _outbox_settled(app))
            # The bot is added to the Bureau's team (so it may post there) and installed by the
            # manager; each sees what the bot says in their own conversation.
            await post(http, bureau, bureau.install())
            if as_bureau:
                chat.seat = seats[1]
                print(f"\n== Je bent de {chat.seat.title}. ==")  # noqa: T201
            await post(http, manager, manager.install())
            chat.show_new()
            while True:
                try:
                    prompt = f"\njij ({chat.seat.title})> "
                    line = (await loop.run_in_executor(None, input, prompt)).strip()
                    if line in QUIT:
                        break
                    if line in SWITCH:
                        chat.switch()
                    elif line in WAIT:
                        await _outbox_settled(app)
                        chat.show_new()
                    elif (number := _number(line)) is not None and (
                        found := chat.button(number)
                    ) is not None:
                        await chat.press(*found)  # asks for the card's inputs
                    elif line:
                        await chat.send(chat.seat.user.says(line))
                except EOFError:  # the end of input, at the prompt or at a card's input
                    break
    finally:
        await runner.cleanup()
        await connector.stop()
    return 0


def run_chat(settings: Settings, *, locale: str = "nl-NL", as_bureau: bool = False) -> int:
    """Migrate the database, start the bot in-process and chat until /quit or end of input."""
    from storage.migrate import upgrade

    if settings.is_production:
        print("wegwijzer chat is for development; unset ENVIRONMENT=production")  # noqa: T201
        return 2
    settings = chat_settings(settings)
    upgrade(settings.DATABASE_URL)
    return asyncio.run(_converse(settings, locale, as_bureau=as_bureau))


__all__ = ["BOT_ID", "TeamsUser", "post", "run_chat", "show"]
