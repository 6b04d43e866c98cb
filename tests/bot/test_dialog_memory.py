"""The dialog memory scopes built once at start-up are those a DialogStateManager builds itself."""

from __future__ import annotations

import gc
import weakref

import pytest
from botbuilder.core import ConversationState, MemoryStorage, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogContext, DialogSet, DialogState
from botbuilder.dialogs import dialog_context as dialog_context_module
from botbuilder.dialogs.memory import DialogStateManager
from botbuilder.schema import Activity

from bot.handler import (
    AcyclicDialogStateManager,
    _memory_configuration,
    use_lazy_state_managers,
)


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


@pytest.fixture(autouse=True)
def stock_state_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from Bot Framework's own state manager and leaves things as they were."""
    monkeypatch.setattr(dialog_context_module, "DialogStateManager", DialogStateManager)
    monkeypatch.delattr(DialogContext, "state", raising=False)


def _dialog_context() -> DialogContext:
    context = TurnContext(TestAdapter(), Activity(type="message", text="hallo"))
    dialogs = DialogSet(ConversationState(MemoryStorage()).create_property("DialogState"))
    return DialogContext(dialogs, context, DialogState())


def test_the_state_manager_is_made_when_first_asked_for_and_kept() -> None:
    use_lazy_state_managers()
    dialog_context = _dialog_context()
    assert not any(isinstance(value, DialogStateManager) for value in vars(dialog_context).values())
    manager = dialog_context.state
    assert isinstance(manager, AcyclicDialogStateManager)
    assert dialog_context.state is manager
    replacement = DialogStateManager(dialog_context)
    dialog_context.state = replacement  # set by hand, it is what is read back
    assert dialog_context.state is replacement


def test_the_acyclic_state_manager_reads_memory_as_the_stock_one() -> None:
    stock = _dialog_context()
    use_lazy_state_managers()
    lazy = _dialog_context()
    assert not isinstance(stock.state, AcyclicDialogStateManager)
    # The snapshot asks every memory scope for its memory in the state manager's dialog context.
    assert lazy.state.get_memory_snapshot() == stock.state.get_memory_snapshot()
    assert len(lazy.state) == len(stock.state) >= 5


def test_a_dialog_context_is_freed_without_the_garbage_collector() -> None:
    use_lazy_state_managers()
    gc.disable()  # only reference counting may free it
    try:
        dialog_context = _dialog_context()
        state, gone = dialog_context.state, weakref.ref(dialog_context)
        del dialog_context
        assert gone() is None
    finally:
        gc.enable()
    with pytest.raises(RuntimeError, match="outlived"):
        state.get_memory_snapshot()
