"""The outbox and reminder preferences in SQL. The repositories never commit.

A message's private fields (`queue_message(private=...)`) are stored encrypted, as one Fernet
token under `SEALED_FIELD` in its data, and decrypted when the message is claimed: the row never
holds them in plain text. A claimed message whose token no configured key opens is marked
`unreadable` (its private fields are missing) and the dispatcher fails it.

`SqlOutboxRepository.claim` takes due messages with a lease: `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so two dispatchers never take the same row; on SQLite (one process) the writer's
turn does the same. Every later write is conditional on still holding the lease.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.conversations import ConversationRecord, ConversationScope
from services.outbox import (
    SEALED_FIELD,
    Action,
    MessageKind,
    NewMessage,
    OutboxState,
    OutboxStatus,
)
from storage.crypto import EncryptionKeyError, TextCipher
from storage.db import dialect_insert
from storage.models import ConversationReferenceRecord, OutboxMessage, ReminderPreference
from storage.repositories import _to_record
from storage.types import utcnow

_OUTBOX = cast(Table, OutboxMessage.__table__)
_PREFERENCES = cast(Table, ReminderPreference.__table__)
PENDING = OutboxState.PENDING.value


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """The activity an earlier message created, for a reply in its thread or an update."""

    state: str
    conversation_id: str | None
    activity_id: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ClaimedMessage:
    """A due message this dispatcher holds the lease on, with what sending it needs."""

    id: int
    kind: str
    scope: str
    owner: str
    action: str
    template: str
    data: dict[str, Any] = field(repr=False)  # may hold private text: never in a log line
    attempts: int
    lease_until: datetime
    reference: ConversationRecord | None  # None: no conversation stored for the recipient
    unreachable: bool  # Teams answered 403/404 for this conversation since its last turn
    reminders_on: bool
    target: Target | None  # for a reply or an update
    unreadable: bool = False  # its private fields could not be decrypted

    @property
    def recipient(self) -> tuple[str, str]:
        return (self.scope, self.owner)


class SqlOutboxRepository:
    """Outbox messages over one session; `cipher` seals and opens the private fields."""

    def __init__(self, session: AsyncSession, cipher: TextCipher | None = None) -> None:
        self._session = session
        self._cipher = cipher

    async def add(self, message: NewMessage) -> bool:
        """Queue the message; False when its idempotency key is there already."""
        insert = dialect_insert(self._session.get_bind().dialect, _OUTBOX)
        statement = insert.values(
            idempotency_key=message.key,
            kind=message.kind.value,
            recipient_scope=message.scope,
            recipient_owner=message.owner,
            action=message.action.value,
            target_key=message.target_key,
            template=message.template,
            data=self._seal(message),
            due_at=message.due,
            state=PENDING,
            attempts=0,
            next_attempt_at=message.due,
            created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=[_OUTBOX.c.idempotency_key])
        # One statement: two instances queueing the same key at once give one row, no error.
        result = await self._session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _seal(self, message: NewMessage) -> str:
        if message.private is None:
            return message.data
        if self._cipher is None:
            raise RuntimeError("private fields need a unit of work made with a cipher")
        data = json.loads(message.data)
        data[SEALED_FIELD] = self._cipher.encrypt(message.private)
        return json.dumps(data, ensure_ascii=False)

    def _open(self, stored: str) -> tuple[dict[str, Any], bool]:
        """The data with its private fields in plain text, and whether they could not be."""
        data: dict[str, Any] = json.loads(stored)
        token = data.pop(SEALED_FIELD, None)
        if token is None:
            return data, False
        if self._cipher is None:
            return data, True
        try:
            data.update(json.loads(self._cipher.decrypt(str(token))))
        except EncryptionKeyError:
            return data, True
        return data, False

    async def queue(
        self,
        *,
        recipient: str,
        template: str,
        data: Mapping[str, Any],
        key: str,
        due_at: datetime,
        urgent: bool = False,
        kind: str = MessageKind.NOTICE.value,
    ) -> None:
        """Queue a message to a person's personal chat, once per key (`services.session_types`)."""
        await self.add(
            NewMessage(
                key=key,
                kind=MessageKind.URGENT if urgent else MessageKind(kind),
                scope=ConversationScope.PERSONAL,
                owner=recipient,
                action=Action.SEND,
                target_key=None,
                template=template,
                data=json.dumps(dict(data), ensure_ascii=False, allow_nan=False),
                due=due_at,
            )
        )

    async def cancel(self, *, key_prefix: str) -> None:
        """Skip the unsent messages whose key starts with `key_prefix` (a place given up)."""
        escaped = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.idempotency_key.like(escaped + "%", escape="\\"),
                OutboxMessage.state == PENDING,
            )
            .values(
                state=OutboxState.SKIPPED.value,
                reason="cancelled",
                lease_owner=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def recipient_of(self, key: str) -> tuple[str, str] | None:
        row = (
            await self._session.execute(
                select(OutboxMessage.recipient_scope, OutboxMessage.recipient_owner).where(
                    OutboxMessage.idempotency_key == key
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def claim(
        self, *, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[ClaimedMessage]:
        """Lease up to `limit` due messages, the first pending one of each recipient only."""
        earlier = aliased(OutboxMessage)
        # Order per recipient: a message waits while an earlier one to the same recipient is
        # due and unfinished (leased, or waiting to be tried again).
        blocked = exists().where(
            earlier.recipient_scope == OutboxMessage.recipient_scope,
            earlier.recipient_owner == OutboxMessage.recipient_owner,
            earlier.state == PENDING,
            earlier.id < OutboxMessage.id,
            earlier.due_at <= now,
        )
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.state == PENDING,
                OutboxMessage.due_at <= now,
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
                ~blocked,
            )
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        lease_until = now + lease
        rows = (
            await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due.scalar_subquery()))
                .values(lease_owner=owner, lease_until=lease_until)
                .returning(OutboxMessage)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
        claimed = sorted(rows, key=lambda row: (row.due_at, row.id))
        if not claimed:
            return []
        recipients = {(row.recipient_scope, row.recipient_owner) for row in claimed}
        references = await self._references(recipients)
        reminders_off = await self._reminders_off(
            {owner for scope, owner in recipients if scope == ConversationScope.PERSONAL}
        )
        targets = await self._targets({row.target_key for row in claimed if row.target_key})
        claimed_messages = []
        for row in claimed:
            reference, unreachable = references.get(
                (row.recipient_scope, row.recipient_owner), (None, False)
            )
            data, unreadable = self._open(row.data)
            claimed_messages.append(
                ClaimedMessage(
                    id=row.id,
                    kind=row.kind,
                    scope=row.recipient_scope,
                    owner=row.recipient_owner,
                    action=row.action,
                    template=row.template,
                    data=data,
                    attempts=row.attempts,
                    lease_until=lease_until,
                    reference=reference,
                    unreachable=unreachable,
                    reminders_on=row.recipient_owner not in reminders_off,
                    target=targets.get(row.target_key) if row.target_key else None,
                    unreadable=unreadable,
                )
            )
        return claimed_messages

    async def _references(
        self, recipients: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[ConversationRecord, bool]]:
        rows = await self._session.scalars(
            select(ConversationReferenceRecord).where(
                tuple_(ConversationReferenceRecord.scope, ConversationReferenceRecord.owner).in_(
                    list(recipients)
                )
            )
        )
        return {(r.scope, r.owner): (_to_record(r), r.unreachable_since is not None) for r in rows}

    async def _reminders_off(self, people: set[str]) -> set[str]:
        if not people:
            return set()
        rows = await self._session.scalars(
            select(ReminderPreference.aad_object_id).where(
                ReminderPreference.aad_object_id.in_(people),
                ReminderPreference.reminders_on.is_(False),
            )
        )
        return set(rows)

    async def _targets(self, keys: set[str | None]) -> dict[str | None, Target]:
        if not keys:
            return {}
        rows = await self._session.execute(
            select(
                OutboxMessage.idempotency_key,
                OutboxMessage.state,
                OutboxMessage.conversation_id,
                OutboxMessage.activity_id,
            ).where(OutboxMessage.idempotency_key.in_(keys))
        )
        return {
            key: Target(state=state, conversation_id=conversation, activity_id=activity)
            for key, state, conversation, activity in rows
        }

    async def any_reference(self, tenant_id: str | None) -> ConversationRecord | None:
        """The most recently refreshed reference in this tenant: where a new chat is opened."""
        statement = select(ConversationReferenceRecord).order_by(
            ConversationReferenceRecord.updated_at.desc()
        )
        if tenant_id:
            statement = statement.where(ConversationReferenceRecord.tenant_id == tenant_id)
        row = await self._session.scalar(statement.limit(1))
        return None if row is None else _to_record(row)

    async def renew(self, message_id: int, *, owner: str, until: datetime) -> bool:
        """Extend a lease this dispatcher still holds; False when it lost it."""
        return await self._held(message_id, owner, lease_until=until)

    async def mark_sent(
        self,
        message_id: int,
        *,
        owner: str,
        conversation_id: str | None,
        activity_id: str | None,
        now: datetime,
    ) -> bool:
        return await self._held(
            message_id,
            owner,
            state=OutboxState.SENT.value,
            attempts=OutboxMessage.attempts + 1,
            conversation_id=conversation_id,
            activity_id=activity_id,
            sent_at=now,
            reason=None,
            lease_owner=None,
            lease_until=None,
        )

    async def mark_sent_many(
        self, sent: list[tuple[int, str | None, str | None]], *, owner: str, now: datetime
    ) -> None:
        """Mark messages sent, as (id, conversation id, activity id), in one statement."""
        statement = (
            update(_OUTBOX)
            .where(
                _OUTBOX.c.id == bindparam("sent_id"),
                _OUTBOX.c.lease_owner == owner,
                _OUTBOX.c.state == PENDING,
            )
            .values(
                state=OutboxState.SENT.value,
                attempts=_OUTBOX.c.attempts + 1,
                conversation_id=bindparam("sent_conversation"),
                activity_id=bindparam("sent_activity"),
                sent_at=now,
                reason=None,
                lease_owner=None,
                lease_until=None,
            )
        )
        await self._session.execute(
            statement,
            [
                {"sent_id": id_, "sent_conversation": conversation, "sent_activity": activity}
                for id_, conversation, activity in sent
            ],
        )

    async def mark_retry(
        self, message_id: int, *, owner: str, at: datetime, reason: str, counts: bool = True
    ) -> bool:
        """Try again at `at`; `counts` is False for throttling, which is no fault of the message."""
        values: dict[str, Any] = {"next_attempt_at": at, "reason": reason}
        if counts:
            values["attempts"] = OutboxMessage.attempts + 1
        return await self._held(message_id, owner, lease_owner=None, lease_until=None, **values)

    async def mark_done(
        self, message_id: int, *, owner: str, state: OutboxState, reason: str, counts: bool = True
    ) -> bool:
        """Finish a message unsent: failed, unreachable or skipped, with its reason."""
        values: dict[str, Any] = {"state": state.value, "reason": reason}
        if counts:
            values["attempts"] = OutboxMessage.attempts + 1
        return await self._held(message_id, owner, lease_owner=None, lease_until=None, **values)

    async def defer(self, message_id: int, *, owner: str, until: datetime) -> bool:
        """Move a message's due time (quiet hours): it no longer holds up later ones."""
        return await self._held(
            message_id,
            owner,
            due_at=until,
            next_attempt_at=until,
            lease_owner=None,
            lease_until=None,
        )

    async def release(self, message_id: int, *, owner: str) -> bool:
        """Give a leased message back untouched (the dispatcher is stopping)."""
        return await self._held(message_id, owner, lease_owner=None, lease_until=None)

    async def _held(self, message_id: int, owner: str, **values: Any) -> bool:
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.lease_owner == owner,
                OutboxMessage.state == PENDING,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_unreachable(self, *, scope: str, owner: str, now: datetime) -> None:
        """Teams refused this conversation (403/404): stop trying until its next turn."""
        await self._session.execute(
            update(ConversationReferenceRecord)
            .where(
                ConversationReferenceRecord.scope == scope,
                ConversationReferenceRecord.owner == owner,
            )
            .values(unreachable_since=now)
            .execution_options(synchronize_session=False)
        )

    async def retry(self, message_id: int, *, now: datetime) -> bool:
        """Put a failed, unreachable or skipped message back in the queue, due now."""
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state != PENDING)
            .where(OutboxMessage.state != OutboxState.SENT.value)
            .values(
                state=PENDING,
                attempts=0,
                reason=None,
                due_at=now,
                next_attempt_at=now,
                lease_owner=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def status(self, *, now: datetime, latest_failures: int = 20) -> OutboxStatus:
        """Counts by state, the oldest due message's age, failures by reason and the latest."""
        by_state = dict(
            (
                await self._session.execute(
                    select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
                )
            )
            .tuples()
            .all()
        )
        oldest = await self._session.scalar(
            select(func.min(OutboxMessage.due_at)).where(
                OutboxMessage.state == PENDING, OutboxMessage.due_at <= now
            )
        )
        given_up = OutboxMessage.state.in_(
            [OutboxState.FAILED.value, OutboxState.UNREACHABLE.value]
        )
        failures = dict(
            (
                await self._session.execute(
                    select(OutboxMessage.reason, func.count())
                    .where(given_up)
                    .group_by(OutboxMessage.reason)
                )
            )
            .tuples()
            .all()
        )
        latest = (
            await self._session.execute(
                select(OutboxMessage.id, OutboxMessage.state, OutboxMessage.reason)
                .where(given_up)
                .order_by(OutboxMessage.id.desc())
                .limit(latest_failures)
            )
        ).tuples()
        if oldest is not None and oldest.tzinfo is None:  # SQLite's MIN() loses the type
            oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=now.tzinfo)
        return OutboxStatus(
            by_state={str(state): int(n) for state, n in by_state.items()},
            oldest_due_seconds=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
            failures_by_reason={str(reason or "unknown"): int(n) for reason, n in failures.items()},
            latest_failures=[
                (int(id_), str(state), str(reason or "unknown")) for id_, state, reason in latest
            ],
        )


class SqlReminderPreferences:
    """Reminder preferences over one session; no row means reminders are on."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def set(self, aad_object_id: str, *, reminders_on: bool) -> None:
        insert = dialect_insert(self._session.get_bind().dialect, _PREFERENCES)
        now = utcnow()
        await self._session.execute(
            insert.values(
                aad_object_id=aad_object_id, reminders_on=reminders_on, updated_at=now
            ).on_conflict_do_update(
                index_elements=[_PREFERENCES.c.aad_object_id],
                set_={"reminders_on": reminders_on, "updated_at": now},
            )
        )

    async def reminders_on(self, aad_object_id: str) -> bool:
        value = await self._session.scalar(
            select(ReminderPreference.reminders_on).where(
                ReminderPreference.aad_object_id == aad_object_id
            )
        )
        return value is not False
