"""Logging set up once per process: readable lines in development, one JSON object per line in
production.

What a log line may hold: what happened, ids of things (never of people), counts and times. No
message text, no names: help requests may describe discrimination. A failure is logged as its
exception's class and where it happened (in text, its traceback), without the exception's
message, which may quote input.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType

import orjson

from bot.errors import describe

# Loggers of libraries whose DEBUG or INFO records hold data (SQL parameters, request bodies).
DATA_AT_DEBUG = ("aiosqlite", "sqlalchemy.engine", "msrest.http_logger", "asyncpg")

# Attributes every LogRecord has; anything else on a record came through `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = describe(record.exc_info[1])
        return orjson.dumps(entry, default=str).decode()


# How Python joins a chain of exceptions in a traceback.
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def traceback_without_messages(error: BaseException) -> str:
    """`error`'s traceback as Python prints it, with the exceptions before it, but no messages."""
    seen: set[int] = set()

    def told(error: BaseException) -> str:
        seen.add(id(error))
        before = ""
        if error.__cause__ is not None and id(error.__cause__) not in seen:
            before = told(error.__cause__) + _CAUSE
        elif (
            error.__context__ is not None
            and not error.__suppress_context__
            and id(error.__context__) not in seen
        ):
            before = told(error.__context__) + _CONTEXT
        frames = "".join(traceback.format_tb(error.__traceback__))
        header = "Traceback (most recent call last):\n" if frames else ""
        kind = type(error)
        return (
            f"{before}{header}{frames}{kind.__module__}.{kind.__qualname__} (message not logged)\n"
        )

    return told(error).rstrip("\n")


class TextFormatter(logging.Formatter):
    """Readable lines; a failure as its traceback without the exceptions' messages."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatException(
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        return traceback_without_messages(ei[1]) if ei[1] is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        # Another handler's formatter may have cached the full traceback, messages and all, on
        # the record (exc_text): the line is made with this one's, and the cache left as it was.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached


def configure_logging(level: str, *, json: bool) -> None:
    """Send every log record to stderr, as JSON lines or as text."""
    handler = logging.StreamHandler(sys.stderr)
    if json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that write data below WARNING (aiosqlite: every statement with its parameters,
    # such as a waiting dialog's state, a directorate or a name; SQLAlchemy's engine the same at
    # INFO) speak from WARNING up, whatever the level.
    for name in DATA_AT_DEBUG:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
