# mypy: disallow-untyped-calls=False
"""Activities to and from JSON without msrest's generic (de)serialiser on the hot path.

msrest walks every attribute of every model through a chain of type checks and validations; for
a Teams message that cost more CPU than the rest of the turn. These functions walk the same
`_attribute_map`s of the `botbuilder.schema` models and give the same result (the tests compare
them with msrest on real activities), handing any type they do not know to msrest itself.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from botbuilder import schema
from botbuilder.schema import Activity
from msrest.serialization import Deserializer, Model, Serializer

_MODELS: dict[str, type[Model]] = {
    name: cls
    for name, cls in vars(schema).items()
    if inspect.isclass(cls) and issubclass(cls, Model)
}
_SERIALIZER = Serializer(_MODELS)
_DESERIALIZER = Deserializer(_MODELS)

M = TypeVar("M", bound=Model)


def activity_from_json(data: dict[str, Any]) -> Activity:
    """An `Activity` from the JSON a channel posted, as `Activity().deserialize(data)` gives."""
    return _model_from(Activity, data)


def to_json(model: Model) -> dict[str, Any]:
    """The JSON body for a model, as msrest's `Serializer.body(model, ...)` gives."""
    return _model_to(model)


def _model_from(cls: type[M], data: dict[str, Any]) -> M:
    attribute_map: dict[str, dict[str, str]] = cls._attribute_map
    values: dict[str, Any] = {}
    for name, info in attribute_map.items():
        raw = data.get(info["key"])
        values[name] = None if raw is None else _value_from(raw, info["type"])
    instance = cls(**values)
    known = {info["key"] for info in attribute_map.values()}
    extra = {key: value for key, value in data.items() if key not in known}
    if extra:
        instance.additional_properties = extra
    return instance


def _value_from(raw: Any, kind: str) -> Any:
    if kind == "str":
        if isinstance(raw, str):
            return raw
    elif kind == "object":
        return raw
    elif kind == "bool":
        if isinstance(raw, bool):
            return raw
    elif kind == "iso-8601" and isinstance(raw, str):
        try:  # Teams' timestamps; msrest's parser is several times slower for the same result
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return Deserializer.deserialize_iso(raw)
        if parsed.tzinfo is not None:
            return parsed
    elif kind.startswith("[") and isinstance(raw, list):
        inner = kind[1:-1]
        return [None if item is None else _value_from(item, inner) for item in raw]
    elif kind.startswith("{") and isinstance(raw, dict):
        inner = kind[1:-1]
        return {
            key: None if item is None else _value_from(item, inner) for key, item in raw.items()
        }
    elif kind in _MODELS and isinstance(raw, dict):
        return _model_from(_MODELS[kind], raw)
    return _DESERIALIZER.deserialize_data(raw, kind)


def _model_to(model: Model) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in type(model)._attribute_map.items():
        value = getattr(model, name, None)
        if value is not None:
            out[info["key"]] = _value_to(value, info["type"])
    return out


def _value_to(value: Any, kind: str) -> Any:
    if kind == "str":
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, str):
            return value
    elif kind == "object":
        return _object_to(value)
    elif kind in ("bool", "int", "float") and type(value).__name__ == kind:
        return value
    elif kind == "iso-8601" and isinstance(value, datetime):
        return Serializer.serialize_iso(value)
    elif kind.startswith("[") and isinstance(value, list):
        inner = kind[1:-1]
        return [None if item is None else _value_to(item, inner) for item in value]
    elif kind.startswith("{") and isinstance(value, dict):
        inner = kind[1:-1]
        return {
            key: None if item is None else _value_to(item, inner) for key, item in value.items()
        }
    elif kind in _MODELS and isinstance(value, Model):
        return _model_to(value)
    return _SERIALIZER.serialize_data(value, kind)


def _object_to(value: Any) -> Any:
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return value
    if kind is dict:
        return {key: _object_to(item) for key, item in value.items()}
    if kind is list:
        return [_object_to(item) for item in value]
    if isinstance(value, Model):
        return _model_to(value)
    return _SERIALIZER.serialize_object(value)
