"""Which offers have dates is decided in the content, never in code."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.check import check_dir
from content.loader import load_catalog
from tests.content.demo_toolkit import Toolkit, write_demo_toolkit

OFFER_FILE = "offers/demo-offer.md"


def test_the_wethouder_conversations_are_the_offer_with_sessions() -> None:
    assert load_catalog().offers_with_sessions() == ["wethoudersgesprekken"]


def test_an_offer_gets_sessions_by_a_flag_in_its_front_matter(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER_FILE, "access: aanmelden", "access: aanmelden\nsessions: true")

    assert check_dir(toolkit.root) == []
    assert load_catalog(toolkit.root).offers_with_sessions() == ["demo-offer"]


def test_sessions_without_signing_up_in_the_bot_is_reported(toolkit: Toolkit) -> None:
    toolkit.replace(OFFER_FILE, "access: aanmelden", "access: info\nsessions: true")

    (problem,) = check_dir(toolkit.root)

    assert problem.line == toolkit.line_of(OFFER_FILE, "sessions:")
    assert "needs access 'aanmelden'" in problem.message


@pytest.fixture
def toolkit(tmp_path: Path) -> Toolkit:
    return write_demo_toolkit(tmp_path / "toolkit")
