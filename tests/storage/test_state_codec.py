"""The fast state codec writes what jsonpickle writes, and reads back what either wrote."""

from __future__ import annotations

import enum
import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonpickle.pickler import Pickler  # type: ignore[import-untyped]
from jsonpickle.unpickler import Unpickler  # type: ignore[import-untyped]
from sqlalchemy import text

from bot.app import APP_KEY
from bot.local_connector import LocalConnector
from storage import state_codec
from tests.web.conftest import start_bot

SCENARIO: list[dict[str, Any]] = [
    {"text": "menu"},
    {"value": {"action": "finder"}},
    {"value": {"finder": "teammanager"}},
    {"value": {"finder": "gesprekstechnieken"}},
    {"value": {"finder": "teamgesprek"}},
    {"value": {"finder": "team"}},
    {"text": "mijn team maakt grapjes over afkomst, wat kan ik doen?"},
]


async def test_real_dialog_states_are_stored_exactly_as_jsonpickle_would(tmp_path: Path) -> None:
    documents: list[Any] = []
    async for running in start_bot(tmp_path, LocalConnector()):
        user = running.user()
        for step in SCENARIO:
            await running.send(user.activity(**step))
            async with running.app[APP_KEY].engine.connect() as connection:
                rows = (await connection.execute(text("SELECT data FROM bot_state"))).all()
            documents += [json.loads(row.data) for row in rows]
    assert any("CardChoicePrompt" in json.dumps(doc) for doc in documents), "a prompt was stored"
    for document in documents:
        by_jsonpickle = Unpickler().restore(json.loads(json.dumps(document)))
        by_codec = state_codec.restore(json.loads(json.dumps(document)))
        assert Pickler().flatten(by_jsonpickle) == document
        assert Pickler().flatten(by_codec) == document
        assert state_codec.flatten(by_jsonpickle) == document


class Colour(enum.Enum):
    RED = "red"


class Plain:
    made = 0

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)
        Plain.made += 1


class Unlisted:
    def __init__(self) -> None:
        self.x = 1


def round_trip(value: object) -> Any:
    return state_codec.restore(json.loads(state_codec.dumps(value)))


state_codec.allow(Plain)


@pytest.mark.parametrize(
    "value",
    [
        {"colour": Colour.RED},
        {"when": datetime(2026, 11, 23, tzinfo=UTC)},
        {1: "not a string key"},
        {"py/object": "looks like a tag"},
        {"x": {"py/b64": "a"}},
        {"s": {1, 2}},
        {"other": Unlisted()},
    ],
    ids=["enum", "datetime", "int-key", "tag-key", "nested-tag-key", "set", "unlisted-class"],
)
def test_what_could_not_be_read_back_is_refused_on_write(value: object) -> None:
    with pytest.raises(state_codec.UnstorableState):
        state_codec.dumps(value)


def test_a_cycle_is_refused_and_a_shared_value_is_written_twice() -> None:
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    with pytest.raises(state_codec.UnstorableState):
        state_codec.dumps(cycle)
    shared = {"a": 1}
    assert round_trip({"one": shared, "two": shared}) == {"one": {"a": 1}, "two": {"a": 1}}


@pytest.mark.parametrize(
    "document",
    [
        {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": ["true"]}]},
        {"py/function": "os.system"},
        {"py/repr": "os/os.system('true')"},
        {"py/object": "subprocess.Popen", "py/initargs": {"py/tuple": [["true"]]}},
        {"py/object": "subprocess.Popen"},
        {"py/object": "tests.storage.test_state_codec.Unlisted"},
        {"py/object": ["not", "a", "name"]},
        {"py/type": "os._wrap_close"},
        {"py/id": 1},
        {"py/b64": "a"},
        {"py/tuple": [1], "py/b64": "a"},
        {"py/tuple": "12"},
        {"nested": [{"deeper": {"py/mod": "os"}}]},
        {"py/object": "botbuilder.dialogs.dialog_state.DialogState", "py/state": {}},
    ],
)
def test_restoring_refuses_every_other_tag_without_importing_or_running_anything(
    document: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_import(name: str, *_: Any, **__: Any) -> None:
        raise AssertionError(f"restoring imported {name}")

    monkeypatch.setattr(importlib, "import_module", no_import)
    with pytest.raises(state_codec.UnreadableState):
        state_codec.restore(json.loads(json.dumps(document)))
    with pytest.raises(state_codec.UnreadableState):
        state_codec.restore_text(json.dumps(document))


def test_restoring_text_that_is_not_json_or_too_deep_is_unreadable() -> None:
    for stored in ("{not json", "[" * 100_000 + "]" * 100_000):
        with pytest.raises(state_codec.UnreadableState):
            state_codec.restore_text(stored)


def test_an_allowed_object_is_built_without_running_its_code() -> None:
    made = Plain.made
    restored = state_codec.restore({"py/object": f"{Plain.__module__}.Plain", "step": 1})
    assert isinstance(restored, Plain) and restored.step == 1
    assert Plain.made == made, "its __init__ did not run"


def test_plain_objects_tuples_and_nesting_round_trip() -> None:
    value = Plain(name="x", pairs=[("a", "b")], inner=Plain(n=1, f=0.5, ok=True, none=None))
    restored = round_trip({"state": value})["state"]
    assert isinstance(restored, Plain) and isinstance(restored.inner, Plain)
    assert restored.pairs == [("a", "b")]
    assert vars(restored.inner) == {"n": 1, "f": 0.5, "ok": True, "none": None}
    assert state_codec.flatten({"state": value}) == Pickler().flatten({"state": value})


def test_the_text_is_what_json_writes_and_reads_back_whatever_the_value() -> None:
    cases: list[object] = [
        {"name": "Zoë", "steps": [1, 2.5, True, None], "nested": {"quote": 'a "b" \\ c\n'}},
        {"n": float("nan"), "inf": float("inf")},  # orjson would write null: json writes these
        {"big": 2**70},  # beyond orjson's 64-bit integers
        Plain(step=3, label="tweede"),
    ]
    for value in cases:
        text = state_codec.dumps(value)
        expected = json.dumps(state_codec.flatten(value), ensure_ascii=False, separators=(",", ":"))
        assert text == expected
        assert state_codec.dumps(state_codec.restore(state_codec.loads(text))) == text


def test_leave_out_drops_only_that_top_level_key() -> None:
    text = state_codec.dumps({"e_tag": "1", "keep": {"e_tag": "inner"}}, leave_out="e_tag")
    assert json.loads(text) == {"keep": {"e_tag": "inner"}}


def test_restoring_the_text_gives_what_json_reads_whatever_the_numbers() -> None:
    cases: list[object] = [
        {"n": 2**63 - 1, "m": 2**63, "u64": 2**64 - 1, "big": 2**64, "huge": -(2**70)},
        {"f": 0.1, "large": 1e300, "edge": 9.3e18, "nan": float("nan"), "inf": float("-inf")},
        {"name": "Zoë", "pairs": [("a", "b")], "state": Plain(step=3, label="tweede")},
        [1, 2**65, {"deep": [2**66]}],
    ]
    for value in cases:
        text = state_codec.dumps(value)
        by_json = state_codec.restore(state_codec.loads(text))
        by_text = state_codec.restore_text(text)
        assert state_codec.dumps(by_text) == state_codec.dumps(by_json) == text
        assert repr(state_codec.flatten(by_text)) == repr(state_codec.flatten(by_json))


def test_restoring_the_text_sets_the_top_level_items_given() -> None:
    text = state_codec.dumps({"keep": {"e_tag": "inner"}})
    assert state_codec.restore_text(text, e_tag="7") == {"keep": {"e_tag": "inner"}, "e_tag": "7"}
    assert state_codec.restore_text("[1]", e_tag="7") == [1]
