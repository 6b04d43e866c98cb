"""Every change to Bot Framework internals, in one place, applied explicitly at start-up.

botbuilder 4.17 is archived and pinned (pyproject.toml); what we change of it relies on private
names. `apply(speedups=...)` first checks that every private name each change relies on still
exists, and refuses to start with one message naming what is missing; then it applies them.

Two kinds:

- Fixes, always applied: they correct real defects rather than save time.
  * signing keys: the library fetches the OpenID signing keys with blocking `requests` calls on
    the event loop, without a timeout; `bot.auth.AsyncOpenIdMetadata` fetches them in a worker
    thread (`jwt_token_extractor._OpenIdMetadata`).
  * connector clients: `bot.connector` keeps one client per service URL (the stock adapter
    built one per turn) and sends over one pooled aiohttp session; `PooledConversations` is
    built from a `ConnectorClient`'s private `_client`, `_serialize` and `_deserialize`.
- Speed-ups, applied unless the setting `SPEEDUPS=false`. With them off the bot runs the stock
  code paths; CI runs the HTTP-level tests both ways. Measurements: docs/performance.md.
  * lazy dialog state managers: a `DialogContext` makes its `DialogStateManager` when asked for
    it, not in its constructor (`dialog_context.DialogStateManager`), and that manager keeps no
    reference cycle with its context (`DialogStateManager._dialog_context`).
  * acyclic turn context: the adapter's turn contexts call their send handlers without leaving
    a reference cycle (`CloudAdapterBase._create_turn_context`, `TurnContext._emit`).
  * replies copied directly: `TurnContext.send_activities` deep-copies every activity it sends;
    the acyclic turn context hands it activities whose deep copy is made field by field
    (`bot.adapter._FieldCopied`), the same copy without `copy.deepcopy`'s generic walk. Relies
    on no private name: if the library stopped copying, nothing would change.
  * activity JSON: `bot.wire` reads and writes activities by the models' `_attribute_map`
    instead of msrest's generic walk.
  * conversation state: `storage.bot_state.FastConversationState` flattens the state once per
    turn instead of four times (`BotState._context_service_key`, `CachedBotState`).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import BotState, TurnContext
from botbuilder.core.bot_state import CachedBotState
from botbuilder.dialogs import DialogContext, dialog_context
from botbuilder.dialogs.memory import DialogStateManager
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.aio.operations_async import ConversationsOperations
from botframework.connector.auth import jwt_token_extractor

log = logging.getLogger(__name__)


class SpeedupError(RuntimeError):
    """A private name a change relies on is gone: the installed botbuilder is not the tested one."""


@dataclass(frozen=True)
class Change:
    name: str
    requires: Callable[
        [], list[str]
    ]  # the private names that are missing; empty when all are there
    apply: Callable[[], None]


def _missing_attributes(owner: object, *names: str) -> list[str]:
    label = getattr(owner, "__qualname__", None) or getattr(owner, "__name__", repr(owner))
    return [f"{label}.{name}" for name in names if not hasattr(owner, name)]


def _assigned_in_init(cls: type, *names: str) -> list[str]:
    """The names `cls.__init__` no longer assigns to `self`."""
    try:
        source = inspect.getsource(vars(cls)["__init__"])
    except (KeyError, OSError, TypeError):
        return [f"{cls.__qualname__}.__init__ (source not found)"]
    return [f"{cls.__qualname__}.{name}" for name in names if f"self.{name} =" not in source]


def _parameters(function: Callable[..., Any], *names: str) -> list[str]:
    present = list(inspect.signature(function).parameters)
    return [] if present == list(names) else [f"{function.__qualname__}{tuple(names)}"]


def _signing_keys_requires() -> list[str]:
    return _missing_attributes(
        jwt_token_extractor, "_OpenIdMetadata", "_OpenIdConfig"
    ) + _missing_attributes(jwt_token_extractor.JwtTokenExtractor, "metadataCache")


def _connector_requires() -> list[str]:
    return _parameters(
        ConversationsOperations.__init__, "self", "client", "config", "serializer", "deserializer"
    ) + _missing_attributes(CloudAdapter, "_create_turn_context")


def _apply_signing_keys() -> None:
    from bot.auth import use_async_signing_keys

    use_async_signing_keys()


def _state_managers_requires() -> list[str]:
    return (
        _missing_attributes(dialog_context, "DialogStateManager")
        + _assigned_in_init(DialogContext, "state")
        + _assigned_in_init(DialogStateManager, "_dialog_context")
    )


def _apply_state_managers() -> None:
    from bot.handler import use_lazy_state_managers

    use_lazy_state_managers()


def _turn_context_requires() -> list[str]:
    return _missing_attributes(CloudAdapter, "_create_turn_context") + _missing_attributes(
        TurnContext, "_emit"
    )


def _copy_requires() -> list[str]:
    return _missing_attributes(TurnContext, "send_activities")


def _wire_requires() -> list[str]:
    return _missing_attributes(Activity, "_attribute_map")


def _state_requires() -> list[str]:
    return _missing_attributes(BotState, "get_cached_state", "get_storage_key") + (
        _assigned_in_init(BotState, "_context_service_key", "_storage")
        + _missing_attributes(CachedBotState, "compute_hash")
    )


def _nothing() -> None:
    """Used where the composition root applies the change (see `Speedups`)."""


FIXES = (
    Change("signing keys off the event loop", _signing_keys_requires, _apply_signing_keys),
    Change("connector clients built once", _connector_requires, _nothing),
)
SPEEDUPS = (
    Change("lazy dialog state managers", _state_managers_requires, _apply_state_managers),
    Change("acyclic turn context", _turn_context_requires, _nothing),
    Change("replies copied directly", _copy_requires, _nothing),
    Change("activity JSON by attribute map", _wire_requires, _nothing),
    Change("conversation state flattened once", _state_requires, _nothing),
)


@dataclass(frozen=True)
class Speedups:
    """Which speed-ups are on; the composition root builds the adapter and state from it."""

    enabled: bool


def apply(*, speedups: bool) -> Speedups:
    """Check every change's private names, then apply the fixes and, if asked, the speed-ups."""
    changes = FIXES + (SPEEDUPS if speedups else ())
    missing = [f"{change.name}: {name}" for change in changes for name in change.requires()]
    if missing:
        raise SpeedupError(
            "the installed botbuilder is not the version these changes were made for "
            "(see pyproject.toml); missing: " + "; ".join(missing)
        )
    for change in changes:
        change.apply()
    return Speedups(enabled=speedups)
