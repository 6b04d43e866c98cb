"""The help requests repository: free text encrypted on the way in, decrypted on the way out.

It never commits. Every change that must hold under concurrency (one claim, one reminder per
period, a status change from what the actor saw) is one conditional UPDATE, and its row count
says whether it happened.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.schema import Role
from content.triage_rules import Priority, Urgency
from services.help_requests import (
    AuditAction,
    AuditEntry,
    ContactPreference,
    HelpRequest,
    Message,
    MessageKind,
    NewHelpRequest,
    Person,
    RequestKind,
    SlaPeriod,
    Status,
    Suggestion,
)
from storage.crypto import TextCipher
from storage.db import dialect_insert
from storage.models import (
    BureauChannelRecord,
    HelpRequestAuditRecord,
    HelpRequestMessageRecord,
    HelpRequestRecord,
)

_OPEN = [status.value for status in Status if status.is_open]
_REMINDED = {
    SlaPeriod.CLAIM: HelpRequestRecord.claim_reminded_at,
    SlaPeriod.CLOSE: HelpRequestRecord.close_reminded_at,
}


class SqlHelpRequestRepository:
    """Help requests, messages and audit rows in one session."""

    def __init__(self, session: AsyncSession, cipher: TextCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def add(self, request: NewHelpRequest, *, now: datetime) -> tuple[int, bool]:
        payload = {
            "text": request.text,
            "details": dict(request.details),
            "requester_name": request.requester.name,
            "signals": list(request.signals),
        }
        values: dict[str, Any] = dict(
            kind=request.kind.value,
            status=Status.NEW.value,
            requester_id=request.requester.id,
            directorate=request.directorate,
            role=request.role.value,
            urgency=request.urgency.value,
            contact=request.contact.value,
            team_size=request.team_size,
            theme=request.theme,
            priority=request.priority.value,
            suggestions=json.dumps(
                [
                    {"offer": s.offer_id, "reasons": [list(r) for r in s.reasons]}
                    for s in request.suggestions
                ]
            ),
            payload=self._cipher.encrypt(json.dumps(payload, ensure_ascii=False)),
            created_at=now,
            updated_at=now,
            submission_key=request.submission,
        )
        table = cast(Table, HelpRequestRecord.__table__)
        insert = dialect_insert(self._session.get_bind().dialect, table)
        # One statement: the same submission twice at once gives one row and no error.
        statement = (
            insert.values(values)
            .on_conflict_do_nothing(index_elements=[table.c.requester_id, table.c.submission_key])
            .returning(table.c.id)
        )
        new_id = await self._session.scalar(statement)
        if new_id is not None:
            return int(new_id), True
        stored = await self._session.scalar(
            select(HelpRequestRecord.id).where(
                HelpRequestRecord.requester_id == request.requester.id,
                HelpRequestRecord.submission_key == request.submission,
            )
        )
        if stored is None:  # no conflict can leave nothing behind; say so rather than guess
            raise RuntimeError("a help request was neither stored nor found")
        return int(stored), False

    async def get(self, request_id: int) -> HelpRequest | None:
        row = await self._session.get(HelpRequestRecord, request_id, populate_existing=True)
        return None if row is None else self._to_request(row)

    async def for_requester(self, requester_id: str) -> list[HelpRequest]:
        rows = await self._session.scalars(
            select(HelpRequestRecord)
            .where(HelpRequestRecord.requester_id == requester_id)
            .order_by(HelpRequestRecord.created_at.desc(), HelpRequestRecord.id.desc())
        )
        return [self._to_request(row) for row in rows]

    async def open_requests(self) -> list[HelpRequest]:
        rows = await self._session.scalars(
            select(HelpRequestRecord)
            .where(HelpRequestRecord.status.in_(_OPEN))
            .order_by(HelpRequestRecord.id)
        )
        return [self._to_request(row) for row in rows]

    async def claim(self, request_id: int, *, by: Person, now: datetime) -> bool:
        table = HelpRequestRecord
        statement = (
            update(table)
            .where(table.id == request_id, table.claimed_by_id.is_(None), table.status.in_(_OPEN))
            .values(
                claimed_by_id=by.id,
                claimed_by_name=by.name,
                claimed_at=now,
                # Whoever claims it handles it, unless it was assigned to someone before.
                assigned_to_id=_coalesce(table.assigned_to_id, by.id),
                assigned_to_name=_coalesce(table.assigned_to_name, by.name),
                status=_new_becomes_in_progress(),
                updated_at=now,
            )
        )
        return await self._changed(statement)

    async def set_status(
        self, request_id: int, *, expected: Status, to: Status, now: datetime
    ) -> bool:
        table = HelpRequestRecord
        statement = (
            update(table)
            .where(table.id == request_id, table.status == expected.value)
            .values(
                status=to.value,
                updated_at=now,
                closed_at=now if not to.is_open else None,
            )
        )
        return await self._changed(statement)

    async def assign(
        self, request_id: int, *, expected: str | None, to: Person, now: datetime
    ) -> bool:
        table = HelpRequestRecord
        current = (
            table.assigned_to_id.is_(None) if expected is None else table.assigned_to_id == expected
        )
        statement = (
            update(table)
            .where(table.id == request_id, current, table.status.in_(_OPEN))
            .values(
                assigned_to_id=to.id,
                assigned_to_name=to.name,
                claimed_by_id=_coalesce(table.claimed_by_id, to.id),
                claimed_by_name=_coalesce(table.claimed_by_name, to.name),
                claimed_at=_coalesce(table.claimed_at, now),
                status=_new_becomes_in_progress(),
                updated_at=now,
            )
        )
        return await self._changed(statement)

    async def add_message(
        self,
        request_id: int,
        *,
        kind: MessageKind,
        author: Person | None,
        body: str,
        now: datetime,
        submission: str | None = None,
    ) -> int | None:
        table = cast(Table, HelpRequestMessageRecord.__table__)
        insert = dialect_insert(self._session.get_bind().dialect, table)
        # One statement: the same submission twice at once gives one row and no error.
        statement = (
            insert.values(
                request_id=request_id,
                kind=kind.value,
                author_id=author.id if author else None,
                author_name=author.name if author else None,
                body=self._cipher.encrypt(body),
                created_at=now,
                submission_key=submission,
            )
            .on_conflict_do_nothing(index_elements=[table.c.request_id, table.c.submission_key])
            .returning(table.c.id)
        )
        new_id = await self._session.scalar(statement)
        if new_id is None:
            return None
        await self._session.execute(
            update(HelpRequestRecord)
            .where(HelpRequestRecord.id == request_id)
            .values(updated_at=now)
        )
        return int(new_id)

    async def messages(self, request_id: int) -> list[Message]:
        rows = await self._session.scalars(
            select(HelpRequestMessageRecord)
            .where(HelpRequestMessageRecord.request_id == request_id)
            .order_by(HelpRequestMessageRecord.id)
        )
        return [
            Message(
                id=row.id,
                request_id=row.request_id,
                kind=MessageKind(row.kind),
                author=_person(row.author_id, row.author_name),
                body=self._cipher.decrypt(row.body),
                created_at=row.created_at,
            )
            for row in rows
        ]

    async def add_audit(self, entry: AuditEntry) -> None:
        self._session.add(
            HelpRequestAuditRecord(
                request_id=entry.request_id,
                actor_id=entry.actor_id,
                action=entry.action.value,
                from_value=entry.from_value,
                to_value=entry.to_value,
                at=entry.at,
            )
        )
        await self._session.flush()

    async def audit(self, request_id: int) -> list[AuditEntry]:
        rows = await self._session.scalars(
            select(HelpRequestAuditRecord)
            .where(HelpRequestAuditRecord.request_id == request_id)
            .order_by(HelpRequestAuditRecord.id)
        )
        return [
            AuditEntry(
                request_id=row.request_id,
                actor_id=row.actor_id,
                action=AuditAction(row.action),
                from_value=row.from_value,
                to_value=row.to_value,
                at=row.at,
            )
            for row in rows
        ]

    async def due_for_reminder(
        self, period: SlaPeriod, *, created_before: datetime, reminded_before: datetime
    ) -> list[HelpRequest]:
        table = HelpRequestRecord
        reminded = _REMINDED[period]
        conditions = [
            table.status.in_(_OPEN),
            table.created_at <= created_before,
            or_(reminded.is_(None), reminded <= reminded_before),
        ]
        if period is SlaPeriod.CLAIM:
            conditions.append(table.claimed_by_id.is_(None))
        rows = await self._session.scalars(select(table).where(*conditions).order_by(table.id))
        return [self._to_request(row) for row in rows]

    async def mark_reminded(
        self, request_id: int, period: SlaPeriod, *, now: datetime, reminded_before: datetime
    ) -> bool:
        reminded = _REMINDED[period]
        statement = (
            update(HelpRequestRecord)
            .where(
                HelpRequestRecord.id == request_id,
                or_(reminded.is_(None), reminded <= reminded_before),
            )
            .values({reminded.key: now})
        )
        return await self._changed(statement)

    async def _changed(self, statement: Any) -> bool:
        result = await self._session.execute(statement.execution_options(synchronize_session=False))
        return cast(CursorResult[Any], result).rowcount == 1

    def _to_request(self, row: HelpRequestRecord) -> HelpRequest:
        payload = json.loads(self._cipher.decrypt(row.payload))
        return HelpRequest(
            id=row.id,
            kind=RequestKind(row.kind),
            status=Status(row.status),
            requester=Person(row.requester_id, payload["requester_name"]),
            directorate=row.directorate,
            role=Role(row.role),
            urgency=Urgency(row.urgency),
            contact=ContactPreference(row.contact),
            text=payload["text"],
            details=payload["details"],
            team_size=row.team_size,
            theme=row.theme,
            priority=Priority(row.priority),
            signals=tuple(payload["signals"]),
            suggestions=tuple(
                Suggestion(s["offer"], tuple((a, v) for a, v in s["reasons"]))
                for s in json.loads(row.suggestions)
            ),
            claimed_by=_person(row.claimed_by_id, row.claimed_by_name),
            assigned_to=_person(row.assigned_to_id, row.assigned_to_name),
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
        )


def _person(person_id: str | None, name: str | None) -> Person | None:
    return None if person_id is None else Person(person_id, name or "")


def _coalesce(column: Any, value: Any) -> Any:
    return func.coalesce(column, literal(value, type_=column.type))


def _new_becomes_in_progress() -> Any:
    table = HelpRequestRecord
    return case((table.status == Status.NEW.value, Status.IN_PROGRESS.value), else_=table.status)


class SqlBureauChannelRepository:
    """The channel each Bureau team linked; one row per team."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def link(self, *, team_id: str, channel_id: str, by: str, now: datetime) -> None:
        """Link the team's channel, replacing an earlier link, in one statement."""
        table = cast(Table, BureauChannelRecord.__table__)
        insert = dialect_insert(self._session.get_bind().dialect, table)
        values = {"team_id": team_id, "channel_id": channel_id, "linked_by": by, "linked_at": now}
        await self._session.execute(
            insert.values(values).on_conflict_do_update(
                index_elements=[table.c.team_id],
                set_={name: value for name, value in values.items() if name != "team_id"},
            )
        )

    async def channel_of(self, team_id: str) -> str | None:
        channel: str | None = await self._session.scalar(
            select(BureauChannelRecord.channel_id).where(BureauChannelRecord.team_id == team_id)
        )
        return channel
