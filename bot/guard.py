"""Let through only activities from Teams in the city's tenant (and the Emulator in development)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity

log = logging.getLogger(__name__)

TEAMS = "msteams"
EMULATOR = "emulator"


def conversation_tenant(activity: Activity) -> str | None:
    """The conversation's tenant id.

    Teams sends `conversation.tenantId`, while botbuilder's schema maps `tenantID`; the
    deserializer keeps Teams' spelling in `additional_properties`. Teams' own field comes first:
    a `tenantID` beside it is not what Teams said.
    """
    conversation = activity.conversation
    if conversation is None:
        return None
    extra = getattr(conversation, "additional_properties", None) or {}
    tenant = extra.get("tenantId")
    if isinstance(tenant, str) and tenant:
        return tenant
    return str(conversation.tenant_id) if conversation.tenant_id else None


def _channel_data_tenant(activity: Activity) -> str | None:
    data: Any = activity.channel_data
    if isinstance(data, dict):
        tenant = data.get("tenant")
        if isinstance(tenant, dict) and isinstance(tenant.get("id"), str):
            return str(tenant["id"])
    return None


def refusal(
    activity: Activity, *, allowed_tenants: Collection[str], allow_emulator: bool
) -> str | None:
    """Why this activity may not reach the bot, or None when it may."""
    if activity.channel_id == EMULATOR:
        return None if allow_emulator else "emulator channel outside development"
    if activity.channel_id != TEAMS:
        return "channel is not msteams"
    tenant = conversation_tenant(activity)
    data_tenant = _channel_data_tenant(activity)
    if not tenant or not data_tenant:
        return "tenant missing"
    if tenant != data_tenant:
        return "tenant ids disagree"
    if allowed_tenants and tenant not in allowed_tenants:
        return "tenant not allowed"
    return None


class TenantGuard(Middleware):
    """Drops refused activities silently: no reply, no state, no stored reference."""

    def __init__(self, *, allowed_tenants: Collection[str], allow_emulator: bool) -> None:
        self._allowed = frozenset(allowed_tenants)
        self._allow_emulator = allow_emulator

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        activity = context.activity
        reason = refusal(
            activity, allowed_tenants=self._allowed, allow_emulator=self._allow_emulator
        )
        if reason is None:
            await logic()
            return
        # Never the text, names or ids of people: only what explains the refusal.
        log.warning(
            "refused activity: %s (channel=%s, type=%s)",
            reason,
            str(activity.channel_id)[:32],
            str(activity.type)[:32],
        )
