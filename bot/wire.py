# mypy: disallow-untyped-calls=False
"""Activities to and from JSON without msrest's generic (de)serialiser on the hot path.

msrest walks every attribute of every model through a chain of type checks and validations; for
a Teams message that cost more CPU than the rest of the turn. These functions walk the same
`_attribute_map`s of the `botbuilder.schema` models and give the same result (the tests compare
them with msrest on real activities), handing any type they do not know to msrest itself.
"""

from __future__ import annotations

import inspect
import json
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

import orjson
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


def to_json_bytes(model: Model) -> bytes:
    """The same JSON as `to_json`, encoded (UTF-8, compact), for a request body.

    Plain JSON inside `object` fields (an Adaptive Card is several kilobytes of it) is left to
    orjson as it is; orjson hands back anything else, at any depth, to msrest's rules.
    """
    try:
        return orjson.dumps(
            _model_to(model, plain_objects=True), default=_object_default, option=_OPTIONS
        )
    except orjson.JSONEncodeError:  # integers past 64 bits: json writes them as msrest does
        return json.dumps(to_json(model), separators=(",", ":"), ensure_ascii=False).encode()


# Datetimes, subclasses (str-Enums) and dataclasses go to `_object_default`, as msrest would
# treat them, instead of orjson's own formats.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_NON_STR_KEYS
)


def _object_default(value: Any) -> Any:
    if isinstance(value, Model):
        return _model_to(value, plain_objects=True)
    return _SERIALIZER.serialize_object(value)


class _Plan:
    """How one model class is read and written: worked out once per class, not per call."""

    def __init__(self, cls: type[Model]) -> None:
        attribute_map: dict[str, dict[str, str]] = cls._attribute_map
        self.fields = tuple(
            (name, info["key"], info["type"]) for name, info in attribute_map.items()
        )
        self.by_key = {key: (name, kind) for name, key, kind in self.fields}
        self.by_name = {name: (key, kind) for name, key, kind in self.fields}
        # Where each JSON key leads; with two attributes on one key, the generic walk decides.
        self.unique_keys = len(self.by_key) == len(self.fields)
        # A blank instance's attributes, when the constructor does nothing but store its
        # arguments (true of every botbuilder schema model): a new instance is then a copy of
        # them with the values read, without the keyword-argument call and its checks; and
        # an instance's own attributes are all there is to write.
        try:
            blank = vars(cls())
        except TypeError:  # a constructor that needs arguments does more than store them
            blank = {}
        self.stores_only = set(blank) == {*attribute_map, "additional_properties"} and all(
            value is None for name, value in blank.items() if name != "additional_properties"
        )
        self.blank = dict(blank)


_PLANS: dict[type[Model], _Plan] = {}


def _plan(cls: type[Model]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def _model_from(cls: type[M], data: dict[str, Any]) -> M:
    plan = _plan(cls)
    if not plan.unique_keys:
        return _model_from_walk(cls, data)
    by_key = plan.by_key
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, raw in data.items():
        field = by_key.get(key)
        if field is None:
            extra[key] = raw
        elif raw is not None:
            values[field[0]] = _value_from(raw, field[1])
    if not plan.stores_only:
        instance = cls(**values)
    else:
        instance = cls.__new__(cls)
        state = instance.__dict__
        state.update(plan.blank)
        state.update(values)
    instance.additional_properties = extra
    return instance


def _model_from_walk(cls: type[M], data: dict[str, Any]) -> M:
    """Every attribute of the map in turn, as msrest walks it."""
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


def _model_to(model: Model, *, plain_objects: bool = False) -> dict[str, Any]:
    plan = _plan(type(model))
    out: dict[str, Any] = {}
    if not plan.stores_only:
        for name, key, kind in plan.fields:
            value = getattr(model, name, None)
            if value is not None:
                out[key] = _value_to(value, kind, plain_objects)
        return out
    # Most of an activity's forty attributes are None: walk what the instance holds.
    by_name = plan.by_name
    for name, value in model.__dict__.items():
        if value is not None:
            field = by_name.get(name)
            if field is None:
                continue
            key, kind = field
            if type(value) is str and kind == "str":  # most values: taken as they are
                out[key] = value
            else:
                out[key] = _value_to(value, kind, plain_objects)
    return out


def _value_to(value: Any, kind: str, plain_objects: bool = False) -> Any:
    if kind == "str":
        if type(value) is str:
            return value
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, str):
            return value
    elif kind == "object":
        return value if plain_objects else _object_to(value)
    elif kind in ("bool", "int", "float") and type(value).__name__ == kind:
        return value
    elif kind == "iso-8601" and isinstance(value, datetime):
        return Serializer.serialize_iso(value)
    elif kind.startswith("[") and isinstance(value, list):
        inner = kind[1:-1]
        return [None if item is None else _value_to(item, inner, plain_objects) for item in value]
    elif kind.startswith("{") and isinstance(value, dict):
        inner = kind[1:-1]
        return {
            key: None if item is None else _value_to(item, inner, plain_objects)
            for key, item in value.items()
        }
    elif kind in _MODELS and isinstance(value, Model):
        return _model_to(value, plain_objects=plain_objects)
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
