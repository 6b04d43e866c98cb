"""Bot Framework state (dialog stacks, conversation and user state) in the SQL database.

The eTag rules are those of the Bot Framework storages: an item written with eTag None or "*"
overwrites; an item written with an eTag is only written when that is still the stored eTag,
checked by the database in the same statement as the write, so two instances handling turns of
one conversation cannot both win. Items are stored in jsonpickle's format, as
CosmosDbPartitionedStorage stores them, because dialog state holds objects (see state_codec).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime
from typing import Any, cast
from uuid import uuid4

from botbuilder.core import ConversationState, Storage, TurnContext
from botbuilder.core.bot_state import CachedBotState
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from storage import state_codec
from storage.db import dialect_insert, writer_turn
from storage.models import BotStateItem
from storage.types import utcnow

_STATE = cast(Table, BotStateItem.__table__)
_ANY_ETAG = "*"
# Statements are built once and executed with parameters, so SQLAlchemy compiles each once.
_READ = select(_STATE.c.key, _STATE.c.data, _STATE.c.etag).where(
    _STATE.c.key.in_(bindparam("keys", expanding=True))
)
# The eTag check and the write are one statement: no other writer can get in between.
_UPDATE_IF_ETAG = (
    update(_STATE)
    .where(_STATE.c.key == bindparam("b_key"), _STATE.c.etag == bindparam("b_expected"))
    .values(data=bindparam("b_data"), etag=bindparam("b_etag"), updated_at=bindparam("b_now"))
)


class EtagConflictError(Exception):
    """The stored item changed (or went) since it was read; the turn must start over."""


class _CachedState(CachedBotState):  # type: ignore[misc,unused-ignore]
    def compute_hash(self, obj: object) -> str:
        return state_codec.dumps(obj)


class FastConversationState(ConversationState):  # type: ignore[misc,unused-ignore]
    """`ConversationState` whose "did this turn change it?" check uses the fast codec.

    The stock check flattens the state with jsonpickle on load, on save and after the write.
    """

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        if force or not cached or not cached.state:
            key = self.get_storage_key(turn_context)
            items = await self._storage.read([key])
            turn_context.turn_state[self._context_service_key] = _CachedState(items.get(key))


class SqlStorage(Storage):  # type: ignore[misc,unused-ignore]  # botbuilder is untyped
    """`botbuilder.core.Storage` on the SQLAlchemy engine, with eTag concurrency."""

    def __init__(
        self, engine_or_session_factory: AsyncEngine | async_sessionmaker[AsyncSession]
    ) -> None:
        super().__init__()
        engine = _engine_of(engine_or_session_factory)
        self._engine = engine
        # One statement is atomic on its own. On PostgreSQL, running it without BEGIN and COMMIT
        # saves two round trips per turn; SQLite is in-process, so it keeps its transactions.
        self._one_statement_engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        insert = dialect_insert(engine.dialect, _STATE)
        self._upsert = insert.on_conflict_do_update(
            index_elements=[_STATE.c.key],
            set_={
                "data": insert.excluded.data,
                "etag": insert.excluded.etag,
                "updated_at": insert.excluded.updated_at,
            },
        )

    async def read(self, keys: Iterable[str] | None) -> dict[str, Any]:
        """The stored items among `keys`, each with its current `e_tag`; unknown keys are absent."""
        if keys is None:
            raise Exception("Keys are required when reading")
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        async with self._one_statement_engine.connect() as connection:
            result = await connection.execute(_READ, {"keys": wanted})
            rows = result.all()
        return {row.key: _restore(row.data, row.etag) for row in rows}

    async def write(self, changes: Mapping[str, object] | None) -> None:
        """Write all `changes` or, when one eTag no longer matches, none of them."""
        if changes is None:
            raise Exception("Changes are required when writing")
        if not changes:
            return
        expected = {key: _etag_of(item) for key, item in changes.items()}
        for key, etag in expected.items():
            if etag == "":
                raise ValueError(f"empty eTag for state key {key!r}: use None or '*' to overwrite")
        new_etags = {key: uuid4().hex for key in changes}
        now = utcnow()
        engine = self._one_statement_engine if len(changes) == 1 else self._engine
        async with writer_turn(engine), engine.begin() as connection:
            # Sorted, so concurrent batches lock rows in one order and cannot deadlock.
            for key in sorted(changes):
                await self._write_one(
                    connection,
                    key=key,
                    data=_flatten(changes[key]),
                    expected_etag=expected[key],
                    new_etag=new_etags[key],
                    now=now,
                )
        # The caller's items now carry the stored eTag, so saving the same state again in this
        # turn is not mistaken for a conflict with another writer.
        for key, item in changes.items():
            _set_etag(item, new_etags[key])

    async def delete(self, keys: Iterable[str] | None) -> None:
        """Delete the items with these keys; unknown keys are ignored."""
        if keys is None:
            raise Exception("Keys are required when deleting")
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return
        engine = self._one_statement_engine
        async with writer_turn(engine), engine.begin() as connection:
            await connection.execute(delete(_STATE).where(_STATE.c.key.in_(wanted)))

    async def _write_one(
        self,
        connection: AsyncConnection,
        *,
        key: str,
        data: str,
        expected_etag: str | None,
        new_etag: str,
        now: datetime,
    ) -> None:
        if expected_etag is None or expected_etag == _ANY_ETAG:
            await connection.execute(
                self._upsert, {"key": key, "data": data, "etag": new_etag, "updated_at": now}
            )
            return
        # A key that no longer exists also fails: it was deleted after it was read.
        result = await connection.execute(
            _UPDATE_IF_ETAG,
            {
                "b_key": key,
                "b_expected": expected_etag,
                "b_data": data,
                "b_etag": new_etag,
                "b_now": now,
            },
        )
        if result.rowcount != 1:
            raise EtagConflictError(
                f"eTag conflict for state key {key!r}: it was changed or deleted since it was read"
            )


def _engine_of(source: AsyncEngine | async_sessionmaker[AsyncSession]) -> AsyncEngine:
    if isinstance(source, AsyncEngine):
        return source
    bind = source.kw.get("bind")
    if isinstance(bind, AsyncEngine):
        return bind
    raise TypeError("SqlStorage needs an AsyncEngine or a session factory bound to one")


def _etag_of(item: object) -> str | None:
    value = item.get("e_tag") if isinstance(item, Mapping) else getattr(item, "e_tag", None)
    return None if value is None else str(value)


def _set_etag(item: object, etag: str) -> None:
    if isinstance(item, MutableMapping):
        item["e_tag"] = etag
    elif hasattr(item, "e_tag"):
        item.e_tag = etag


def _flatten(item: object) -> str:
    flat = state_codec.flatten(item)
    if isinstance(flat, dict):
        # The eTag lives in its own column; a copy in the data would go stale.
        flat = {name: value for name, value in flat.items() if name != "e_tag"}
    return json.dumps(flat, ensure_ascii=False, separators=(",", ":"))


def _restore(data: str, etag: str) -> object:
    document: Any = json.loads(data)
    if isinstance(document, dict):
        document["e_tag"] = etag
    # Only data this storage wrote is restored, so the classes it names are our own.
    return state_codec.restore(document)
