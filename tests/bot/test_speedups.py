"""The changes to Bot Framework internals: checked at start-up, and switched off by one setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from botbuilder.core import ConversationState
from botbuilder.schema import Activity
from botframework.connector.auth import jwt_token_extractor

from bot import speedups
from bot.adapter import AcyclicTurnContext
from bot.app import build
from bot.settings import Settings
from storage.bot_state import FastConversationState, StockConversationState


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/bot.db",
        **values,  # type: ignore[arg-type]
    )


def test_start_up_refuses_when_a_private_name_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(jwt_token_extractor, "_OpenIdMetadata")
    with pytest.raises(speedups.SpeedupError) as refused:
        speedups.apply(speedups=False)  # a fix: checked even with the speed-ups off
    message = str(refused.value)
    assert "signing keys off the event loop" in message
    assert "_OpenIdMetadata" in message
    assert "pyproject.toml" in message


def test_every_private_name_is_there_in_the_pinned_botbuilder() -> None:
    for change in speedups.FIXES + speedups.SPEEDUPS:
        assert change.requires() == [], change.name


async def test_with_the_speed_ups_off_the_stock_state_and_turn_context_are_used(
    tmp_path: Path,
) -> None:
    wegwijzer = build(settings(tmp_path, SPEEDUPS=False))
    try:
        state = wegwijzer.bot._conversation_state
        # Botbuilder's own state; its one addition marks a turn whose stored state was unreadable.
        assert type(state) is StockConversationState
        assert StockConversationState.__mro__[1] is ConversationState
        assert {name for name in vars(StockConversationState) if not name.startswith("__")} == {
            "load"
        }
        context = wegwijzer.adapter._create_turn_context(
            Activity(type="message"), None, None, None, None, None, None
        )
        assert not isinstance(context, AcyclicTurnContext)
    finally:
        await wegwijzer.engine.dispose()


async def test_with_the_speed_ups_on_the_quick_state_and_turn_context_are_used(
    tmp_path: Path,
) -> None:
    wegwijzer = build(settings(tmp_path))
    try:
        assert isinstance(wegwijzer.bot._conversation_state, FastConversationState)
        context = wegwijzer.adapter._create_turn_context(
            Activity(type="message"), None, None, None, None, None, None
        )
        assert isinstance(context, AcyclicTurnContext)
    finally:
        await wegwijzer.engine.dispose()
