"""Bot state to JSON and back, in jsonpickle's format, restoring only the bot's own classes.

Dialog state is a tree of plain objects (DialogState, DialogInstance, PromptOptions), dicts,
lists and tuples. It is stored as jsonpickle writes such trees (`{"py/object": "module.Class",
...attributes}`, `{"py/tuple": [...]}`), as CosmosDbPartitionedStorage stores it.

Stored text is data, never code. Restoring builds dicts, lists, tuples, numbers, strings and
objects of the classes on an allow-list (`RESTORABLE`: those given to `allow`, which
storage.bot_state does for botbuilder's dialog state), filling in their attributes without
running any of their code.
It never imports a module a document names, and never hands a document to jsonpickle's
Unpickler, which follows `py/reduce`, `py/function` and `py/repr` (through `eval`). A document
with any other tag raises `UnreadableState`.

Writing is the mirror image: only what restoring can read is written; anything else (a class
off the list, a key that is not a string or starts with "py/", a cycle) raises
`UnstorableState`, so nothing is stored that cannot be read back.
"""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Any

import orjson

_OBJECT = "py/object"
_TUPLE = "py/tuple"
_TAG = "py/"


class UnreadableState(ValueError):
    """Stored state that is not a document this codec writes: refused, never interpreted."""


class UnstorableState(TypeError):
    """State holding something this codec cannot write so that it reads back the same."""


def _name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


_CUSTOM_PICKLING = (
    "__reduce__",
    "__reduce_ex__",
    "__getstate__",
    "__setstate__",
    "__getnewargs__",
    "__getnewargs_ex__",
    "__slots__",
)


def _plain_class(kind: type) -> bool:
    """An instance is nothing but its class and its `__dict__`, as jsonpickle writes it."""
    return (
        not any(name in vars(base) for base in kind.__mro__[:-1] for name in _CUSTOM_PICKLING)
        and "__dict__" in dir(kind)
        and "<locals>" not in kind.__qualname__
        and "." not in kind.__qualname__
        and not issubclass(kind, (list, dict, tuple, set, frozenset, str, int, float))
    )


# By name (module and class), the only classes whose objects the bot keeps between turns;
# storage.bot_state allows botbuilder's dialog state classes.
RESTORABLE: dict[str, type] = {}


def allow(*classes: type) -> None:
    """Let these plain classes be stored and restored (the bot's own state classes)."""
    for kind in classes:
        if not _plain_class(kind):
            raise TypeError(f"{_name(kind)} is not a plain class: it cannot be kept in state")
        RESTORABLE[_name(kind)] = kind


def flatten(value: object) -> Any:
    """The jsonpickle document for `value` (a tree of JSON types and tagged objects)."""
    return _flatten(value, set(), [False])


def dumps(value: object, *, leave_out: str | None = None) -> str:
    """`flatten` as compact JSON, without the top-level key `leave_out` if given.

    The text is what `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` writes; orjson
    writes it unless the tree holds NaN, an infinity or an integer beyond 64 bits.
    """
    needs_json = [False]
    document = _flatten(value, set(), needs_json)
    if leave_out is not None and isinstance(document, dict):
        document = {name: item for name, item in document.items() if name != leave_out}
    if not needs_json[0]:
        try:
            return orjson.dumps(document).decode()
        except orjson.JSONEncodeError:  # integers beyond 64 bits
            pass
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def loads(data: str | bytes) -> Any:
    """The document `dumps` wrote (by json: orjson would read integers past 64 bits as floats)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise UnreadableState("stored state is not JSON") from error


class _Reread(Exception):
    """orjson read a number that json reads differently: read the text again with json."""


def restore_text(data: str | bytes, **top_level: Any) -> Any:
    """`restore(loads(data))`, with `top_level` set in the document first if it is an object.

    orjson reads the text when it reads it as json does. It refuses NaN and infinities, and it
    reads an integer past 64 bits as a float; restoring stops at any float of that size
    (`_LARGEST`), and json reads the text again.
    """
    try:
        return _restore(_with(orjson.loads(data), top_level), True)
    except (orjson.JSONDecodeError, _Reread):
        return restore(_with(loads(data), top_level))
    except RecursionError as error:
        raise UnreadableState("stored state is nested too deeply") from error


def _with(document: Any, top_level: dict[str, Any]) -> Any:
    if top_level and type(document) is dict:
        document.update(top_level)
    return document


def restore(document: Any) -> Any:
    """The objects a `flatten` document describes; UnreadableState for anything else."""
    try:
        return _restore(document, False)
    except RecursionError as error:
        raise UnreadableState("stored state is nested too deeply") from error


def _flatten(value: object, ancestors: set[int], needs_json: list[bool]) -> Any:
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            needs_json[0] = True  # orjson would write null
        return value
    if isinstance(value, Enum) and isinstance(value, str | int):
        # botbuilder's activity fields hold str enums (ActivityTypes.message): kept as their value,
        # which compares equal to the member when read back.
        return value.value
    if id(value) in ancestors:
        raise UnstorableState("state refers to itself (a cycle)")
    ancestors.add(id(value))
    try:
        if kind is list:
            return [_flatten(item, ancestors, needs_json) for item in value]  # type: ignore[attr-defined]
        if kind is tuple:
            return {_TUPLE: [_flatten(item, ancestors, needs_json) for item in value]}  # type: ignore[attr-defined]
        if kind is dict:
            return _flatten_items(value, ancestors, needs_json)  # type: ignore[arg-type]
        name = _name(kind)
        if RESTORABLE.get(name) is kind:
            return {_OBJECT: name, **_flatten_items(vars(value), ancestors, needs_json)}
    finally:
        ancestors.discard(id(value))
    raise UnstorableState(
        f"state holds a {name}: keep JSON values, lists, tuples, dicts and allowed classes only"
    )


def _flatten_items(
    items: dict[Any, Any], ancestors: set[int], needs_json: list[bool]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in items.items():
        if type(key) is not str:
            raise UnstorableState("state holds a dict key that is not a string")
        if key.startswith(_TAG):
            raise UnstorableState("state holds a dict key that starts with 'py/'")
        out[key] = _flatten(item, ancestors, needs_json)
    return out


# Floats from here on may be integers orjson could not read exactly; json reads them again.
_LARGEST = float(2**63)


def _restore(document: Any, from_orjson: bool) -> Any:
    kind = type(document)
    if kind is list:
        return [_restore(item, from_orjson) for item in document]
    if kind is not dict:
        if from_orjson and kind is float and not -_LARGEST < document < _LARGEST:
            raise _Reread
        return document
    if _OBJECT in document:
        cls = RESTORABLE.get(document[_OBJECT]) if type(document[_OBJECT]) is str else None
        if cls is None:
            raise UnreadableState("stored state names a class that is not allowed")
        instance: Any = object.__new__(cls)
        instance.__dict__.update(_restore_items(document, from_orjson, skip=_OBJECT))
        return instance
    if _TUPLE in document:
        items = document[_TUPLE]
        if len(document) != 1 or type(items) is not list:
            raise UnreadableState("stored state holds a malformed tuple")
        return tuple(_restore(item, from_orjson) for item in items)
    return _restore_items(document, from_orjson, skip=None)


def _restore_items(document: dict[str, Any], from_orjson: bool, *, skip: str | None) -> Any:
    restored: dict[str, Any] = {}
    for key, item in document.items():
        if key == skip:
            continue
        if key.startswith(_TAG):  # py/reduce, py/function, py/repr, py/b64, py/id, ...
            raise UnreadableState("stored state holds a tag this codec does not read")
        restored[key] = _restore(item, from_orjson)
    return restored
