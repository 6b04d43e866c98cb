"""The personal chat's own buttons: the menu, help, more about an item, and what comes later."""

from __future__ import annotations

from bot.actions import ActionRouter, Handler, Press, Reply, Who
from content.render import Message, Renderer
from content.verbs import Verb
from dialogs.answers import Answers
from dialogs.contact import BureauContact
from dialogs.replies import PERSONAL, conversation_scope

# The pilot's menu button shows the pilot's own page: what it is, for whom and how to join.
PILOT = "coaching-pilot"
# Typed commands (content/commands.yaml) that press a menu button, in any flow.
TYPED = {"about": Verb.HELP, "my_data": Verb.MY_DATA, "coaching": Verb.COACHING}
# Buttons whose flows come in later issues: the bot says so honestly, and how to reach the
# Bureau instead (its contact card, from the settings).
NOT_YET = {
    Verb.APPLY: "not_yet_apply",
    Verb.LINK_MISSING: "link_missing",
    Verb.CONTACT: None,
}


def register_menu_actions(
    router: ActionRouter, renderer: Renderer, answers: Answers, contact: BureauContact
) -> None:
    """Register the personal chat's menu buttons; a later flow takes over its verb from here."""

    def menu_card(press: Press) -> Message:
        # In a group chat or channel only the finder works; the menu says where the rest is.
        scope = conversation_scope(press.turn_context)
        shared = {} if scope == PERSONAL else {"shared": scope}  # personal: the cached menu
        return renderer.card("menu", press.lang, **shared)

    async def menu(press: Press) -> Reply:
        return Reply(menu_card(press))

    async def help_(press: Press) -> Reply:
        return Reply(renderer.text("help_text", press.lang), menu_card(press))

    async def my_data(press: Press) -> Reply:
        # What is stored, and the Bureau's contact for seeing or deleting the rest.
        return Reply(contact.card(renderer, press.lang, "my_data_text"))

    async def item(press: Press) -> Reply:
        return Reply(*answers.item_messages(press.lang, press.data.get("id", "")))

    async def pilot(press: Press) -> Reply:
        return Reply(*answers.item_messages(press.lang, PILOT))

    def not_yet(key: str | None) -> Handler:
        async def say_not_yet(press: Press) -> Reply:
            return Reply(contact.card(renderer, press.lang, key))

        return say_not_yet

    # The finder and free questions work in a group chat or channel too: so do the pages they
    # point at and the Bureau's contact, which hold nothing of anyone. One's data stays personal.
    router.register(Verb.MENU, menu, who=Who.ANYWHERE)
    router.register(Verb.HELP, help_, who=Who.ANYWHERE)
    router.register(Verb.ITEM, item, who=Who.ANYWHERE)
    router.register(Verb.MY_DATA, my_data, who=Who.PERSONAL)
    router.register(Verb.COACHING, pilot, who=Who.ANYWHERE)
    for verb, key in NOT_YET.items():
        router.register(verb, not_yet(key), who=Who.ANYWHERE)
    for command, verb in TYPED.items():
        router.register_command(command, verb)
