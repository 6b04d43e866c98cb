"""Every periodic job of the bot, registered in one place (the runner is bot/periodic.py).

To add one: write the work as a service function that takes a unit of work and `now`, guarded
by the database (conditional updates, unique keys, outbox keys), and add a line below, e.g.

    jobs.add("offer-expiry", every=60, run=partial(in_unit_of_work, uow_factory, expire))

A job's name is short and fixed (it labels `/metrics`); `every` is in seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial

from bot.outbox_metrics import FIGURES_EVERY, refresh_outbox_figures
from bot.periodic import PeriodicJobs
from bot.settings import Settings
from services.session_schedule import close_signups, mark_held
from services.sessions import expire_offers
from services.sla import SlaSettings, remind_in_channel
from storage.types import utcnow
from storage.uow import UnitOfWork

UnitOfWorkFactory = Callable[[], UnitOfWork]
Work = Callable[[UnitOfWork, datetime], Awaitable[object]]


async def in_unit_of_work(uow_factory: UnitOfWorkFactory, work: Work) -> None:
    """Run `work(uow, now)` in a unit of work of its own and commit it (rolled back if it
    raises)."""
    async with uow_factory() as uow:
        await work(uow, utcnow())
        await uow.commit()


def register_jobs(
    jobs: PeriodicJobs, *, settings: Settings, uow_factory: UnitOfWorkFactory
) -> None:
    """Add every periodic job of the bot to `jobs` (called once, when the app is built)."""
    # Each job's owner adds one line here (see the module's docstring).
    # The outbox's state for /metrics (bot/outbox_metrics.py): a read, from the start.
    jobs.add(
        "outbox-figures",
        every=FIGURES_EVERY,
        run=partial(in_unit_of_work, uow_factory, refresh_outbox_figures),
        first_after=0,
    )
    rules = settings.session_rules()

    async def pass_on_expired_offers(uow: UnitOfWork, now: datetime) -> None:
        await expire_offers(uow=uow, now=now, rules=rules)

    async def session_status(uow: UnitOfWork, now: datetime) -> None:
        await close_signups(uow=uow, now=now)
        await mark_held(uow=uow, now=now)

    # Sessions (h20): a freed place whose offer ran out goes to the next on the waiting list;
    # sign-ups close at the deadline, and a session that ended is held.
    jobs.add(
        "session-offers",
        every=60,
        run=partial(in_unit_of_work, uow_factory, pass_on_expired_offers),
    )
    jobs.add("session-status", every=60, run=partial(in_unit_of_work, uow_factory, session_status))

    sla = SlaSettings(
        claim_working_days=settings.HELP_CLAIM_WORKING_DAYS,
        close_working_days=settings.HELP_CLOSE_WORKING_DAYS,
    )

    async def help_request_reminders(uow: UnitOfWork, now: datetime) -> None:
        await remind_in_channel(uow=uow, sla=sla, now=now)

    # Help requests (h19b): one not claimed, or not closed, in time is raised again in the thread
    # of its card, once per period (the request's row notes it, with a conditional update).
    jobs.add(
        "help-request-sla",
        every=600,
        run=partial(in_unit_of_work, uow_factory, help_request_reminders),
    )
