"""A dispatcher with a real sender and adapter, sending to a scripted Bot Connector on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.outbox_connector import ScriptedConnector
from bot.adapter import WegwijzerAdapter
from bot.connector import CachingAuthentication, ConnectorHttp
from bot.dispatcher import Dispatcher, DispatchLimits
from bot.sender import ProactiveSender
from bot.settings import Settings
from content.render import Renderer
from content.templates import load_templates
from services.conversations import ConversationRecord, ConversationScope, remember_conversation
from services.outbox import MessageKind, Recipient, queue_message
from services.quiet_hours import QuietHours
from storage.crypto import TextCipher, generate_key
from storage.db import create_engine, create_session_factory
from storage.models import OutboxMessage
from storage.state_drivers import close_driver
from storage.types import utcnow
from storage.uow import UnitOfWork

MESSAGES = Path(__file__).parent / "outbox_messages"
TENANT = "city-tenant"
# Fast retries for tests; the production defaults are in bot/settings.py.
FAST = DispatchLimits(
    rate_per_second=50,
    per_conversation_seconds=0.3,
    max_attempts=4,
    send_timeout=5,
    lease_seconds=30,
    poll_seconds=0.1,
    backoff_initial=0.05,
    backoff_max=0.2,
)
NEVER_QUIET = QuietHours(weekends=False, start=datetime.min.time(), end=datetime.min.time())


@asynccontextmanager
async def sqlite_outbox(sqlite_url: str) -> AsyncIterator[Outbox]:
    """An `Outbox` on `sqlite_url` and a scripted connector, both closed afterwards."""
    connector = ScriptedConnector()
    await connector.start()
    engine = create_engine(sqlite_url)
    box = Outbox(engine, create_session_factory(engine), connector, [])
    try:
        yield box
    finally:
        await box.close()
        await connector.stop()
        await close_driver(engine)
        await engine.dispose()


def reference(
    connector_url: str, owner: str, *, scope: str = ConversationScope.PERSONAL, locale: str = "nl"
) -> ConversationRecord:
    conversation_id = f"a:{owner}" if scope == ConversationScope.PERSONAL else owner
    return ConversationRecord(
        scope=scope,
        owner=owner,
        tenant_id=TENANT,
        channel_id="msteams",
        service_url=connector_url,
        conversation_id=conversation_id,
        bot_id="28:bot",
        locale=locale,
        reference={
            "bot": {"id": "28:bot"},
            "user": {"id": f"29:{owner}", "aadObjectId": owner},
            "conversation": {"id": conversation_id, "tenantId": TENANT},
            "channelId": "msteams",
            "serviceUrl": connector_url,
        },
    )


def make_dispatcher(
    engine: AsyncEngine,
    closers: list[ConnectorHttp],
    limits: DispatchLimits = FAST,
    *,
    quiet_hours: QuietHours = NEVER_QUIET,
    clock: Callable[[], datetime] = utcnow,
    cipher: TextCipher | None = None,
) -> Dispatcher:
    """A dispatcher as the app builds it (auth off), on the test-only texts."""
    http = ConnectorHttp(attempts=1, timeout=limits.send_timeout)
    closers.append(http)
    adapter = WegwijzerAdapter(
        CachingAuthentication(ConfigurationBotFrameworkAuthentication(Settings()), http)
    )
    return Dispatcher(
        engine,
        create_session_factory(engine),
        ProactiveSender(adapter, Renderer(load_templates(messages_dir=MESSAGES)), app_id=""),
        limits=limits,
        quiet_hours=quiet_hours,
        clock=clock,
        cipher=cipher,
    )


@dataclass
class Outbox:
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    connector: ScriptedConnector
    closers: list[ConnectorHttp]
    cipher: TextCipher = field(default_factory=lambda: TextCipher([generate_key()]))

    def dispatcher(
        self,
        limits: DispatchLimits = FAST,
        *,
        quiet_hours: QuietHours = NEVER_QUIET,
        clock: Callable[[], datetime] = utcnow,
        engine: AsyncEngine | None = None,
    ) -> Dispatcher:
        return make_dispatcher(
            engine or self.engine,
            self.closers,
            limits,
            quiet_hours=quiet_hours,
            clock=clock,
            cipher=self.cipher,
        )

    async def remember(self, owner: str, **changes: Any) -> None:
        async with UnitOfWork(self.session_factory) as uow:
            await remember_conversation(
                uow=uow, reference=reference(self.connector.url, owner, **changes)
            )

    async def queue(
        self,
        key: str,
        to: Recipient,
        *,
        n: int = 0,
        kind: MessageKind = MessageKind.URGENT,
        due: datetime | None = None,
    ) -> None:
        async with UnitOfWork(self.session_factory) as uow:
            await queue_message(
                uow=uow, to=to, kind=kind, template="probe", data={"n": n}, key=key, due=due
            )
            await uow.commit()

    async def queue_private(self, key: str, to: Recipient, *, text: str) -> None:
        """Queue the test-only `said` text with `text` as a private field."""
        async with UnitOfWork(self.session_factory, cipher=self.cipher) as uow:
            await queue_message(
                uow=uow, to=to, kind=MessageKind.URGENT, template="said",
                data={"text": text}, key=key, private={"text"},
            )  # fmt: skip
            await uow.commit()

    async def rows(self) -> list[OutboxMessage]:
        async with self.session_factory() as session:
            return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    async def close(self) -> None:
        for http in self.closers:
            await http.close()
