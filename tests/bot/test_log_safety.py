import io
import logging
from collections.abc import Iterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.log_safety import escape_control_characters, escape_control_characters_in_logs
from bot.logs import DATA_AT_DEBUG, configure_logging


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain text", "plain text"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\u2028b\x85c", "a\\u2028b\\x85c"),
    ],
)
def test_control_characters_are_escaped(raw: str, escaped: str) -> None:
    assert escape_control_characters(raw) == escaped


def test_every_record_escapes_its_message_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    escape_control_characters_in_logs()
    escape_control_characters_in_logs()  # twice changes nothing
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info(
            "channel=%s n=%d error=%s", "x\nFORGED", 3, ValueError("y\nFORGED")
        )
    assert caplog.messages == ["channel=x\\nFORGED n=3 error=y\\nFORGED"]


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, given back afterwards as it was: its handlers and levels."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name in DATA_AT_DEBUG:
        logging.getLogger(name).setLevel(logging.NOTSET)


async def test_at_debug_no_library_logs_the_data_of_a_statement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], root_logger: logging.Logger
) -> None:
    configure_logging("DEBUG", json=False)
    logging.getLogger("wegwijzer").debug("debug is on")
    async with aiosqlite.connect(tmp_path / "x.db") as db:
        await db.execute("CREATE TABLE t (v TEXT)")
        await db.execute("INSERT INTO t VALUES (?)", ("Geheime hulpvraag van Sanne",))
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/y.db")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (v TEXT)"))
        await connection.execute(text("INSERT INTO t VALUES (:v)"), {"v": "Noor zei iets"})
    await engine.dispose()
    logged = capsys.readouterr().err
    assert "debug is on" in logged
    assert "Sanne" not in logged and "Noor" not in logged


def test_a_text_log_shows_a_failures_traceback_without_its_messages(
    capsys: pytest.CaptureFixture[str], root_logger: logging.Logger
) -> None:
    name, said = "Sanne de Vries", "mijn leidinggevende zei iets kwetsends"
    configure_logging("INFO", json=False)
    # Another handler with the standard formatter formats the record first: the traceback it
    # caches on the record (with the messages) must not reach the log either.
    root_logger.handlers.insert(0, logging.StreamHandler(io.StringIO()))
    try:
        try:
            raise KeyError(name)
        except KeyError as lookup:
            raise ValueError(said) from lookup
    except ValueError:
        logging.getLogger("wegwijzer").exception("turn failed")
    logged = capsys.readouterr().err
    assert "turn failed" in logged
    assert "Traceback (most recent call last)" in logged and "test_log_safety.py" in logged
    assert "builtins.KeyError" in logged and "builtins.ValueError" in logged
    assert "direct cause" in logged
    assert "Sanne" not in logged and "kwetsends" not in logged
