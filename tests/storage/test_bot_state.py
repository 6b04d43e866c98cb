"""SqlStorage keeps Bot Framework state with eTag concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from botbuilder.core import StatePropertyAccessor, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from botbuilder.testing import StorageBaseTests
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.conversations import find_conversation, remember_conversation
from storage import db, state_codec
from storage.bot_state import EtagConflictError, FastConversationState, SqlStorage
from storage.state_drivers import close_driver
from storage.uow import UnitOfWork
from tests.storage.test_conversations import personal_chat

BASE_TESTS = sorted(
    name for name, member in vars(StorageBaseTests).items() if isinstance(member, staticmethod)
)


@dataclass
class Bookmark:
    """Stands in for the objects dialog state holds."""

    step: int


# The dialog state classes the bot stores are allowed already; the tests' stand-ins join them.
state_codec.allow(Bookmark, StoreItem)


@pytest.fixture
def storage(db_engine: AsyncEngine) -> SqlStorage:
    return SqlStorage(db_engine)


def test_all_bot_framework_base_tests_are_collected() -> None:
    assert len(BASE_TESTS) >= 11


@pytest.mark.parametrize("base_test", BASE_TESTS)
async def test_passes_bot_framework_storage_base_test(storage: SqlStorage, base_test: str) -> None:
    assert await getattr(StorageBaseTests, base_test)(storage) is True


async def test_write_with_stale_etag_raises_without_data_and_changes_nothing(
    storage: SqlStorage,
) -> None:
    await storage.write({"turn": {"answer": "first"}})
    stale = (await storage.read(["turn"]))["turn"]
    await storage.write({"turn": {"answer": "second", "e_tag": stale["e_tag"]}})
    current = (await storage.read(["turn"]))["turn"]

    with pytest.raises(EtagConflictError) as conflict:
        await storage.write({"turn": {"answer": "vertrouwelijk", "e_tag": stale["e_tag"]}})

    assert "vertrouwelijk" not in str(conflict.value)
    assert (await storage.read(["turn"]))["turn"] == current


async def test_failing_write_in_a_batch_leaves_the_other_items_unwritten(
    storage: SqlStorage,
) -> None:
    await storage.write({"existing": {"count": 1}})
    stale_etag = (await storage.read(["existing"]))["existing"]["e_tag"]
    await storage.write({"existing": {"count": 2, "e_tag": "*"}})

    with pytest.raises(EtagConflictError):
        await storage.write(
            {
                "a-before": {"count": 1},
                "existing": {"count": 3, "e_tag": stale_etag},
                "z-after": {"count": 1},
            }
        )

    stored = await storage.read(["a-before", "existing", "z-after"])
    assert set(stored) == {"existing"}
    assert stored["existing"]["count"] == 2


async def test_empty_etag_is_refused_before_anything_is_written(storage: SqlStorage) -> None:
    with pytest.raises(ValueError, match="empty eTag"):
        await storage.write({"fine": {"count": 1}, "broken": {"count": 1, "e_tag": ""}})

    assert await storage.read(["fine", "broken"]) == {}


async def test_write_with_etag_of_a_deleted_item_raises_instead_of_restoring_it(
    storage: SqlStorage,
) -> None:
    await storage.write({"gone": {"count": 1}})
    etag = (await storage.read(["gone"]))["gone"]["e_tag"]
    await storage.delete(["gone"])

    with pytest.raises(EtagConflictError):
        await storage.write({"gone": {"count": 2, "e_tag": etag}})

    assert await storage.read(["gone"]) == {}


async def test_concurrent_writers_with_the_same_etag_exactly_one_wins(
    storage: SqlStorage,
) -> None:
    await storage.write({"conversation": {"writer": None}})
    etag = (await storage.read(["conversation"]))["conversation"]["e_tag"]

    outcomes = await asyncio.gather(
        *(
            storage.write({"conversation": {"writer": writer, "e_tag": etag}})
            for writer in range(8)
        ),
        return_exceptions=True,
    )

    winners = [writer for writer, outcome in enumerate(outcomes) if outcome is None]
    assert len(winners) == 1
    assert all(isinstance(o, EtagConflictError) for o in outcomes if o is not None)
    assert (await storage.read(["conversation"]))["conversation"]["writer"] == winners[0]


async def test_saving_the_same_state_twice_in_one_turn_is_no_conflict(
    storage: SqlStorage,
) -> None:
    await storage.write({"turn": {"count": 1}})
    state = (await storage.read(["turn"]))["turn"]
    read_etag = state["e_tag"]

    state["count"] = 2
    await storage.write({"turn": state})
    state["count"] = 3
    await storage.write({"turn": state})

    assert (await storage.read(["turn"]))["turn"]["count"] == 3
    with pytest.raises(EtagConflictError):
        await storage.write({"turn": {"count": 4, "e_tag": read_etag}})


async def test_objects_come_back_as_objects_with_their_etag(storage: SqlStorage) -> None:
    await storage.write(
        {"dialog": {"bookmark": Bookmark(step=2)}, "item": StoreItem(count=1, e_tag="*")}
    )

    stored = await storage.read(["dialog", "item"])

    assert stored["dialog"]["bookmark"] == Bookmark(step=2)
    assert isinstance(stored["item"], StoreItem)
    assert stored["item"].count == 1
    assert stored["item"].e_tag not in (None, "*")


async def test_etags_change_on_every_write(storage: SqlStorage) -> None:
    await storage.write({"key": {"count": 1}})
    first = (await storage.read(["key"]))["key"]["e_tag"]
    await storage.write({"key": {"count": 1}})
    second = (await storage.read(["key"]))["key"]["e_tag"]

    assert first != second


async def test_storage_built_from_a_session_factory_shares_its_database(
    db_session_factory: async_sessionmaker[AsyncSession], storage: SqlStorage
) -> None:
    await SqlStorage(db_session_factory).write({"shared": {"count": 1}})

    assert (await storage.read(["shared"]))["shared"]["count"] == 1


def test_storage_refuses_something_that_is_not_an_engine() -> None:
    with pytest.raises(TypeError):
        SqlStorage(async_sessionmaker())


async def test_delete_without_keys_raises(storage: SqlStorage) -> None:
    with pytest.raises(Exception, match="Keys are required"):
        await storage.delete(None)


def _turn(conversation: str = "c1") -> TurnContext:
    activity = Activity(
        type="message",
        channel_id="msteams",
        conversation=ConversationAccount(id=conversation),
        from_property=ChannelAccount(id="user"),
        recipient=ChannelAccount(id="bot"),
    )
    return TurnContext(TestAdapter(), activity)


async def _saved_count(
    storage: SqlStorage, value: int
) -> tuple[FastConversationState, StatePropertyAccessor, TurnContext]:
    """Conversation state with a `count` property, saved as `value` by one turn."""
    state = FastConversationState(storage)
    count = state.create_property("count")
    turn = _turn()
    await state.load(turn)
    await count.set(turn, value)
    await state.save_changes(turn)
    return state, count, turn


async def test_conversation_state_is_written_only_when_a_turn_changed_it(
    storage: SqlStorage,
) -> None:
    state, count, first = await _saved_count(storage, 1)
    key = state.get_storage_key(first)
    etag_after_first = (await storage.read_documents([key]))[key][1]

    unchanged = _turn()
    await state.load(unchanged)
    assert await count.get(unchanged) == 1
    await state.save_changes(unchanged)
    assert (await storage.read_documents([key]))[key][1] == etag_after_first

    await count.set(unchanged, 2)
    await state.save_changes(unchanged)
    await count.set(unchanged, 3)  # a second save in the same turn is not a conflict
    await state.save_changes(unchanged)
    again = _turn()
    await state.load(again)
    assert await count.get(again) == 3


async def test_two_turns_of_one_conversation_cannot_both_save(storage: SqlStorage) -> None:
    state, count, _ = await _saved_count(storage, 0)

    one, other = _turn(), _turn()
    await state.load(one)
    await state.load(other)
    await count.set(one, 1)
    await count.set(other, 2)
    await state.save_changes(one)
    with pytest.raises(EtagConflictError):
        await state.save_changes(other)
    check = _turn()
    await state.load(check)
    assert await count.get(check) == 1


async def test_state_writes_and_units_of_work_take_turns_instead_of_colliding(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No busy wait: a write that meets another writer's lock fails at once ("database is locked")
    # instead of sleeping, so any collision between the two kinds of writer shows.
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 0)
    engine = db.create_engine(sqlite_url)
    sessions = db.create_session_factory(engine)
    storage = SqlStorage(engine)

    async def remember(n: int) -> None:
        async with UnitOfWork(sessions) as uow:
            await remember_conversation(uow=uow, reference=personal_chat(owner=f"user-{n}"))

    try:
        await asyncio.gather(
            *(storage.write({f"state-{n}": {"step": n}}) for n in range(40)),
            *(remember(n) for n in range(40)),
        )
        assert len(await storage.read([f"state-{n}" for n in range(40)])) == 40
        async with UnitOfWork(sessions) as uow:
            found = [
                await find_conversation(uow=uow, scope="personal", owner=f"user-{n}")
                for n in range(40)
            ]
        assert all(found)
    finally:
        await close_driver(engine)
        await engine.dispose()
