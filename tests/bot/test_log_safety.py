import logging

import pytest

from bot.log_safety import escape_control_characters, escape_control_characters_in_logs


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
