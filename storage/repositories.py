"""Repositories: collections of domain records over one session. They never commit."""

from __future__ import annotations

import json
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, TextClause, bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from services.conversations import ConversationRecord
from storage.db import dialect_insert
from storage.models import ConversationReferenceRecord
from storage.types import utcnow

_CONVERSATIONS = cast(Table, ConversationReferenceRecord.__table__)
# Kept from the first insert; everything else is refreshed on every upsert.
_KEPT_ON_CONFLICT = frozenset({"scope", "owner", "created_at"})


_PLAIN_DIALECTS = {"postgresql": postgresql.dialect, "sqlite": sqlite.dialect}
# The columns an upsert writes: all but the generated id.
_WRITTEN = tuple(column for column in _CONVERSATIONS.columns if column.name != "id")
_WRITTEN_NAMES = tuple(column.name for column in _WRITTEN)


@cache
def _upsert_statement(dialect: Dialect) -> TextClause:
    """The upsert for this dialect, as text with typed parameters, made once.

    SQLAlchemy does not cache the compiled form of the dialects' ON CONFLICT inserts (their
    `inherit_cache` is False), so the construct was compiled again on every execution: about a
    millisecond of CPU for each new user's first turn. Rendered once to text, with each
    parameter keeping its column's type (UtcDateTime's checks included), it is compiled once.
    """
    # inline: no RETURNING of the new id, which nothing reads.
    insert = dialect_insert(dialect, _CONVERSATIONS).inline()
    # ON CONFLICT instead of select-then-insert: two first messages from one user at the
    # same moment would otherwise both insert and one would hit the unique constraint.
    statement = insert.on_conflict_do_update(
        index_elements=[_CONVERSATIONS.c.scope, _CONVERSATIONS.c.owner],
        set_={
            column.name: insert.excluded[column.name]
            for column in _WRITTEN
            if column.name not in _KEPT_ON_CONFLICT
        },
    )
    # Rendered by the dialect's plain form with :name parameters, which text() understands
    # (asyncpg's form would add casts to each parameter); the driver's form is applied to the
    # text when it is executed.
    named = _PLAIN_DIALECTS[dialect.name](paramstyle="named")
    sql = str(statement.compile(dialect=named, column_keys=list(_WRITTEN_NAMES)))
    return text(sql).bindparams(*(bindparam(column.name, type_=column.type) for column in _WRITTEN))


def conversation_row(record: ConversationRecord) -> dict[str, Any]:
    """The values an upsert of `record` writes, stamped now."""
    now = utcnow()
    return {
        "scope": record.scope,
        "owner": record.owner,
        "tenant_id": record.tenant_id,
        "channel_id": record.channel_id,
        "service_url": record.service_url,
        "conversation_id": record.conversation_id,
        "bot_id": record.bot_id,
        "locale": record.locale,
        "reference": json.dumps(dict(record.reference), ensure_ascii=False),
        # A turn from this conversation means the person can be reached again.
        "unreachable_since": None,
        "created_at": now,
        "updated_at": now,
    }


class SqlConversationRepository:
    """Conversation references, one row per (scope, owner)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, record: ConversationRecord) -> None:
        """Insert the record, or refresh the row with the same scope and owner, in one statement."""
        await self._session.execute(
            _upsert_statement(self._session.get_bind().dialect), conversation_row(record)
        )

    async def get(self, *, scope: str, owner: str) -> ConversationRecord | None:
        """The record for this scope and owner, if any."""
        row = await self._session.scalar(
            select(ConversationReferenceRecord).where(
                ConversationReferenceRecord.scope == scope,
                ConversationReferenceRecord.owner == owner,
            )
        )
        return None if row is None else _to_record(row)


def _to_record(row: ConversationReferenceRecord) -> ConversationRecord:
    return ConversationRecord(
        scope=row.scope,
        owner=row.owner,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        service_url=row.service_url,
        conversation_id=row.conversation_id,
        bot_id=row.bot_id,
        locale=row.locale,
        reference=json.loads(row.reference),
    )
