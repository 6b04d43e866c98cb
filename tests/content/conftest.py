"""Fixtures for the content tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.content.demo_toolkit import Toolkit, write_demo_toolkit


@pytest.fixture
def toolkit(tmp_path: Path) -> Toolkit:
    return write_demo_toolkit(tmp_path / "toolkit")
