"""The fast activity (de)serialiser gives what msrest gives, on real Teams activities and cards."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, Attachment, ChannelAccount, ConversationAccount, Entity
from msrest.serialization import Deserializer, Model, Serializer

from bot.chat import TeamsUser
from bot.wire import _model_from, _plan, activity_from_json, to_json, to_json_bytes
from content.loader import load_catalog
from content.templates import load_templates
from dialogs.replies import Replies
from dialogs.views import Views

USER = TeamsUser("http://127.0.0.1:1/api/messages", "https://smba.trafficmanager.net/emea/", "t")

INCOMING = {
    "message": USER.says("mijn team maakt grapjes, wat kan ik doen?"),
    "button": USER.presses({"finder": "teammanager", "step": 1}),
    "install": USER.install(),
    "invoke": USER.executes("finder", {"finder": "team"}),
    "rich": {
        **USER.says("hallo"),
        "localTimestamp": "2026-11-23T11:00:00.123+01:00",
        "entities": [{"type": "clientInfo", "locale": "nl-NL", "country": "NL"}],
        "attachments": [{"contentType": "text/html", "content": "<p>hallo</p>"}],
        "channelData": {"tenant": {"id": "t"}, "source": {"name": "message"}},
        "from": {"id": "29:x", "aadObjectId": "x", "name": "N", "role": "user"},
        "conversation": {"id": "19:c;messageid=1", "conversationType": "channel", "isGroup": True},
        "unknownField": {"kept": True},
    },
}


def attributes(value: Any) -> Any:
    """Every attribute, recursively, additional_properties included."""
    if hasattr(value, "_attribute_map"):
        return {name: attributes(item) for name, item in vars(value).items()}
    if isinstance(value, list):
        return [attributes(item) for item in value]
    if isinstance(value, dict):
        return {key: attributes(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize("name", INCOMING)
def test_incoming_activities_deserialise_as_msrest_does(name: str) -> None:
    body = INCOMING[name]
    expected = Activity().deserialize(body)
    fast = activity_from_json(body)
    assert attributes(fast) == attributes(expected)
    assert to_json(fast) == expected.serialize()


def all_cards() -> list[Activity]:
    templates = load_templates()
    replies = Replies(templates)
    catalog = load_catalog()
    items = {item.id: item for item in catalog.items()}
    cards = []
    for lang in ("nl", "en"):
        views = Views(templates, lang, {})  # type: ignore[arg-type]
        cards += [replies.card("welcome", lang), replies.card("menu", lang)]  # type: ignore[arg-type]
        cards += [replies.card("item", lang, **views.item(i, items)) for i in items.values()]  # type: ignore[arg-type]
        cards.append(replies.text("error_text", lang))  # type: ignore[arg-type]
    return cards


def test_every_outgoing_card_serialises_as_msrest_does() -> None:
    reference = TurnContext.get_conversation_reference(activity_from_json(INCOMING["rich"]))
    for card in all_cards():
        reply = TurnContext.apply_conversation_reference(card, reference)
        reply.timestamp = datetime(2026, 11, 23, 10, 0, 0, 120000, tzinfo=UTC)
        assert to_json(reply) == reply.serialize()


@pytest.mark.parametrize("name", INCOMING)
def test_conversation_references_serialise_as_msrest_does(name: str) -> None:
    reference = TurnContext.get_conversation_reference(activity_from_json(INCOMING[name]))
    assert to_json(reference) == reference.serialize()


def test_a_wrongly_typed_field_is_refused_like_msrest_refuses_it() -> None:
    body = {**INCOMING["message"], "timestamp": "not a date"}
    with pytest.raises(Exception) as fast:
        activity_from_json(body)
    with pytest.raises(Exception) as stock:
        Activity().deserialize(body)
    assert type(fast.value) is type(stock.value)


def test_request_bodies_hold_the_json_msrest_would_send() -> None:
    reference = TurnContext.get_conversation_reference(activity_from_json(INCOMING["rich"]))
    activities = [TurnContext.apply_conversation_reference(card, reference) for card in all_cards()]
    odd = Activity(
        type="message",
        value={"when": datetime(2026, 11, 23, 10, tzinfo=UTC), "who": reference.user, "n": [1.5]},
        channel_data={"kind": "x", 7: "number key"},
    )
    for activity in [*activities, odd]:
        body = to_json_bytes(activity)
        assert json.loads(body) == json.loads(json.dumps(activity.serialize()))


def test_integers_orjson_cannot_write_are_written_as_json_writes_them() -> None:
    activity = Activity(type="message", value={"big": 2**70})
    assert json.loads(to_json_bytes(activity)) == json.loads(json.dumps(activity.serialize()))


class Greeting(Model):  # type: ignore[misc]
    """A model whose constructor does more than store its arguments."""

    _attribute_map = {  # noqa: RUF012  # msrest's convention
        "text": {"key": "text", "type": "str"},
        "shout": {"key": "shout", "type": "bool"},
    }

    def __init__(self, *, text: str | None = None, shout: bool | None = None) -> None:
        super().__init__()
        self.text = text or "hallo"
        self.shout = shout


class Named(Model):  # type: ignore[misc]
    """A model that cannot be made without an argument."""

    _attribute_map = {"name": {"key": "name", "type": "str"}}  # noqa: RUF012

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def test_a_model_with_its_own_constructor_is_read_and_written_as_msrest_does() -> None:
    for body in ({"text": "dag", "shout": True, "extra": 1}, {"shout": False}):
        fast = _model_from(Greeting, body)
        expected = Deserializer({"Greeting": Greeting})("Greeting", body)
        assert attributes(fast) == attributes(expected)
        assert to_json(fast) == Serializer({"Greeting": Greeting}).body(fast, "Greeting")
    named = _model_from(Named, {"name": "Bureau"})
    assert attributes(named) == attributes(
        Deserializer({"Named": Named})("Named", {"name": "Bureau"})
    )
    assert to_json(named) == {"name": "Bureau"}


class Aliased(Model):  # type: ignore[misc]
    """Two attributes read from one JSON key."""

    _attribute_map = {  # noqa: RUF012
        "text": {"key": "text", "type": "str"},
        "echo": {"key": "text", "type": "str"},
    }

    def __init__(self, *, text: str | None = None, echo: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.echo = echo


def test_two_attributes_on_one_key_are_both_read_as_msrest_reads_them() -> None:
    body = {"text": "hallo", "other": 1}
    fast = _model_from(Aliased, body)
    assert attributes(fast) == attributes(Deserializer({"Aliased": Aliased})("Aliased", body))


def test_activities_are_read_the_short_way() -> None:
    # The constructors of the models a Teams activity is made of only store their arguments:
    # if a new botbuilder release changes that, the slower general path takes over, and this
    # test says the speed-up is gone.
    for model in (Activity, ChannelAccount, ConversationAccount, Attachment, Entity):
        assert _plan(model).stores_only, model.__name__
