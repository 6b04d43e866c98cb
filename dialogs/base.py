"""The base every flow builds on: 'menu', 'help', 'hulp' and 'stop' work at any step."""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, DialogContext, DialogTurnResult, DialogTurnStatus
from botbuilder.schema import ActivityTypes

from dialogs.replies import Replies, lang_of


class InterruptibleDialog(ComponentDialog):
    """A ComponentDialog that lets the user leave it with a typed command, as in core-bot."""

    def __init__(self, dialog_id: str, replies: Replies) -> None:
        super().__init__(dialog_id)
        self.replies = replies

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        result = await self.interrupt(inner_dc)
        if result is not None:
            return result
        return await super().on_continue_dialog(inner_dc)

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        """End every dialog on 'menu' or 'stop' and answer; None when the turn is no command."""
        turn_context = inner_dc.context
        if turn_context.activity.type != ActivityTypes.message:
            return None
        command = self.replies.command(turn_context)
        if command is None:
            return None
        return await self.leave(inner_dc, stop=command == "stop")

    async def leave(self, inner_dc: DialogContext, *, stop: bool) -> DialogTurnResult:
        """End every dialog; after 'stop' say so. Either way the menu is the next step."""
        turn_context = inner_dc.context
        # A flow may say in its own words what stopping it means (`stop_message`, a message key).
        active = inner_dc.active_dialog
        flow = await self.find_dialog(active.id) if active is not None else None
        said = getattr(flow, "stop_message", None) or "stopped"
        await inner_dc.cancel_all_dialogs()
        if stop:
            await turn_context.send_activity(self.replies.text(said, lang_of(turn_context)))
        await self.replies.send_menu(turn_context)
        return DialogTurnResult(DialogTurnStatus.Complete)
