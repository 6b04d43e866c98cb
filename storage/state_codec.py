"""Bot state to JSON and back, in jsonpickle's format, without jsonpickle's cost on the hot path.

Dialog state is a tree of plain objects (DialogState, DialogInstance, PromptOptions), dicts,
lists and tuples. jsonpickle handles anything, at about a millisecond per dialog stack, and the
Bot Framework flattened the state three times per turn to see whether it changed. This codec
writes exactly what jsonpickle writes for such trees (the tests compare the two) and hands
anything else (enums, shared references, custom pickling, ...) to jsonpickle itself, so what is
stored can always be read back by either.
"""

from __future__ import annotations

import importlib
import json
import math
from functools import cache
from typing import Any

import orjson
from jsonpickle import handlers  # type: ignore[import-untyped]
from jsonpickle.pickler import Pickler  # type: ignore[import-untyped]
from jsonpickle.unpickler import Unpickler  # type: ignore[import-untyped]

_OBJECT = "py/object"
_TUPLE = "py/tuple"


class _Unsupported(Exception):
    """Something only jsonpickle knows how to write or read."""


def flatten(value: object) -> Any:
    """The jsonpickle document for `value` (a tree of JSON types and tagged objects)."""
    return _document(value)[0]


def _document(value: object) -> tuple[Any, bool]:
    """`flatten`'s document, and whether this codec wrote it (rather than jsonpickle)."""
    try:
        return _flatten(value, set()), True
    except _Unsupported:
        return Pickler().flatten(value), False


def dumps(value: object, *, leave_out: str | None = None) -> str:
    """`flatten` as compact JSON, without the top-level key `leave_out` if given.

    The text is what `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` writes; orjson
    writes it for the trees this codec flattens itself, json for the rest (NaN, huge integers).
    """
    document, plain = _document(value)
    if leave_out is not None and isinstance(document, dict):
        document = {name: item for name, item in document.items() if name != leave_out}
    if plain:
        try:
            return orjson.dumps(document).decode()
        except orjson.JSONEncodeError:  # integers beyond 64 bits
            pass
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def loads(data: str | bytes) -> Any:
    """The document `dumps` wrote (by json: orjson would read integers past 64 bits as floats)."""
    return json.loads(data)


def restore_text(data: str | bytes, **top_level: Any) -> Any:
    """`restore(loads(data))`, with `top_level` set in the document first if it is an object.

    orjson reads the text when it reads it as json does. It refuses NaN and infinities, and it
    reads an integer past 64 bits as a float; restoring stops at any float of that size
    (`_LARGEST`), and json reads the text again.
    """
    try:
        return _restore(_with(orjson.loads(data), top_level))
    except (orjson.JSONDecodeError, _Unsupported):
        return restore(_with(loads(data), top_level))


def _with(document: Any, top_level: dict[str, Any]) -> Any:
    if top_level and type(document) is dict:
        document.update(top_level)
    return document


def restore(document: Any) -> Any:
    """The objects a `flatten` document describes."""
    try:
        return _restore(document)
    except _Unsupported:
        return Unpickler().restore(document)


def _flatten(value: object, seen: set[int]) -> Any:
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise _Unsupported
        return value
    # jsonpickle writes a container met twice as a reference: leave those to it.
    if id(value) in seen:
        raise _Unsupported
    seen.add(id(value))
    if kind is list:
        return [_flatten(item, seen) for item in value]  # type: ignore[attr-defined]
    if kind is tuple:
        return {_TUPLE: [_flatten(item, seen) for item in value]}  # type: ignore[attr-defined]
    if kind is dict:
        return _flatten_items(value, seen)  # type: ignore[arg-type]
    if _plain_class(kind):
        return {_OBJECT: _class_name(kind), **_flatten_items(vars(value), seen)}
    raise _Unsupported


def _flatten_items(items: dict[Any, Any], seen: set[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in items.items():
        if type(key) is not str or key.startswith("py/"):
            raise _Unsupported
        out[key] = _flatten(item, seen)
    return out


_CUSTOM_PICKLING = (
    "__reduce__",
    "__reduce_ex__",
    "__getstate__",
    "__setstate__",
    "__getnewargs__",
    "__getnewargs_ex__",
    "__slots__",
)
_PLAIN: dict[type, bool] = {}


def _plain_class(kind: type) -> bool:
    """Pickled by jsonpickle as its class name plus its `__dict__`, nothing more."""
    plain = _PLAIN.get(kind)
    if plain is None:
        plain = (
            not any(name in vars(base) for base in kind.__mro__[:-1] for name in _CUSTOM_PICKLING)
            and "__dict__" in dir(kind)
            and "<locals>" not in kind.__qualname__
            and "." not in kind.__qualname__
            and handlers.get(kind) is None
            and not issubclass(kind, (list, dict, tuple, set, frozenset, str, int, float))
        )
        _PLAIN[kind] = plain
    return plain


def _class_name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


@cache
def _class_of(name: str) -> type:
    module, _, qualname = name.rpartition(".")
    try:
        kind = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError, ValueError):
        raise _Unsupported from None
    if not isinstance(kind, type) or not _plain_class(kind):
        raise _Unsupported
    return kind


# Floats from here on may be integers orjson could not read exactly; jsonpickle restores them.
_LARGEST = float(2**63)


def _restore(document: Any) -> Any:
    kind = type(document)
    if kind is list:
        return [_restore(item) for item in document]
    if kind is not dict:
        if kind is float and not -_LARGEST < document < _LARGEST:
            raise _Unsupported
        return document
    if _OBJECT in document:
        cls = _class_of(document[_OBJECT])
        instance: Any = object.__new__(cls)
        instance.__dict__.update(
            {key: _restore(item) for key, item in document.items() if key != _OBJECT}
        )
        return instance
    if _TUPLE in document:
        if len(document) != 1:
            raise _Unsupported
        return tuple(_restore(item) for item in document[_TUPLE])
    restored: dict[str, Any] = {}
    for key, item in document.items():
        if key.startswith("py/"):
            raise _Unsupported
        restored[key] = _restore(item)
    return restored
