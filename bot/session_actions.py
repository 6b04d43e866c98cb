"""The sessions' buttons in a manager's personal chat: see them, sign up, and one's own sign-ups.

Every button goes through the action router (anyone, in their own personal chat); who pressed
is the activity's aadObjectId, the session is whatever number the card carries, checked against
what is stored. The rules are in `services.sessions`; these handlers read the card's inputs,
call a service, and render the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.actions import ActionRouter, Press, Reply, StaleCard, Who, row_id_of
from bot.session_files import CalendarLinks
from content.render import Message, Renderer
from content.verbs import Verb
from dialogs.contact import BureauContact
from services.input_text import one_line
from services.outbox import PreferencesUnitOfWork, reminders_on
from services.session_messages import SessionRules, answer_evaluation
from services.session_types import (
    Applicant,
    RegistrationInfo,
    RegistrationStatus,
    SessionInfo,
    SessionStatus,
    SessionsUnitOfWork,
    local_when,
)
from services.sessions import (
    SignUpOutcome,
    SignUpResult,
    accepts_signups,
    cancel_registration,
    confirm_offer,
    my_registrations,
    sign_up,
)

MAX_FIELD = 100  # function and directorate, as the card's inputs allow
MAX_REMARK = 1000
YES, NO = "yes", "no"
# The typed commands (content/commands.yaml) that press these verbs, in any flow.
TYPED = {"wethouder": Verb.WETHOUDER, "my_sessions": Verb.MY_SESSIONS}

UowFactory = Callable[[], AbstractAsyncContextManager[SessionsUnitOfWork]]
PreferencesFactory = Callable[[], AbstractAsyncContextManager[PreferencesUnitOfWork]]


@dataclass
class SessionActions:
    """The handlers of the session verbs; `register` adds them to the router."""

    renderer: Renderer
    uow_factory: UowFactory
    rules: SessionRules
    offers_with_sessions: tuple[str, ...]
    calendar: CalendarLinks
    contact: BureauContact = field(default_factory=BureauContact)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Whether a person gets reminders (they can turn them off): a new place says so.
    preferences: PreferencesFactory | None = None

    def register(self, router: ActionRouter) -> None:
        router.register(Verb.WETHOUDER, self.sessions, who=Who.PERSONAL)
        router.register(Verb.SIGNUP, self.signup_for_offer, who=Who.PERSONAL)
        router.register(Verb.SESSION_FORM, self.form, who=Who.PERSONAL)
        router.register(Verb.SESSION_SIGNUP, self.signup, who=Who.PERSONAL)
        router.register(Verb.MY_SESSIONS, self.mine, who=Who.PERSONAL)
        router.register(Verb.SESSION_CANCEL, self.cancel, who=Who.PERSONAL)
        router.register(Verb.SESSION_ACCEPT, self.accept, who=Who.PERSONAL)
        router.register(Verb.SESSION_EVALUATE, self.evaluate, who=Who.PERSONAL)
        for command, verb in TYPED.items():
            router.register_command(command, verb)

    async def sessions(self, press: Press) -> Reply:
        """The upcoming sessions that take sign-ups, each with its details and button."""
        now = self.clock()
        async with self.uow_factory() as uow:
            upcoming = await uow.sessions.upcoming(now=now)
        shown = [
            s.details()
            for s in upcoming
            if s.offer in self.offers_with_sessions and accepts_signups(s, now)
        ]
        return Reply(self.renderer.card("sessions", press.lang, sessions=shown))

    async def signup_for_offer(self, press: Press) -> Reply:
        """An offer's sign-up button: its sessions, when the Bureau plans dates for it."""
        if press.data.get("offer") in self.offers_with_sessions:
            return await self.sessions(press)
        return Reply(self.contact.card(self.renderer, press.lang, "not_yet_signup"))

    async def form(self, press: Press) -> Reply:
        session = await self._open_session(press)
        if session is None:
            return Reply(self.renderer.text("session_closed", press.lang))
        return Reply(self._form(press, session, values={}, problem=None))

    async def signup(self, press: Press) -> Reply:
        values = {
            "function": _text(press.data.get("function")),
            "directorate": _text(press.data.get("directorate")),
            "manager": _text(press.data.get("manager")),
            "consent": "true" if _text(press.data.get("consent")) == "true" else "false",
        }
        session = await self._open_session(press)
        if session is None:
            return Reply(self.renderer.text("session_closed", press.lang))
        problem = _form_problem(values)
        if problem:
            return Reply(self._form(press, session, values=values, problem=problem))
        sender = press.turn_context.activity.from_property
        applicant = Applicant(
            person=press.actor,
            name=_text(getattr(sender, "name", None))[:200],
            function=values["function"],
            directorate=values["directorate"],
            is_manager=values["manager"] == YES,
            consent=True,
        )
        async with self.uow_factory() as uow:
            result = await sign_up(
                uow=uow,
                session_id=session.id,
                applicant=applicant,
                now=self.clock(),
                rules=self.rules,
            )
        return Reply(await self._signed_up(press, result))

    async def mine(
        self, press: Press, notice: str | None = None, removed_calendar_url: str | None = None
    ) -> Reply:
        async with self.uow_factory() as uow:
            mine = await my_registrations(uow=uow, person=press.actor, now=self.clock())
        registrations = [
            {**_registration_view(s, r, p), "calendar_url": self._calendar_url(press, r)}
            for s, r, p in mine
        ]
        return Reply(
            self.renderer.card(
                "my_sessions",
                press.lang,
                registrations=registrations,
                notice=notice,
                removed_calendar_url=removed_calendar_url,
            )
        )

    async def cancel(self, press: Press) -> Reply:
        session_id = session_id_of(press.data)
        now = self.clock()
        async with self.uow_factory() as uow:
            session = await uow.sessions.get(session_id)
            before = await uow.sessions.registration(session_id=session_id, person=press.actor)
            cancelled = await cancel_registration(
                uow=uow,
                session_id=session_id,
                person=press.actor,
                now=now,
                rules=self.rules,
            )
        if cancelled is None:
            begun = session is not None and now >= session.starts_at and before is not None
            notice = "session_cancel_begun" if begun else "session_cancel_nothing"
            if not begun and session is not None and session.status is SessionStatus.CANCELLED:
                notice = "session_cancel_called_off"
            return await self.mine(press, notice)
        # A place they had is in their calendar: its link now serves the cancellation.
        return await self.mine(press, "session_cancelled_by_you", self._calendar_url(press, before))

    async def accept(self, press: Press) -> Reply:
        session_id = session_id_of(press.data)
        async with self.uow_factory() as uow:
            confirmed = await confirm_offer(
                uow=uow,
                session_id=session_id,
                person=press.actor,
                now=self.clock(),
                rules=self.rules,
            )
            session = await uow.sessions.get(session_id)
            held = await uow.sessions.registration(session_id=session_id, person=press.actor)
        if (
            confirmed is None
            and held is not None
            and held.status is RegistrationStatus.CONFIRMED
            and session is not None
            and session.status is not SessionStatus.CANCELLED
        ):
            # Pressed again (a double click, the notice's button after taking it): it is theirs.
            return await self.mine(press, "session_accept_already")
        if confirmed is None or session is None:
            return await self.mine(press, "session_accept_too_late")
        return Reply(
            self._result_card(
                press,
                "session_confirmed_title",
                await self._confirmed_text(press),
                session,
                calendar_url=self._calendar_url(press, confirmed),
            )
        )

    async def evaluate(self, press: Press) -> Reply:
        session_id = session_id_of(press.data)
        rating = _rating(press.data.get("rating"))
        async with self.uow_factory() as uow:
            session = await uow.sessions.get(session_id)
            registration = await uow.sessions.registration(
                session_id=session_id, person=press.actor
            )
        if (
            session is None
            or registration is None
            or registration.status is not RegistrationStatus.CONFIRMED
            or session.status is SessionStatus.CANCELLED
            or self.clock() < session.ends_at
        ):
            raise StaleCard  # only those who had a place are asked, once it is over
        if rating is None:
            card = self.renderer.card(
                "session_evaluation",
                press.lang,
                s=session.details(),
                problem="session_evaluation_missing",
            )
            return Reply(card)
        remark = _text(press.data.get("remark"))[:MAX_REMARK]
        async with self.uow_factory() as uow:
            stored = await answer_evaluation(
                uow=uow,
                session_id=session_id,
                person=press.actor,
                rating=rating,
                remark=remark,
                now=self.clock(),
            )
        key = "session_evaluation_thanks" if stored else "session_evaluation_done"
        return Reply(self.renderer.text(key, press.lang))

    async def _open_session(self, press: Press) -> SessionInfo | None:
        session_id = session_id_of(press.data)
        async with self.uow_factory() as uow:
            session = await uow.sessions.get(session_id)
        if session is None or session.offer not in self.offers_with_sessions:
            raise StaleCard
        return session if accepts_signups(session, self.clock()) else None

    def _form(
        self,
        press: Press,
        session: SessionInfo,
        *,
        values: Mapping[str, str],
        problem: str | None,
    ) -> Message:
        return self.renderer.card(
            "session_form", press.lang, s=session.details(), values=dict(values), problem=problem
        )

    async def _confirmed_text(self, press: Press) -> str:
        """A new place: a reminder comes beforehand, unless they turned reminders off."""
        if self.preferences is None:
            return "session_confirmed_text"
        async with self.preferences() as uow:
            on = await reminders_on(uow=uow, aad_object_id=press.actor)
        return "session_confirmed_text" if on else "session_confirmed_text_no_reminders"

    async def _signed_up(self, press: Press, result: SignUpResult) -> Message:
        session = result.session
        if result.outcome is SignUpOutcome.NOT_FOR_ROLE:
            others = [s.details() for s in result.open_to_you]
            return self.renderer.card("session_not_for_role", press.lang, sessions=others)
        if session is None or result.outcome in (SignUpOutcome.CLOSED, SignUpOutcome.NO_CONSENT):
            return self.renderer.text("session_closed", press.lang)
        if result.outcome is SignUpOutcome.CONFIRMED:
            title, text = "session_confirmed_title", await self._confirmed_text(press)
        elif result.outcome is SignUpOutcome.WAITING:
            title, text = "session_waiting_title", "session_waiting_text"
        else:
            title, text = "session_already_title", _already(result.registration)
        return self._result_card(
            press,
            title,
            text,
            session,
            position=result.position,
            calendar_url=self._calendar_url(press, result.registration),
        )

    def _result_card(
        self,
        press: Press,
        title: str,
        text: str,
        session: SessionInfo,
        position: int | None = None,
        calendar_url: str | None = None,
    ) -> Message:
        return self.renderer.card(
            "session_signed_up",
            press.lang,
            title=title,
            text=text,
            s=session.details(),
            position=position,
            calendar_url=calendar_url,
        )

    def _calendar_url(self, press: Press, registration: RegistrationInfo | None) -> str | None:
        """The signed calendar link of a confirmed place; none for the waiting list."""
        if registration is None or registration.status is not RegistrationStatus.CONFIRMED:
            return None
        return self.calendar.url(
            registration_id=registration.id, ticket=registration.ticket, lang=press.lang
        )


def _already(registration: RegistrationInfo | None) -> str:
    if registration is not None and registration.status is RegistrationStatus.WAITING:
        return "session_already_waiting"
    if registration is not None and registration.status is RegistrationStatus.OFFERED:
        return "session_already_offered"
    return "session_already_confirmed"


def _registration_view(
    session: SessionInfo, registration: RegistrationInfo, position: int | None
) -> dict[str, Any]:
    expires = registration.offer_expires_at
    return {
        "session": session.details(),
        "status": registration.status.value,
        "position": position,
        "until": local_when(expires, expires) if expires else None,
    }


def _form_problem(values: Mapping[str, str]) -> str | None:
    if not values["function"] or not values["directorate"] or values["manager"] not in (YES, NO):
        return "session_form_missing"
    if len(values["function"]) > MAX_FIELD or len(values["directorate"]) > MAX_FIELD:
        return "session_form_too_long"
    if values["consent"] != "true":
        return "session_form_no_consent"
    return None


def session_id_of(data: Mapping[str, Any]) -> int:
    """The session a card is about; a card without a sensible one is stale (or forged)."""
    return row_id_of(data, "session")


def _rating(value: object) -> int | None:
    text = _text(value)
    return int(text) if text in ("1", "2", "3", "4", "5") else None


def _text(value: object) -> str:
    # Inputs arrive as strings; anything else (a forged card) counts as empty.
    return one_line(value) if isinstance(value, str) else ""
