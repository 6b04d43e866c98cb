"""The dialog memory scopes built once at start-up are those a DialogStateManager builds itself."""

from __future__ import annotations

from botbuilder.core import ConversationState, MemoryStorage, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogContext, DialogSet, DialogState
from botbuilder.dialogs.memory import DialogStateManager
from botbuilder.schema import Activity

from bot.handler import _memory_configuration


def test_the_shared_configuration_has_the_scopes_and_resolvers_of_a_fresh_one() -> None:
    context = TurnContext(TestAdapter(), Activity(type="message", text="hallo"))
    dialogs = DialogSet(ConversationState(MemoryStorage()).create_property("DialogState"))
    fresh = DialogStateManager(DialogContext(dialogs, context, DialogState())).configuration
    shared = _memory_configuration()

    def scopes(configuration: object) -> list[tuple[str, str]]:
        return [(type(s).__name__, s.name) for s in configuration.memory_scopes]  # type: ignore[attr-defined]

    def resolvers(configuration: object) -> list[str]:
        return [type(r).__name__ for r in configuration.path_resolvers]  # type: ignore[attr-defined]

    assert scopes(shared) == scopes(fresh) and len(scopes(fresh)) >= 5
    assert resolvers(shared) == resolvers(fresh) and resolvers(fresh)
