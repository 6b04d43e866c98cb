"""The conversation service, against fakes of the repository and the unit of work."""

from __future__ import annotations

import pytest

from services.conversations import (
    ConversationRecord,
    ConversationScope,
    find_conversation,
    remember_conversation,
)

AAD_OBJECT_ID = "00000000-0000-0000-0000-0000000000aa"


class FakeConversationRepository:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], ConversationRecord] = {}

    async def upsert(self, record: ConversationRecord) -> None:
        self.records[(record.scope, record.owner)] = record

    async def get(self, *, scope: str, owner: str) -> ConversationRecord | None:
        return self.records.get((scope, owner))


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.conversations = FakeConversationRepository()
        self.commits = 0

    async def commit(self) -> None:
        self.commits += 1


def personal_chat(service_url: str = "https://smba.trafficmanager.net/emea/") -> ConversationRecord:
    return ConversationRecord(
        scope=ConversationScope.PERSONAL,
        owner=AAD_OBJECT_ID,
        tenant_id="city-tenant",
        channel_id="msteams",
        service_url=service_url,
        conversation_id="a:1personal",
        bot_id="28:bot",
        locale="nl-NL",
        reference={"conversation": {"id": "a:1personal"}},
    )


async def test_remember_conversation_stores_the_record_and_commits() -> None:
    uow = FakeUnitOfWork()

    await remember_conversation(uow=uow, reference=personal_chat())

    assert uow.conversations.records == {("personal", AAD_OBJECT_ID): personal_chat()}
    assert uow.commits == 1


async def test_remembering_again_replaces_the_record_of_that_user() -> None:
    uow = FakeUnitOfWork()
    await remember_conversation(uow=uow, reference=personal_chat())

    moved = personal_chat(service_url="https://smba.trafficmanager.net/amer/")
    await remember_conversation(uow=uow, reference=moved)

    assert await find_conversation(uow=uow, scope="personal", owner=AAD_OBJECT_ID) == moved
    assert len(uow.conversations.records) == 1


async def test_find_conversation_reads_without_committing() -> None:
    uow = FakeUnitOfWork()

    assert await find_conversation(uow=uow, scope="personal", owner=AAD_OBJECT_ID) is None
    assert uow.commits == 0


@pytest.mark.parametrize("missing", ["scope", "owner", "service_url", "conversation_id"])
def test_a_record_without_where_or_whom_is_refused(missing: str) -> None:
    fields: dict[str, object] = {
        "scope": "personal",
        "owner": AAD_OBJECT_ID,
        "tenant_id": None,
        "channel_id": "msteams",
        "service_url": "https://smba.trafficmanager.net/emea/",
        "conversation_id": "a:1personal",
        "bot_id": None,
        "locale": None,
        "reference": {},
        missing: "",
    }

    with pytest.raises(ValueError, match=missing):
        ConversationRecord(**fields)  # type: ignore[arg-type]


def test_scopes_are_the_teams_conversation_types() -> None:
    assert [scope.value for scope in ConversationScope] == ["personal", "channel", "groupChat"]
