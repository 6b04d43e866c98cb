"""Logging set up once per process: readable lines in development, one JSON object per line in
production.

What a log line may hold: what happened, ids of things (never of people), counts and times. No
message text, no names: help requests may describe discrimination. A failure is logged as its
exception's class and where it happened, without the exception's message, which may quote input.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

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


def configure_logging(level: str, *, json: bool) -> None:
    """Send every log record to stderr, as JSON lines or as text."""
    handler = logging.StreamHandler(sys.stderr)
    if json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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
