"""Apply the Alembic migrations that ship inside this package; no alembic.ini needed.

`wegwijzer db upgrade` calls `upgrade`. It blocks: from async code use
`await asyncio.to_thread(upgrade, url)`.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Alembic keeps the running migration context in module globals: one upgrade per process at a
# time. Instances (processes) are kept apart by a database lock in env.py.
_ONE_AT_A_TIME = threading.Lock()


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at `url`, built in code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Not a main option: those go through configparser, which reads "%" in a password as syntax.
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`; does nothing when it is already there."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        with _ONE_AT_A_TIME:
            command.upgrade(alembic_config(url), revision)
        return
    raise RuntimeError("upgrade() blocks; from async code use asyncio.to_thread(upgrade, url)")
