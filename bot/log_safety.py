"""Log records whose fields cannot forge lines: control characters in them are escaped.

A caller chooses many of the values the bot logs (a channel id, an activity type, a header).
A newline in one of them would start a line of the caller's making in the log. Every record made
after `escape_control_characters_in_logs()` has the control characters (C0, DEL, C1 and the
Unicode line and paragraph separators) in its message and in its string arguments written as
escapes: "\\n", "\\x1b", "\\u2028". Installed as the record factory, it applies to every logger and
handler, whatever formats the record afterwards.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control_characters(text: str) -> str:
    """`text` with every control character written as an escape."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return escape_control_characters(value)
    if value is None or isinstance(value, int | float):
        return value
    # Anything else is formatted by its str() or repr(); escape what that gives.
    return _SafeText(value)


class _SafeText:
    """Formats as the wrapped value would, with control characters escaped."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __str__(self) -> str:
        return escape_control_characters(str(self._value))

    def __repr__(self) -> str:
        return escape_control_characters(repr(self._value))


def _clean(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = escape_control_characters(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_safe(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _safe(value) for key, value in record.args.items()}


def escape_control_characters_in_logs() -> None:
    """Make every log record from now on escape control characters (idempotent)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "escapes_control_characters", False):
        return

    def safe_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _clean(record)
        return record

    safe_record.escapes_control_characters = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(safe_record)
