"""The Teams activity handler: routes each turn to the dialogs and saves state once at the end."""

from __future__ import annotations

import re
import weakref
from typing import Any

from botbuilder.core import ComponentRegistration, ConversationState, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import (
    Dialog,
    DialogContext,
    DialogsComponentRegistration,
    DialogSet,
    DialogTurnStatus,
    dialog_context,
)
from botbuilder.dialogs.memory import (
    ComponentMemoryScopesBase,
    ComponentPathResolversBase,
    DialogStateManager,
    DialogStateManagerConfiguration,
)

from bot.actions import INVOKE_NAME, ActionRouter
from bot.channel_commands import ChannelCommands
from dialogs.replies import Replies, lang_of
from storage.bot_state import state_was_reset

PERSONAL = "personal"
# In a channel, Teams puts the bot's @mention into the text: "<at>Wegwijzer I&D</at> menu".
MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


class WegwijzerBot(TeamsActivityHandler):
    def __init__(
        self,
        *,
        conversation_state: ConversationState,
        dialog: Dialog,
        replies: Replies,
        actions: ActionRouter,
        channel_commands: ChannelCommands | None = None,
    ) -> None:
        super().__init__()
        self._channel_commands = channel_commands
        self._conversation_state = conversation_state
        self._dialogs = DialogSet(conversation_state.create_property("DialogState"))
        self._dialogs.add(dialog)
        self._dialog_id = dialog.id
        self._replies = replies
        self._actions = actions
        self._memory_configuration = _memory_configuration()

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        # One write per turn, and only after the turn succeeded: a failed turn keeps the old state.
        await self._conversation_state.save_changes(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        if turn_context.activity.name == INVOKE_NAME:  # Action.Execute: the action router's
            return await self._actions.on_invoke(turn_context)
        return await super().on_invoke_activity(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if self._actions.handles_submit(turn_context.activity):
            await self._actions.on_submit(turn_context)
            return
        _drop_bot_mention(turn_context)
        if self._channel_commands is not None and await self._channel_commands.on_message(
            turn_context
        ):
            return
        if await self._actions.on_command(turn_context, self._replies.command(turn_context)):
            return
        # Every dialog context builds a DialogStateManager, which assembles the memory scopes
        # from the component registry unless the turn already holds them; they keep no state of
        # their own, so one set made at start-up serves every turn.
        turn_context.turn_state.setdefault(
            DialogStateManagerConfiguration.__name__, self._memory_configuration
        )
        dialog_context = await self._dialogs.create_context(turn_context)
        if state_was_reset(turn_context):
            await turn_context.send_activity(
                self._replies.text("state_reset", lang_of(turn_context))
            )
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dialog_context.begin_dialog(self._dialog_id)

    async def on_teams_members_added_dispatch(
        self, members_added: list[Any], team_info: Any, turn_context: TurnContext
    ) -> None:
        # Overridden so Teams is not asked for the new members' profiles: we need no names.
        await self._welcome(turn_context, members_added)

    async def on_members_added_activity(
        self, members_added: list[Any], turn_context: TurnContext
    ) -> None:
        await self._welcome(turn_context, members_added)

    async def _welcome(self, turn_context: TurnContext, members_added: list[Any]) -> None:
        """Greet once when the app is installed in a personal chat (not in team channels)."""
        conversation = turn_context.activity.conversation
        scope = (conversation.conversation_type if conversation else None) or PERSONAL
        if scope != PERSONAL or not members_added:
            return
        if turn_context.activity.channel_id != "msteams":
            # The Emulator announces the bot and the user separately: greet the user only.
            bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
            if all(member.id == bot_id for member in members_added):
                return
        lang = lang_of(turn_context)
        await turn_context.send_activities(
            [self._replies.card("welcome", lang), self._replies.card("menu", lang)]
        )


def _drop_bot_mention(turn_context: TurnContext) -> None:
    """Leave what a channel member typed after @mentioning the bot, so 'menu' works there too.

    Not `TurnContext.remove_recipient_mention`: it HTML-escapes the bot's name before matching,
    so a name with '&' in it is never removed.
    """
    activity = turn_context.activity
    if not activity.entities or not activity.text or "<at>" not in activity.text.lower():
        return
    bot_id = activity.recipient.id if activity.recipient else None
    for mention in TurnContext.get_mentions(activity):
        mentioned = (mention.additional_properties or {}).get("mentioned") or {}
        if mentioned.get("id") == bot_id:
            # Every mention goes: the bot needs no one's name to answer.
            activity.text = MENTION.sub("", activity.text).strip()
            return


def _memory_configuration() -> DialogStateManagerConfiguration:
    """The memory scopes and path resolvers a DialogStateManager would assemble for itself."""
    ComponentRegistration.add(DialogsComponentRegistration())
    configuration = DialogStateManagerConfiguration()
    for component in ComponentRegistration.get_components():
        if isinstance(component, ComponentMemoryScopesBase):
            configuration.memory_scopes.extend(component.get_memory_scopes())
        if isinstance(component, ComponentPathResolversBase):
            configuration.path_resolvers.extend(component.get_path_resolvers())
    return configuration


class AcyclicDialogStateManager(DialogStateManager):  # type: ignore[misc,unused-ignore]
    """A `DialogStateManager` that refers to its dialog context without keeping it alive.

    The stock one refers back to the context whose `state` it is: a reference cycle that held
    the whole turn (turn context, activity, dialog stack) until the garbage collector found it.
    Reached as `dialog_context.state`, as it always is, its context is alive and it works as
    before.
    """

    @property
    def _dialog_context(self) -> DialogContext:
        context: DialogContext | None = self._context_ref()
        if context is None:
            raise RuntimeError("this dialog state manager outlived its dialog context")
        return context

    @_dialog_context.setter
    def _dialog_context(self, context: DialogContext) -> None:
        self._context_ref = weakref.ref(context)


def use_lazy_state_managers() -> None:
    """Dialog contexts made from now on get their state manager when it is first asked for.

    Every `DialogContext` (two or three per turn, counting waterfall steps) made a
    `DialogStateManager` in its constructor, a measurable share of a turn; none of our dialogs reads
    `dialog_context.state`. Asked for, it is an `AcyclicDialogStateManager`.
    """
    dialog_context.DialogStateManager = _no_state_manager_yet
    DialogContext.state = property(_state_manager, _keep_state_manager)


def _no_state_manager_yet(_: DialogContext) -> None:
    return None  # what DialogContext.__init__ assigns to `state`: see _keep_state_manager


# The manager is kept where the stock constructor keeps it, in the instance's own `state`
# (which this property, a data descriptor, shadows), so contexts made before work as they did.
def _state_manager(context: DialogContext) -> DialogStateManager:
    manager: DialogStateManager | None = vars(context).get("state")
    if manager is None:
        manager = vars(context)["state"] = AcyclicDialogStateManager(context)
    return manager


def _keep_state_manager(context: DialogContext, manager: DialogStateManager | None) -> None:
    if manager is not None:  # None comes from the constructor: make one when it is asked for
        vars(context)["state"] = manager
