"""Proactive messages: how a service queues one, in the same unit of work as its change.

Every message the bot sends on its own (to a person's personal chat, a new post in a channel, a
reply in a channel thread, an update of a card already posted) is a row in the outbox. A service
never calls Teams: it queues the message with `queue_message` inside its own unit of work, and
the change and its messages commit together or not at all. The dispatcher (`bot/dispatcher.py`)
sends what is due, within Teams' limits, and records what became of it.

    async with uow_factory() as uow:
        request = await uow.help_requests.add(...)          # the change
        await queue_message(
            uow=uow,
            to=Recipient.channel(bureau_channel_id),         # or .person(aad_object_id)
            kind=MessageKind.BUREAU,
            template="help_request_card",                    # a card in content/cards, or
            data={"request_id": request.id},                 # a message key in content/messages
            key=f"help-request:{request.id}:posted",         # unique: queued once, ever
        )
        await uow.commit()                                   # both, or neither

- `key` is the idempotency key: a second `queue_message` with the same key is ignored (returns
  False), so a reminder or notice is never queued twice, even by two instances at once. Make it
  name the moment, e.g. `f"reminder:{registration_id}:24h"`.
- `data` must be JSON (str, int, float, bool, None, lists and dicts of them). It is rendered when
  the message is sent, in the recipient's language; keep names and free text out of it where an
  id will do (the outbox keeps rows after sending).
- `private` names the fields of `data` that must never sit in the outbox in plain text (what a
  requester typed, a reply, a note): the outbox encrypts them with the help requests' cipher
  when it stores the row, and decrypts them when the dispatcher claims it, so the template
  renders them as usual. Queue private text only through a unit of work made with a cipher.
- `due` (timezone-aware) defaults to now. A kind in `QUIET_HOURS_KINDS` is moved to the next
  moment outside quiet hours at sending time; `URGENT` kinds never wait.
- `Recipient.reply_to(key)` posts in the thread of the channel message queued under `key`;
  `Recipient.update_of(key)` edits the activity that message created (a card's new state). Both
  go after that message, since messages to one recipient are sent in the order they were queued.
- A kind in `REMINDER_KINDS` is skipped while the person has turned reminders off
  (`set_reminders`).
- `cancel_messages(uow=uow, key_prefix=...)` drops the unsent messages whose keys start with the
  prefix (the reminders of a place given up): make keys share a prefix per thing they are about.

New kinds are added to `MessageKind` (and, where they apply, to the two sets below).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from services.conversations import ConversationScope


class MessageKind(StrEnum):
    """What a proactive message is for; decides quiet hours and the reminder preference."""

    REMINDER = "reminder"  # before a session: waits for daytime, off when reminders are off
    EVALUATION = "evaluation"  # a short question after a session: waits for daytime
    NOTICE = "notice"  # a status change for a requester: waits for daytime
    URGENT = "urgent"  # a reply from the Bureau, a place offered: sent at once
    BUREAU = "bureau"  # a post or update in the Bureau's channel: sent at once


# The field of a stored message's data that holds its private fields, encrypted.
SEALED_FIELD = "_sealed"

QUIET_HOURS_KINDS = frozenset({MessageKind.REMINDER, MessageKind.EVALUATION, MessageKind.NOTICE})
REMINDER_KINDS = frozenset({MessageKind.REMINDER})


class Action(StrEnum):
    SEND = "send"  # a new message (or a new channel post)
    REPLY = "reply"  # in the thread of an earlier outbox message
    UPDATE = "update"  # edit the activity an earlier outbox message created


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"


@dataclass(frozen=True, kw_only=True, slots=True)
class Recipient:
    """Whom a message goes to: a conversation reference's (scope, owner), and how."""

    scope: str
    owner: str
    action: Action = Action.SEND
    target_key: str | None = None

    @classmethod
    def person(cls, aad_object_id: str) -> Recipient:
        """A person's personal chat with the bot (created when they have none yet)."""
        return cls(scope=ConversationScope.PERSONAL, owner=aad_object_id)

    @classmethod
    def channel(cls, channel_id: str) -> Recipient:
        """A new post in a Teams channel the bot is installed in (its conversation id)."""
        return cls(scope=ConversationScope.CHANNEL, owner=channel_id.split(";", 1)[0])

    @classmethod
    def reply_to(cls, key: str) -> Recipient:
        """A reply in the thread of the channel post queued under `key`."""
        return cls(scope="", owner="", action=Action.REPLY, target_key=key)

    @classmethod
    def update_of(cls, key: str) -> Recipient:
        """An edit of the activity the message queued under `key` created."""
        return cls(scope="", owner="", action=Action.UPDATE, target_key=key)


@dataclass(frozen=True, kw_only=True, slots=True)
class NewMessage:
    """A message to queue, as the outbox repository stores it."""

    key: str
    kind: MessageKind
    scope: str
    owner: str
    action: Action
    target_key: str | None
    template: str
    data: str  # JSON
    due: datetime
    # JSON of the fields that are stored encrypted (None: nothing private); never logged.
    private: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxStatus:
    """What an operator may see of the outbox: counts and reasons, never content or names."""

    by_state: Mapping[str, int]
    oldest_due_seconds: float | None  # age of the oldest pending message that is due
    failures_by_reason: Mapping[str, int] = field(default_factory=dict)
    # The latest failed or unreachable messages, newest first: (id, state, reason), for a retry.
    latest_failures: Sequence[tuple[int, str, str]] = ()


class OutboxWrites(Protocol):
    """Queueing in the outbox; never commits."""

    async def add(self, message: NewMessage) -> bool:
        """Queue the message; False (and nothing changed) when its key was queued before."""
        ...

    async def recipient_of(self, key: str) -> tuple[str, str] | None:
        """The (scope, owner) of the message queued under `key`, if any."""
        ...

    async def cancel(self, *, key_prefix: str) -> None:
        """Skip the unsent messages whose key starts with `key_prefix`."""
        ...


class ReminderPreferences(Protocol):
    """Who turned reminders off; never commits."""

    async def set(self, aad_object_id: str, *, reminders_on: bool) -> None: ...

    async def reminders_on(self, aad_object_id: str) -> bool: ...


class OutboxUnitOfWork(Protocol):
    """An entered unit of work with the outbox; nothing is kept until commit."""

    @property
    def outbox(self) -> OutboxWrites: ...

    async def commit(self) -> None: ...


class PreferencesUnitOfWork(Protocol):
    @property
    def reminder_preferences(self) -> ReminderPreferences: ...

    async def commit(self) -> None: ...


async def queue_message(
    *,
    uow: OutboxUnitOfWork,
    to: Recipient,
    kind: MessageKind,
    template: str,
    data: Mapping[str, Any],
    key: str,
    due: datetime | None = None,
    private: Collection[str] = (),
) -> bool:
    """Queue a proactive message in this unit of work; False when `key` was queued before.

    The fields of `data` named in `private` are stored encrypted (see the module's docstring).
    """
    if not key:
        raise ValueError("a message needs an idempotency key")
    if SEALED_FIELD in data:
        raise ValueError(f"{SEALED_FIELD!r} is the outbox's own field")
    missing = set(private) - set(data)
    if missing:
        raise ValueError(f"private fields not in the data: {sorted(missing)}")
    due = datetime.now(UTC) if due is None else due
    if due.tzinfo is None or due.utcoffset() is None:
        raise ValueError("due must be timezone-aware")
    scope, owner = to.scope, to.owner
    if to.target_key is not None:
        target = await uow.outbox.recipient_of(to.target_key)
        if target is None:
            raise ValueError("reply_to and update_of need a message queued before")
        scope, owner = target
    if not scope or not owner:
        raise ValueError("a message needs a recipient")
    return await uow.outbox.add(
        NewMessage(
            key=key,
            kind=MessageKind(kind),
            scope=scope,
            owner=owner,
            action=to.action,
            target_key=to.target_key,
            template=template,
            # Refuses what is not JSON now, in the service, not at sending time.
            data=_json({name: value for name, value in data.items() if name not in private}),
            due=due,
            private=_json({name: data[name] for name in private}) if private else None,
        )
    )


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), ensure_ascii=False, allow_nan=False)


async def cancel_messages(*, uow: OutboxUnitOfWork, key_prefix: str) -> None:
    """Drop the unsent messages whose key starts with `key_prefix`, in this unit of work."""
    if not key_prefix:
        raise ValueError("cancelling needs a key prefix")
    await uow.outbox.cancel(key_prefix=key_prefix)


async def set_reminders(*, uow: PreferencesUnitOfWork, aad_object_id: str, on: bool) -> None:
    """Turn a person's reminders on or off, and commit."""
    await uow.reminder_preferences.set(aad_object_id, reminders_on=on)
    await uow.commit()


async def reminders_on(*, uow: PreferencesUnitOfWork, aad_object_id: str) -> bool:
    """Whether this person gets reminders (yes, unless they turned them off)."""
    return await uow.reminder_preferences.reminders_on(aad_object_id)
