"""`wegwijzer sessions import FILE`: plan sessions from the Bureau's YAML file, all or nothing."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.settings import Settings
from content.loader import load_catalog
from services.session_admin import import_sessions
from services.session_import import PlanningFileError, parse_sessions
from services.session_types import AMSTERDAM, SessionDetails
from storage.db import create_engine, create_session_factory
from storage.types import utcnow
from storage.uow import UnitOfWork


def run_import(settings: Settings, path: Path, *, dry_run: bool = False) -> int:
    """Check the file and plan its sessions; print what happened. 0 planned, 1 refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        sys.stderr.write(f"{path}: cannot read the file ({type(error).__name__})\n")
        return 1
    catalog = load_catalog(Path(settings.TOOLKIT_DIR)) if settings.TOOLKIT_DIR else load_catalog()
    try:
        sessions = parse_sessions(
            text, offers_with_dates=catalog.offers_with_sessions(), now=utcnow()
        )
    except PlanningFileError as error:
        for problem in error.problems:
            sys.stderr.write(f"{path}:{problem.line}: {problem.message}\n")
        sys.stderr.write(f"{path}: nothing was planned; fix the lines above and try again\n")
        return 1
    if dry_run:
        _print(f"{path}: {len(sessions)} session(s) valid; nothing planned (--dry-run)")
        return 0
    added, skipped = asyncio.run(
        _plan(settings.DATABASE_URL, sessions, catalog.offers_with_sessions())
    )
    for details in skipped:
        _print(f"already planned, skipped: {details.offer} {_local(details)}")
    _print(f"{path}: {len(added)} session(s) planned, {len(skipped)} skipped")
    return 0


async def _plan(
    url: str, sessions: list[SessionDetails], offers: list[str]
) -> tuple[list[object], list[SessionDetails]]:
    engine = create_engine(url)
    try:
        async with UnitOfWork(create_session_factory(engine)) as uow:
            added, skipped = await import_sessions(
                uow=uow, sessions=sessions, offers_with_dates=offers
            )
    finally:
        await engine.dispose()
    return list(added), skipped


def _local(details: SessionDetails) -> str:
    return f"{details.starts_at.astimezone(AMSTERDAM):%Y-%m-%d %H:%M}"


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
