"""A person turns reminders off or on: a button (verb) or the typed words in commands.yaml."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from bot.actions import ActionRouter, Handler, Press, Reply, Who
from content.render import Renderer
from content.verbs import Verb
from services.outbox import PreferencesUnitOfWork, set_reminders

# The typed commands (content/commands.yaml) that press these verbs.
TYPED = {"reminders_off": Verb.REMINDERS_OFF, "reminders_on": Verb.REMINDERS_ON}


def register_preference_actions(
    router: ActionRouter,
    renderer: Renderer,
    uow_factory: Callable[[], AbstractAsyncContextManager[PreferencesUnitOfWork]],
) -> None:
    """Register turning reminders off and on, for anyone in their own personal chat."""

    def reminders(on: bool) -> Handler:
        async def turn(press: Press) -> Reply:
            async with uow_factory() as uow:
                await set_reminders(uow=uow, aad_object_id=press.actor, on=on)
            return Reply(
                renderer.text("reminders_on_done" if on else "reminders_off_done", press.lang)
            )

        return turn

    router.register(Verb.REMINDERS_OFF, reminders(False), who=Who.PERSONAL)
    router.register(Verb.REMINDERS_ON, reminders(True), who=Who.PERSONAL)
    for command, verb in TYPED.items():
        router.register_command(command, verb)
