"""The Bureau's sessions in its channel: plan, change and cancel them, and their lists.

Typed commands (bot/channel_commands.py) show the planned sessions ("gesprekken") and open the
form to plan one ("nieuw gesprek"). Every button is a Universal Action for Bureau members only
(`Who.BUREAU`), so a session's card changes in place for everyone in the channel. The rules are
in `services.session_admin` and `services.sessions`: a change reaches everyone signed up, a
cancellation tells them and clears their reminders, a removed participant's place goes to the
waiting list. Names and what people typed are never logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.actions import ActionRouter, Press, Replace, Reply, Show, StaleCard, Who
from bot.channel_commands import ChannelCommand, ChannelCommands
from bot.session_actions import session_id_of
from bot.session_bureau_form import form_values, read_form
from bot.session_files import ParticipantLinks
from content.render import Message, Renderer
from content.schema import Lang
from content.verbs import Verb
from services.session_admin import (
    ChangeOutcome,
    SessionLists,
    cancel_session,
    change_session,
    create_session,
    session_lists,
)
from services.session_messages import SessionRules
from services.session_types import (
    RegistrationInfo,
    SessionInfo,
    SessionStatus,
    SessionsUnitOfWork,
    local_when,
)
from services.sessions import cancel_registration

LIST_COMMAND, NEW_COMMAND = "bureau_sessions", "bureau_new_session"  # content/commands.yaml
MAX_LISTED = 10  # session cards one command posts
MAX_REFRESH_USERS = 60  # Teams refreshes a card by itself for at most this many named people


def _nobody() -> Sequence[str]:
    return ()


UowFactory = Callable[[], AbstractAsyncContextManager[SessionsUnitOfWork]]


@dataclass
class SessionBureauActions:
    """The handlers of the Bureau's session verbs and commands; `register` adds them."""

    renderer: Renderer
    uow_factory: UowFactory
    rules: SessionRules
    offers: Mapping[str, Mapping[Lang, str]]  # the offers with dates and their titles
    participant_links: ParticipantLinks
    # The Bureau's Teams user ids as the roster last read them: Teams refreshes the session
    # cards by itself for them (others refresh from the card's menu).
    viewers: Callable[[], Sequence[str]] = _nobody
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def register(self, router: ActionRouter, commands: ChannelCommands) -> None:
        for verb, handler in (
            (Verb.SESSION_NEW, self.new),
            (Verb.SESSION_SHOW, self.show),
            (Verb.SESSION_CREATE, self.create),
            (Verb.SESSION_EDIT, self.edit),
            (Verb.SESSION_CHANGE, self.change),
            (Verb.SESSION_CALL_OFF, self.call_off),
            (Verb.SESSION_PARTICIPANTS, self.participants),
            (Verb.SESSION_REMOVE, self.remove),
        ):
            router.register(verb, handler, who=Who.BUREAU)
        commands.register(LIST_COMMAND, self.list_command)
        commands.register(NEW_COMMAND, self.new_command)

    async def list_command(self, command: ChannelCommand) -> list[Message]:
        """The planned sessions that have not started, each as a card to manage it."""
        async with self.uow_factory() as uow:
            upcoming = [
                s for s in await uow.sessions.upcoming(now=self.clock()) if s.offer in self.offers
            ]
            shown = [await session_lists(uow=uow, session_id=s.id) for s in upcoming[:MAX_LISTED]]
        header = self.renderer.card(
            "bureau_sessions",
            command.lang,
            count=len(shown),
            more=len(upcoming) > MAX_LISTED,
        )
        return [header, *(self._card(lists, command.lang) for lists in shown if lists)]

    async def new_command(self, command: ChannelCommand) -> list[Message]:
        return [self._form(command.lang)]

    async def new(self, press: Press) -> Reply:
        return Reply(self._form(press.lang))

    async def show(self, press: Press) -> Show:
        """The card as it is now, for the one who looks (its refresh): nothing is edited."""
        session = await self._session(press)
        return Show(await self._session_card(session.id, press.lang, None))

    async def create(self, press: Press) -> Replace | Show:
        reading = read_form(press.data, offers=list(self.offers), now=self.clock())
        if reading.details is None:
            return Show(self._form(press.lang, values=reading.values, problem=reading.problem))
        async with self.uow_factory() as uow:
            session = await create_session(
                uow=uow, details=reading.details, offers_with_dates=self.offers
            )
        return Replace(await self._session_card(session.id, press.lang, "bureau_session_created"))

    async def edit(self, press: Press) -> Replace | Show:
        """The form, filled in, for the one who pressed; the others keep seeing the card."""
        session = await self._session(press)
        if session.status in (SessionStatus.CANCELLED, SessionStatus.HELD):
            return Replace(await self._session_card(session.id, press.lang, "bureau_session_ended"))
        return Show(self._form(press.lang, values=form_values(session), session_id=session.id))

    async def change(self, press: Press) -> Replace | Show:
        session = await self._session(press)
        reading = read_form(
            {**press.data, "offer": session.offer},
            offers=[session.offer],
            now=self.clock(),
            kept_deadline=session.signup_deadline,
        )
        if reading.details is None:
            return Show(
                self._form(
                    press.lang,
                    values=reading.values,
                    problem=reading.problem,
                    session_id=session.id,
                )
            )
        async with self.uow_factory() as uow:
            outcome, _ = await change_session(
                uow=uow,
                session_id=session.id,
                details=reading.details,
                now=self.clock(),
                rules=self.rules,
            )
        if outcome is ChangeOutcome.CAPACITY_TOO_LOW:
            return Show(
                self._form(
                    press.lang,
                    values=reading.values,
                    problem="bureau_session_capacity_too_low",
                    session_id=session.id,
                )
            )
        notice = "bureau_session_changed" if outcome is ChangeOutcome.CHANGED else None
        return Replace(
            await self._session_card(session.id, press.lang, notice or "bureau_session_ended")
        )

    async def call_off(self, press: Press) -> Replace:
        session = await self._session(press)
        async with self.uow_factory() as uow:
            await cancel_session(uow=uow, session_id=session.id, now=self.clock())
        return Replace(await self._session_card(session.id, press.lang, "bureau_session_cancelled"))

    async def participants(self, press: Press) -> Reply:
        session = await self._session(press)
        return Reply(await self._lists_card(session.id, press.lang))

    async def remove(self, press: Press) -> Replace:
        session = await self._session(press)
        if self.clock() >= session.starts_at:
            # Once it has begun, the list is what happened: nobody is taken off it.
            return Replace(
                await self._lists_card(session.id, press.lang, "bureau_lists_remove_begun")
            )
        if session.status is SessionStatus.CANCELLED:
            # Everyone on it heard it was called off; a removal notice would only confuse.
            return Replace(
                await self._lists_card(session.id, press.lang, "bureau_lists_remove_called_off")
            )
        chosen = press.data.get("registration")
        async with self.uow_factory() as uow:
            lists = await session_lists(uow=uow, session_id=session.id)
        if lists is None:
            raise StaleCard
        registration = next((r for r in _holding_or_waiting(lists) if str(r.id) == chosen), None)
        if registration is None:
            return Replace(
                await self._lists_card(session.id, press.lang, "bureau_lists_remove_nothing")
            )
        async with self.uow_factory() as uow:
            removed = await cancel_registration(
                uow=uow,
                session_id=session.id,
                person=registration.person,
                now=self.clock(),
                rules=self.rules,
                by_bureau=True,
            )
        notice = "bureau_lists_removed" if removed else "bureau_lists_remove_nothing"
        return Replace(await self._lists_card(session.id, press.lang, notice))

    async def _session(self, press: Press) -> SessionInfo:
        async with self.uow_factory() as uow:
            session = await uow.sessions.get(session_id_of(press.data))
        if session is None or session.offer not in self.offers:
            raise StaleCard
        return session

    async def _session_card(self, session_id: int, lang: Lang, notice: str | None) -> Message:
        async with self.uow_factory() as uow:
            lists = await session_lists(uow=uow, session_id=session_id)
        if lists is None:
            raise StaleCard
        return self._card(lists, lang, notice)

    def _card(self, lists: SessionLists, lang: Lang, notice: str | None = None) -> Message:
        session = lists.session
        return self.renderer.card(
            "session_bureau",
            lang,
            s=session.details(),
            offer_title=self.offers[session.offer][lang],
            waiting=len(lists.waiting),
            notice=notice,
            rated=lists.figures.count,
            average=lists.figures.average,
            viewers=list(self.viewers())[:MAX_REFRESH_USERS],
        )

    async def _lists_card(self, session_id: int, lang: Lang, notice: str | None = None) -> Message:
        async with self.uow_factory() as uow:
            lists = await session_lists(uow=uow, session_id=session_id)
        if lists is None:
            raise StaleCard
        text = self.renderer.templates.text
        offered = [
            {
                "line": text(
                    "bureau_lists_offered_until", lang, name=r.name, until=_until(r, text, lang)
                )
            }
            for r in lists.offered
        ]
        waiting = [
            {
                "line": text(
                    "bureau_lists_waiting_line",
                    lang,
                    n=n,
                    name=r.name,
                    function=r.function,
                    directorate=r.directorate,
                )
            }
            for n, r in enumerate(lists.waiting, start=1)
        ]
        return self.renderer.card(
            "session_bureau_lists",
            lang,
            s=lists.session.details(),
            notice=notice,
            participants=[_person(r) for r in lists.participants],
            offered=offered,
            waiting=waiting,
            removable=[_person(r) for r in _holding_or_waiting(lists)],
            remarks=list(lists.figures.remarks),
            csv_url=self.participant_links.url(session_id=session_id, now=self.clock(), lang=lang),
            csv_minutes=self.participant_links.minutes,
        )

    def _form(
        self,
        lang: Lang,
        *,
        values: Mapping[str, str] | None = None,
        problem: str | None = None,
        session_id: int | None = None,
    ) -> Message:
        offers = [{"id": offer, "title": titles[lang]} for offer, titles in self.offers.items()]
        return self.renderer.card(
            "session_bureau_form",
            lang,
            offers=offers,
            values=dict(values or {}),
            problem=problem,
            session_id=session_id,
        )


def _holding_or_waiting(lists: SessionLists) -> Sequence[RegistrationInfo]:
    return [*lists.participants, *lists.offered, *lists.waiting]


def _person(registration: RegistrationInfo) -> dict[str, Any]:
    return {
        "id": registration.id,
        "name": registration.name,
        "function": registration.function,
        "directorate": registration.directorate,
    }


def _until(registration: RegistrationInfo, text: Callable[..., str], lang: Lang) -> str:
    expires = registration.offer_expires_at
    return text("session_moment", lang, **local_when(expires, expires)) if expires else ""
