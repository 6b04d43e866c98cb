from types import SimpleNamespace
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.remember import RememberConversation, conversation_record, reference_json
from bot.wire import activity_from_json, to_json


def activity(**changes: Any) -> Activity:
    body: dict[str, Any] = {
        "type": "message",
        "id": "m1",
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/emea/",
        "from": {"id": "29:x", "aadObjectId": "aad-1", "name": "Jan Jansen"},
        "recipient": {"id": "28:bot", "name": "Wegwijzer"},
        "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t"},
        "channelData": {"tenant": {"id": "t"}},
        "locale": "nl-NL",
        **changes,
    }
    return Activity().deserialize(body)


def test_personal_chat_is_keyed_by_aad_object_id_and_keeps_no_names() -> None:
    record = conversation_record(activity())
    assert record is not None
    assert (record.scope, record.owner, record.tenant_id) == ("personal", "aad-1", "t")
    assert "Jan Jansen" not in str(record.reference)
    assert "activityId" not in record.reference


def test_a_channel_thread_is_kept_once_per_channel() -> None:
    record = conversation_record(
        activity(
            conversation={
                "id": "19:abc@thread.tacv2;messageid=123",
                "conversationType": "channel",
                "tenantId": "t",
            }
        )
    )
    assert record is not None
    assert (record.scope, record.owner) == ("channel", "19:abc@thread.tacv2")


def test_nothing_is_kept_for_a_personal_chat_without_aad_object_id() -> None:
    assert conversation_record(activity(**{"from": {"id": "29:x"}})) is None


VARIANTS: dict[str, dict[str, Any]] = {
    "personal": {},
    "channel thread": {
        "conversation": {
            "id": "19:abc@thread.tacv2;messageid=123",
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": "t",
            "name": "Kanaal",
        }
    },
    "roles and extra fields": {
        "from": {"id": "29:x", "aadObjectId": "aad-1", "name": "Jan", "role": "user", "extra": 1},
        "recipient": {"id": "28:bot", "name": "Wegwijzer", "role": "bot"},
    },
    "no locale, no recipient": {"locale": None, "recipient": None},
}


@pytest.mark.parametrize("name", VARIANTS)
def test_the_reference_is_bot_frameworks_without_activity_id_and_names(name: str) -> None:
    incoming = activity_from_json(activity(**VARIANTS[name]).serialize())
    expected = to_json(TurnContext.get_conversation_reference(incoming))
    del expected["activityId"]
    for party in ("user", "bot"):
        expected.get(party, {}).pop("name", None)

    assert reference_json(incoming) == expected


class CountingUnitOfWork:
    """Counts the references written; enough of a unit of work for the middleware."""

    def __init__(self, written: list[str]) -> None:
        self.written = written
        self.conversations = self

    async def upsert(self, record: Any) -> None:
        self.written.append(record.owner)

    async def commit(self) -> None:
        pass

    async def __aenter__(self) -> "CountingUnitOfWork":
        return self

    async def __aexit__(self, *_: object) -> None:
        pass


async def _turn(middleware: RememberConversation, incoming: Activity) -> None:
    async def logic() -> None:
        pass

    await middleware.on_turn(SimpleNamespace(activity=incoming), logic)  # type: ignore[arg-type]


async def test_an_unchanged_reference_is_written_again_after_a_while_and_on_every_install() -> None:
    written: list[str] = []
    cached = RememberConversation(lambda: CountingUnitOfWork(written))
    refreshed = RememberConversation(lambda: CountingUnitOfWork(written), refresh_after=0)

    for _ in range(2):
        await _turn(cached, activity())
    await _turn(cached, activity(type="installationUpdate"))
    assert written == ["aad-1", "aad-1"]  # the second message skipped, the install did not

    written.clear()
    for _ in range(2):
        await _turn(refreshed, activity())
    assert written == ["aad-1", "aad-1"]  # the skip has run out: an unreachable mark is cleared
