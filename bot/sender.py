"""The proactive sender: one outbox message to Teams, once, with a typed outcome.

It renders the message in the recipient's language, sends it through the adapter's
`continue_conversation` (or `create_conversation` for a person without a personal chat yet),
and says what happened. It never retries and never waits: the dispatcher owns both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.models import ErrorResponseException
from jinja2 import TemplateError as JinjaError

from bot.adapter import WegwijzerAdapter
from bot.connector import ConnectorError
from content.render import Renderer, pick_lang
from content.schema import Lang
from content.templates import TemplateError
from dialogs.replies import message_activity
from services.conversations import ConversationRecord, ConversationScope
from services.outbox import Action, OutboxState
from storage.outbox import ClaimedMessage

log = logging.getLogger(__name__)

# Worth trying again: the message may not have been delivered, and a later try may work.
TRANSIENT_STATUSES = frozenset({408, 412, 500, 502, 503, 504})
# The person or channel cannot be reached: blocked, app removed, bot disabled, gone.
UNREACHABLE_STATUSES = frozenset({403, 404})
THROTTLED = 429
DEFAULT_RETRY_AFTER = 1.0  # seconds, when a 429 does not say


@dataclass(frozen=True, slots=True)
class Sent:
    conversation_id: str
    activity_id: str | None
    # A personal chat the sender just created; the dispatcher stores it for next time.
    new_reference: ConversationRecord | None = None


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """Try again later: after `seconds` when Teams said so (429), else after a backoff."""

    reason: str
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Unreachable:
    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str


Outcome = Sent | RetryAfter | Unreachable | Failed
# Values a message's card gets at send time besides its stored data (template, data, language):
# a link the bot signs, which is never stored in the outbox.
ExtraValues = Callable[[str, Mapping[str, Any], Lang], Mapping[str, Any]]


class ProactiveSender:
    """Sends outbox messages through a Bot Framework adapter of its own (no turn middleware)."""

    def __init__(
        self,
        adapter: WegwijzerAdapter,
        renderer: Renderer,
        *,
        app_id: str,
        extra_values: ExtraValues | None = None,
    ) -> None:
        self._adapter = adapter
        self._renderer = renderer
        self._app_id = app_id
        self._extra_values = extra_values

    async def send(
        self, message: ClaimedMessage, *, opener: ConversationRecord | None = None
    ) -> Outcome:
        """Send one message; `opener` is a reference in the tenant, for opening a new chat."""
        reference = message.reference
        try:
            activity = self._render(message, reference)
        except (TemplateError, JinjaError, TypeError, ValueError) as error:
            log.warning("outbox message %s not rendered: %s", message.id, type(error).__name__)
            return Failed("template")
        try:
            if message.action == Action.SEND:
                if reference is not None:
                    return await self._continue(message, reference, activity)
                if message.scope == ConversationScope.PERSONAL:
                    return await self._open_personal_chat(message, opener, activity)
                return Unreachable("no conversation")
            return await self._in_target(message, activity)
        except ConnectorError as error:
            return _classify(error.status, error.retry_after)
        except ErrorResponseException as error:
            status = getattr(error.response, "status_code", 0) or 0
            return _classify(int(status), None)
        except (TimeoutError, OSError) as error:  # connection refused, reset, dropped, timed out
            return RetryAfter(f"connection: {type(error).__name__}")
        except Exception as error:  # the HTTP client's own connection errors, among others
            if type(error).__module__.startswith(("pyreqwest", "aiohttp")):
                return RetryAfter(f"connection: {type(error).__name__}")
            log.exception("outbox message %s: unexpected error", message.id)
            return Failed(f"error: {type(error).__name__}")

    def _render(self, message: ClaimedMessage, reference: ConversationRecord | None) -> Activity:
        lang = pick_lang(reference.locale if reference else None)
        values = dict(message.data)
        if self._extra_values is not None:
            values.update(self._extra_values(message.template, message.data, lang))
        if message.template in self._renderer.templates.cards:
            rendered = self._renderer.card(message.template, lang, **values)
        else:
            rendered = self._renderer.text(message.template, lang, **values)
        activity = message_activity(rendered)
        activity.input_hint = None  # nobody is being asked anything
        return activity

    async def _continue(
        self,
        message: ClaimedMessage,
        record: ConversationRecord,
        activity: Activity,
        *,
        conversation_id: str | None = None,
        update_of: str | None = None,
    ) -> Outcome:
        if message.unreachable:
            return Unreachable("unreachable since an earlier message")
        reference = _reference(record)
        if conversation_id is not None:
            reference.conversation.id = conversation_id
        elif record.scope == ConversationScope.CHANNEL:
            # A new post in the channel, not in the thread the reference was stored from.
            reference.conversation.id = record.owner
        result: dict[str, Any] = {}

        async def deliver(context: TurnContext) -> None:
            if update_of is not None:
                activity.id = update_of
                response = await context.update_activity(activity)
            else:
                response = await context.send_activity(activity)
            result["id"] = getattr(response, "id", None) or update_of
            result["conversation"] = context.activity.conversation.id

        await self._adapter.continue_conversation(reference, deliver, self._app_id)
        return Sent(conversation_id=result["conversation"], activity_id=result["id"])

    async def _in_target(self, message: ClaimedMessage, activity: Activity) -> Outcome:
        target = message.target
        if target is None or target.state in (
            OutboxState.FAILED,
            OutboxState.UNREACHABLE,
            OutboxState.SKIPPED,
        ):
            return Failed("the message it refers to was not sent")
        if target.state != OutboxState.SENT or not target.conversation_id or not target.activity_id:
            return RetryAfter("the message it refers to is not sent yet")
        if message.reference is None:
            return Unreachable("no conversation")
        if message.action == Action.UPDATE:
            return await self._continue(
                message,
                message.reference,
                activity,
                conversation_id=target.conversation_id,
                update_of=target.activity_id,
            )
        thread = target.conversation_id.split(";", 1)[0] + ";messageid=" + target.activity_id
        return await self._continue(message, message.reference, activity, conversation_id=thread)

    async def _open_personal_chat(
        self, message: ClaimedMessage, opener: ConversationRecord | None, activity: Activity
    ) -> Outcome:
        if opener is None:
            return Unreachable("no service url to open a chat")
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=opener.bot_id or self._app_id),
            members=[ChannelAccount(id=message.owner, aad_object_id=message.owner)],
            tenant_id=opener.tenant_id,
            channel_data={"tenant": {"id": opener.tenant_id}},
        )
        result: dict[str, Any] = {}

        async def deliver(context: TurnContext) -> None:
            response = await context.send_activity(activity)
            result["id"] = getattr(response, "id", None)
            result["conversation"] = context.activity.conversation.id

        await self._adapter.create_conversation(
            self._app_id,
            deliver,
            parameters,
            opener.channel_id or "msteams",
            opener.service_url,
        )
        conversation_id = str(result["conversation"])
        reference = {
            "bot": {"id": opener.bot_id or self._app_id},
            "user": {"id": message.owner, "aadObjectId": message.owner},
            "conversation": {
                "id": conversation_id,
                "conversationType": "personal",
                "tenantId": opener.tenant_id,
            },
            "channelId": opener.channel_id or "msteams",
            "serviceUrl": opener.service_url,
        }
        return Sent(
            conversation_id=conversation_id,
            activity_id=result["id"],
            new_reference=ConversationRecord(
                scope=ConversationScope.PERSONAL,
                owner=message.owner,
                tenant_id=opener.tenant_id,
                channel_id=opener.channel_id or "msteams",
                service_url=opener.service_url,
                conversation_id=conversation_id,
                bot_id=opener.bot_id,
                locale=None,
                reference=reference,
            ),
        )


def _reference(record: ConversationRecord) -> ConversationReference:
    data = record.reference
    conversation = ConversationAccount().deserialize(dict(data.get("conversation") or {}))
    conversation.id = record.conversation_id
    return ConversationReference(
        bot=ChannelAccount().deserialize(dict(data.get("bot") or {})),
        user=ChannelAccount().deserialize(dict(data.get("user") or {})),
        conversation=conversation,
        channel_id=record.channel_id,
        service_url=record.service_url,
        locale=record.locale,
    )


def _classify(status: int, retry_after: float | None) -> Outcome:
    reason = f"http {status}"
    if status == THROTTLED:
        return RetryAfter(reason, DEFAULT_RETRY_AFTER if retry_after is None else retry_after)
    if status in UNREACHABLE_STATUSES:
        return Unreachable(reason)
    if status in TRANSIENT_STATUSES or status == 0:
        return RetryAfter(reason)
    return Failed(reason)
