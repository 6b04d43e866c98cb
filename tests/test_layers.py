"""The seams of DESIGN.md, checked on every import statement of the project's packages.

- Bot Framework (botbuilder, botframework, msrest) only in bot/, dialogs/ and the state adapter
  (storage/bot_state.py);
- services/ imports nothing from bot/, dialogs/ or storage/;
- content/ imports nothing of ours outside content/;
- dialogs/ imports nothing from bot/ or storage/ (no SQL, no HTTP); storage/ nothing from bot/
  or dialogs/.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "dialogs", "services", "storage", "content")
BOT_FRAMEWORK = ("botbuilder", "botframework", "msrest")
BOT_FRAMEWORK_ALLOWED = ("bot/", "dialogs/", "storage/bot_state.py")
FORBIDDEN = {
    "services": ("bot", "dialogs", "storage"),
    "content": ("bot", "dialogs", "services", "storage"),
    "dialogs": ("bot", "storage"),
    "storage": ("bot", "dialogs"),
}


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module `path` imports (absolute names), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def top(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_keeps_to_its_layer(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    package = relative.split("/", 1)[0]
    crossings = []
    for line, module in imports(path):
        if top(module) in BOT_FRAMEWORK and not relative.startswith(BOT_FRAMEWORK_ALLOWED):
            crossings.append(f"{relative}:{line} imports {module} (Bot Framework)")
        if top(module) in FORBIDDEN.get(package, ()):
            crossings.append(f"{relative}:{line} imports {module} ({package}/ may not)")
    assert not crossings, "\n".join(crossings)


def test_the_check_sees_a_crossing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from botbuilder.core import TurnContext\nimport storage.db\n")
    assert [module for _, module in imports(bad)] == ["botbuilder.core", "storage.db"]
