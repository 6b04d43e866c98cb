from typing import Any

from botbuilder.schema import Activity

from bot.remember import conversation_record


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
