"""Store where each user (or channel) can be reached, for proactive messages later."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson
from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity

from bot.guard import conversation_tenant
from bot.wire import to_json
from services.conversations import (
    ConversationRecord,
    ConversationWritesUnitOfWork,
    remember_conversation,
)
from storage.breaker import Breaker

log = logging.getLogger(__name__)

PERSONAL = "personal"
INSTALLATION_UPDATE = "installationUpdate"


def conversation_record(activity: Activity) -> ConversationRecord | None:
    """The reference to store for this activity, keyed by aadObjectId; None when there is none."""
    conversation = activity.conversation
    if conversation is None or not activity.service_url:
        return None
    scope = conversation.conversation_type or PERSONAL
    if scope == PERSONAL:
        owner = activity.from_property.aad_object_id if activity.from_property else None
    else:
        # A channel thread's id is the channel's id plus ";messageid=...": one row per channel.
        owner = conversation.id.split(";", 1)[0]
    if not owner:
        return None
    return ConversationRecord(
        scope=scope,
        owner=owner,
        tenant_id=conversation_tenant(activity),
        channel_id=activity.channel_id or "",
        service_url=activity.service_url,
        conversation_id=conversation.id,
        bot_id=activity.recipient.id if activity.recipient else None,
        locale=activity.locale,
        reference=reference_json(activity),
    )


def reference_json(activity: Activity) -> dict[str, Any]:
    """`TurnContext.get_conversation_reference(activity)` as JSON, for reaching someone later.

    Left out: the activity id, which changes every turn and would turn every turn into a write,
    and the user's and the bot's names, which are for knowing who someone is. Built from the
    activity directly, without the reference's copies of three models (docs/performance.md).
    """
    reference: dict[str, Any] = {}
    for key, party in (("user", activity.from_property), ("bot", activity.recipient)):
        if party is not None:
            reference[key] = to_json(party)
            reference[key].pop("name", None)
    if activity.conversation is not None:
        reference["conversation"] = to_json(activity.conversation)
    for key, value in (
        ("channelId", activity.channel_id),
        ("locale", activity.locale),
        ("serviceUrl", activity.service_url),
    ):
        if value is not None:
            reference[key] = value
    return reference


class RememberConversation(Middleware):
    """Upserts the conversation reference, skipping the write when this instance stored it as is.

    The skip lasts `refresh_after` seconds: the upsert also clears the mark the outbox sets when
    Teams refuses a message (403, 404), so a person who talks to the bot again, through any
    instance, is reachable again within that time. An installation update always writes.
    """

    def __init__(
        self,
        uow_factory: Callable[[], AbstractAsyncContextManager[ConversationWritesUnitOfWork]],
        *,
        cache_size: int = 10_000,
        refresh_after: float = 600.0,
        breaker: Breaker | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._breaker = breaker or Breaker()
        self._stored: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
        self._cache_size = cache_size
        self._refresh_after = refresh_after

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        record = conversation_record(context.activity)
        if record is not None:
            await self._remember(record, always=context.activity.type == INSTALLATION_UPDATE)
        await logic()

    async def _remember(self, record: ConversationRecord, *, always: bool = False) -> None:
        key = (record.scope, record.owner)
        fingerprint = hashlib.blake2b(
            _canonical(record.reference) + (record.locale or "").encode(),
            digest_size=16,
        ).hexdigest()
        now = time.monotonic()
        stored = self._stored.get(key)
        fresh = stored is not None and now - stored[1] < self._refresh_after
        if not always and fresh and stored is not None and stored[0] == fingerprint:
            self._stored.move_to_end(key)
            return
        # Usually the turn's first call to the database: while it is away, the turn ends here.
        async with self._breaker.guard(), self._uow_factory() as uow:
            await remember_conversation(uow=uow, reference=record)
        self._stored[key] = (fingerprint, now)
        self._stored.move_to_end(key)
        while len(self._stored) > self._cache_size:
            self._stored.popitem(last=False)


def _canonical(reference: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(reference, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # integers beyond 64 bits
        return json.dumps(reference, sort_keys=True).encode()
