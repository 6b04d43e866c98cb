"""Bot Framework state (dialog stacks, conversation and user state) in the SQL database.

The eTag rules are those of the Bot Framework storages: an item written with eTag None or "*"
overwrites; an item written with an eTag is only written when that is still the stored eTag,
checked by the database in the same statement as the write, so two instances handling turns of
one conversation cannot both win. Items are stored in jsonpickle's format, as
CosmosDbPartitionedStorage stores them, because dialog state holds objects (see state_codec).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterable, Mapping, MutableMapping
from contextvars import ContextVar
from typing import Any, cast
from uuid import uuid4

from botbuilder.core import ConversationState, Storage, TurnContext
from botbuilder.core.bot_state import CachedBotState
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import (
    Activity,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    SuggestedActions,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import state_codec
from storage.breaker import breaker_for
from storage.state_drivers import EtagMismatch, Write, driver_for
from storage.types import utcnow

log = logging.getLogger(__name__)

_ANY_ETAG = "*"
# Set in a turn's state when its conversation's stored state could not be read and was replaced.
STATE_RESET = "wegwijzer.state_reset"
# While a StockConversationState loads: the keys SqlStorage.read found unreadable and left out.
_LEFT_OUT: ContextVar[set[str] | None] = ContextVar("wegwijzer_unreadable_state", default=None)
# eTags: a random prefix per process and a counter, unique without a system call per write.
_ETAG_PREFIX = uuid4().hex[:16]
_ETAG_COUNTER = itertools.count()


def _reseed_etags() -> None:  # a forked worker must not repeat its parent's eTags
    global _ETAG_PREFIX, _ETAG_COUNTER
    _ETAG_PREFIX, _ETAG_COUNTER = uuid4().hex[:16], itertools.count()


os.register_at_fork(after_in_child=_reseed_etags)


def _new_etag() -> str:
    return f"{_ETAG_PREFIX}{next(_ETAG_COUNTER):016x}"


# The only objects restored from stored state: botbuilder's dialog stack, and what a prompt's
# options may hold (its prompt activity, its choices). Anything else stored is refused.
state_codec.allow(DialogState, DialogInstance, PromptOptions, Choice)
state_codec.allow(
    Activity, Attachment, CardAction, ChannelAccount, ConversationAccount, SuggestedActions
)


class EtagConflictError(Exception):
    """The stored item changed (or went) since it was read; the turn must start over."""


class _CachedState(CachedBotState):  # type: ignore[misc,unused-ignore]
    """The turn's state and its stored form, which doubles as the "did it change?" hash."""

    def __init__(self, state: dict[str, Any] | None = None, stored: str | None = None) -> None:
        self.state = state if state is not None else {}
        self.hash = stored if stored is not None else self.compute_hash(self.state)

    def compute_hash(self, obj: object) -> str:
        # Exactly what SqlStorage stores (without the eTag), so a match means "nothing to write".
        return _flatten(obj)


class FastConversationState(ConversationState):  # type: ignore[misc,unused-ignore]
    """`ConversationState` that flattens the state once per turn instead of four times.

    The stock `BotState` flattens the whole state with jsonpickle on load, to see whether it
    changed, in the storage and once more after the write. Here the stored JSON read from SQL is
    the load-time hash, and the JSON made to compare at the end is the JSON that is written.
    """

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        if not (force or not cached or not cached.state):
            return
        key = self.get_storage_key(turn_context)
        if isinstance(self._storage, SqlStorage):
            document = (await self._storage.read_documents([key])).get(key)
            loaded = _CachedState() if document is None else _loaded(turn_context, key, document)
        else:
            loaded = _CachedState((await self._storage.read([key])).get(key))
        turn_context.turn_state[self._context_service_key] = loaded

    async def save_changes(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        if cached is None:
            return
        stored = cached.compute_hash(cached.state)
        if not force and stored == cached.hash:
            return
        key = self.get_storage_key(turn_context)
        if isinstance(self._storage, SqlStorage):
            etag = await self._storage.write_documents({key: (stored, _etag_of(cached.state))})
            _set_etag(cached.state, etag[key])
        else:
            await self._storage.write({key: cached.state})
        cached.hash = stored  # the write changed only the eTag, which the hash leaves out


class StockConversationState(ConversationState):  # type: ignore[misc,unused-ignore]
    """Botbuilder's own `ConversationState` (used when SPEEDUPS is off), loading and saving as
    it always does; a turn whose stored state was unreadable is marked, as the fast one does, so
    the user is told the conversation started over in both modes."""

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        left_out: set[str] = set()
        token = _LEFT_OUT.set(left_out)
        try:
            await super().load(turn_context, force)
        finally:
            _LEFT_OUT.reset(token)
        if left_out:  # read as absent: the stock state starts empty and overwrites it
            turn_context.turn_state[STATE_RESET] = True


def _loaded(turn_context: TurnContext, key: str, document: tuple[str, str]) -> _CachedState:
    try:
        return _CachedState(cast(dict[str, Any], _restore(*document)), stored=document[0])
    except state_codec.UnreadableState:
        # The key only: the stored text may hold what someone typed.
        log.warning("unreadable state replaced by an empty one: %s", key)
        turn_context.turn_state[STATE_RESET] = True
        return _CachedState(stored="")  # "" is no state's form: the empty state gets written


def state_was_reset(turn_context: TurnContext) -> bool:
    """Whether this turn found its conversation's state unreadable and started it over."""
    return bool(turn_context.turn_state.get(STATE_RESET))


class SqlStorage(Storage):  # type: ignore[misc,unused-ignore]  # botbuilder is untyped
    """`botbuilder.core.Storage` on the application's SQL database, with eTag concurrency.

    The statements run on the driver's own connections from the engine's pool (see
    state_drivers): this is the one read and the one write of every turn.
    """

    def __init__(
        self, engine_or_session_factory: AsyncEngine | async_sessionmaker[AsyncSession]
    ) -> None:
        super().__init__()
        engine = _engine_of(engine_or_session_factory)
        self._driver = driver_for(engine)
        # The read and write of every turn: while the database is away, they fail at once.
        self._breaker = breaker_for(engine)

    async def read(self, keys: Iterable[str] | None) -> dict[str, Any]:
        """The stored items among `keys`, each with its current `e_tag`; unknown keys are absent."""
        if keys is None:
            raise Exception("Keys are required when reading")
        documents = await self.read_documents(keys)
        items = {}
        for key, (data, etag) in documents.items():
            try:
                items[key] = _restore(data, etag)
            except state_codec.UnreadableState:
                log.warning("unreadable state left out: %s", key)  # read as absent
                left_out = _LEFT_OUT.get()
                if left_out is not None:
                    left_out.add(key)
        return items

    async def read_documents(self, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        """The stored JSON and eTag of each of `keys` that exists."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        async with self._breaker.guard():
            rows = await self._driver.read(wanted)
        return {key: (data, etag) for key, data, etag in rows}

    async def write(self, changes: Mapping[str, object] | None) -> None:
        """Write all `changes` or, when one eTag no longer matches, none of them."""
        if changes is None:
            raise Exception("Changes are required when writing")
        if not changes:
            return
        documents = {key: (_flatten(item), _etag_of(item)) for key, item in changes.items()}
        new_etags = await self.write_documents(documents)
        # The caller's items now carry the stored eTag, so saving the same state again in this
        # turn is not mistaken for a conflict with another writer.
        for key, item in changes.items():
            _set_etag(item, new_etags[key])

    async def write_documents(
        self, documents: Mapping[str, tuple[str, str | None]]
    ) -> dict[str, str]:
        """Write (JSON, expected eTag) per key, all or none; return the new eTags."""
        now = utcnow()
        writes = []
        # Sorted, so concurrent batches lock rows in one order and cannot deadlock.
        for key in sorted(documents):
            data, expected = documents[key]
            if expected == "":
                raise ValueError(f"empty eTag for state key {key!r}: use None or '*' to overwrite")
            writes.append(
                Write(
                    key=key,
                    data=data,
                    new_etag=_new_etag(),
                    expected_etag=None if expected == _ANY_ETAG else expected,
                    now=now,
                )
            )
        try:
            async with self._breaker.guard():
                await self._driver.write(writes)
        except EtagMismatch as mismatch:
            # A key that no longer exists also fails: it was deleted after it was read.
            raise EtagConflictError(
                f"eTag conflict for state key {mismatch.key!r}: "
                "it was changed or deleted since it was read"
            ) from None
        return {write.key: write.new_etag for write in writes}

    async def delete(self, keys: Iterable[str] | None) -> None:
        """Delete the items with these keys; unknown keys are ignored."""
        if keys is None:
            raise Exception("Keys are required when deleting")
        wanted = list(dict.fromkeys(keys))
        if wanted:
            async with self._breaker.guard():
                await self._driver.delete(wanted)


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
    # The eTag lives in its own column; a copy in the data would go stale.
    return state_codec.dumps(item, leave_out="e_tag")


def _restore(data: str, etag: str) -> object:
    # Restores only plain data and the codec's allowed classes; anything else: UnreadableState.
    return state_codec.restore_text(data, e_tag=etag)
