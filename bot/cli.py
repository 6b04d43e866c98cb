"""The `wegwijzer` command: serve, db upgrade, chat, content check, outbox, search, sessions,
manifest."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import SettingsError, load_settings


def _configure_logging(level: str, *, json: bool = False) -> None:
    from bot.logs import configure_logging

    configure_logging(level, json=json)


def _serve(_: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.access_log import AccessLogger
    from bot.app import create_app
    from bot.event_loop import loop_name, new_event_loop
    from storage.migrate import behind

    settings = load_settings()
    _configure_logging(settings.LOG_LEVEL, json=settings.json_logs)
    app = create_app(settings)
    # Every turn would fail on a missing table or column, while /readyz said the database answers.
    if (stale := behind(settings.DATABASE_URL)) is not None:
        at = f"it is at {', '.join(stale.current)}" if stale.current else "it was never migrated"
        sys.stderr.write(
            f"wegwijzer: the database is not migrated to this version ({at}, this version "
            f"needs {', '.join(stale.head)}): run 'wegwijzer db upgrade' first\n"
        )
        return 1
    tune_garbage_collector()

    def listening(_: str) -> None:
        """Say where the bot listens, in place of run_app's banner: once the port is bound."""
        logging.getLogger("wegwijzer").info(
            "listening on http://%s:%s/api/messages (%s, on %s)",
            settings.HOST,
            settings.PORT,
            settings.ENVIRONMENT.value,
            loop_name(),
        )

    # On SIGTERM run_app stops listening, then waits up to shutdown_timeout for the requests in
    # flight (turns are never cancelled: handler_cancellation stays off), then cleans up.
    try:
        web.run_app(
            app,
            host=settings.HOST,
            port=settings.PORT,
            print=listening,
            loop=new_event_loop(),
            shutdown_timeout=settings.SHUTDOWN_TIMEOUT_SECONDS,
            handler_cancellation=False,
            access_log_class=AccessLogger,  # signed links stay out of the logs
        )
    except OSError as error:
        if isinstance(error, socket.gaierror):  # HOST is no name or address this machine knows
            reason = str(error.strerror).lower()
        elif error.errno in CANNOT_LISTEN:
            reason = os.strerror(error.errno or 0).lower()
        else:
            raise
        sys.stderr.write(f"wegwijzer: cannot listen on {settings.HOST}:{settings.PORT}: {reason}\n")
        return 1
    return 0


# Why binding HOST:PORT fails: another process has the port, the address is not this machine's,
# or the port needs privileges.
CANNOT_LISTEN = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})


GC_YOUNGEST_THRESHOLD = 10_000  # allocations between the collector's youngest passes


def tune_garbage_collector() -> None:
    """Collect garbage for a long-running server, once what start-up built is in place."""
    import gc

    # What start-up built (modules, content, search index, compiled templates) lives as long as
    # the process: leave it out of the collector's full passes, which otherwise walked all of
    # it and stalled the event loop under load.
    gc.freeze()
    # A finished turn is freed by reference counting (tests/web/test_garbage.py), so what the
    # youngest pass finds alive is the turns still in flight; Python's default of a pass every
    # 700 allocations walked them over and over (docs/performance.md).
    gc.set_threshold(GC_YOUNGEST_THRESHOLD, *gc.get_threshold()[1:])


def _db_upgrade(_: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    settings = load_settings()
    _configure_logging(settings.LOG_LEVEL, json=settings.json_logs)
    upgrade(settings.DATABASE_URL)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from bot.chat import run_chat

    settings = load_settings()
    # Warnings only, to keep the conversation readable, unless LOG_LEVEL is set on purpose.
    explicit = "LOG_LEVEL" in settings.model_fields_set
    _configure_logging(settings.LOG_LEVEL if explicit else "WARNING")
    return run_chat(settings, locale=args.locale, as_bureau=args.as_bureau)


def _content_check(args: argparse.Namespace) -> int:
    from content.check import main

    return main([args.dir] if args.dir else [])


def _outbox(args: argparse.Namespace) -> int:
    from bot.outbox_cli import main

    settings = load_settings()
    _configure_logging("WARNING")
    return main(settings, args.outbox_command, getattr(args, "id", None))


def _search_bench(args: argparse.Namespace) -> int:
    from content.search_bench import run

    return run(args)


def _sessions_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.session_planning import run_import

    settings = load_settings()
    _configure_logging("WARNING")
    return run_import(settings, Path(args.file), dry_run=args.dry_run)


def _manifest_build(args: argparse.Namespace) -> int:
    from content.templates import load_templates
    from manifest.package import ManifestError, build_package

    try:
        package = build_package(load_settings(), load_templates())
    except ManifestError as error:
        sys.stderr.write("wegwijzer: cannot build the app package:\n")
        sys.stderr.writelines(f"  {problem}\n" for problem in error.problems)
        return 2
    try:
        written = package.write(Path(args.out))
    except OSError as error:
        sys.stderr.write(f"wegwijzer: cannot write the package into {args.out}: {error.strerror}\n")
        return 1
    sys.stdout.write(f"{written}\n")
    return 0


def _manifest_check(args: argparse.Namespace) -> int:
    from manifest.check import DEFAULT_SCHEMAS, check_package

    try:
        package = Path(args.zip).read_bytes()
    except OSError as error:
        sys.stderr.write(f"wegwijzer: cannot read {args.zip}: {error.strerror}\n")
        return 1
    problems = check_package(package, Path(args.schemas or DEFAULT_SCHEMAS))
    if problems:
        sys.stderr.writelines(f"{args.zip}: {problem}\n" for problem in problems)
        return 1
    sys.stdout.write(f"{args.zip}: valid\n")
    return 0


def _connect_failure(error: BaseException) -> str:
    """What stopped a connection: the error's class and the system's or server's reason."""
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return f"{type(error).__name__}: {reason or 'no answer'}"


# PostgreSQL's codes for a table or column that does not exist.
UNDEFINED_TABLE_OR_COLUMN = frozenset({"42P01", "42703"})


def _not_migrated(error: BaseException) -> bool:
    """Whether a statement failed on a table or column the database does not have yet."""
    cause = getattr(error, "orig", None)
    if getattr(cause, "sqlstate", None) in UNDEFINED_TABLE_OR_COLUMN:
        return True
    return str(cause).startswith(("no such table", "no such column"))  # SQLite's words


def parser() -> argparse.ArgumentParser:
    from content import search_bench

    root = argparse.ArgumentParser(prog="wegwijzer", description="Wegwijzer I&D, a Teams bot")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="start the bot on HOST:PORT").set_defaults(run=_serve)
    db = commands.add_parser("db", help="database commands").add_subparsers(required=True)
    db.add_parser("upgrade", help="apply the migrations").set_defaults(
        run=_db_upgrade, uses_database=True
    )
    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--locale", default="nl-NL", help="Teams locale of the fake user")
    chat.add_argument(
        "--as-bureau",
        action="store_true",
        help="start as a Bureau member in the Bureau's channel (/wissel switches at any time)",
    )
    chat.set_defaults(run=_chat)
    content = commands.add_parser("content", help="toolkit content").add_subparsers(required=True)
    check = content.add_parser("check", help="validate a toolkit folder")
    check.add_argument("dir", nargs="?", help="the folder (default: the built-in toolkit)")
    check.set_defaults(run=_content_check)
    outbox = commands.add_parser("outbox", help="proactive messages").add_subparsers(
        dest="outbox_command", required=True
    )
    outbox.add_parser(
        "status", help="counts by state, oldest due age, failures by reason"
    ).set_defaults(run=_outbox, uses_database=True)
    run_once = outbox.add_parser("run", help="send what is due now")
    run_once.add_argument("--once", action="store_true", required=True, help="one round, then stop")
    run_once.set_defaults(run=_outbox, uses_database=True)
    retry = outbox.add_parser("retry", help="put a failed message back in the queue")
    retry.add_argument("id", type=int, help="the message's id (from the database)")
    retry.set_defaults(run=_outbox, uses_database=True)
    search = commands.add_parser("search", help="free-question search").add_subparsers(
        required=True
    )
    bench = search.add_parser("bench", help="recall@3 and time per question")
    search_bench.add_arguments(bench)
    bench.set_defaults(run=_search_bench)
    sessions = commands.add_parser("sessions", help="dated sessions").add_subparsers(required=True)
    planning = sessions.add_parser("import", help="plan sessions from a YAML file")
    planning.add_argument("file", help="the planning file (see services/session_import.py)")
    planning.add_argument("--dry-run", action="store_true", help="only check the file")
    planning.set_defaults(run=_sessions_import, uses_database=True)

    manifest = commands.add_parser("manifest", help="the Teams app package").add_subparsers(
        required=True
    )
    build = manifest.add_parser("build", help="write the app package zip")
    build.add_argument("--out", required=True, help="folder to write the zip into")
    build.set_defaults(run=_manifest_build)
    check_zip = manifest.add_parser("check", help="validate an app package zip")
    check_zip.add_argument("zip", help="the package")
    check_zip.add_argument("--schemas", help="folder holding teams/v1.22/*.schema.json")
    check_zip.set_defaults(run=_manifest_check)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    from asyncpg import PostgresError
    from sqlalchemy.exc import DBAPIError

    from content.loader import ContentError
    from content.templates import TemplateError

    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except SettingsError as error:
        reasons = str(error).splitlines()
        if len(reasons) == 1:
            sys.stderr.write(f"wegwijzer: configuration refused: {reasons[0]}\n")
        else:  # one line each, under a heading
            sys.stderr.write("wegwijzer: configuration refused:\n")
            sys.stderr.writelines(f"  {reason}\n" for reason in reasons)
        return 2
    except ContentError as error:
        problems = "\n".join(str(problem) for problem in error.problems)
        sys.stderr.write(
            f"wegwijzer: content refused, run 'wegwijzer content check':\n{problems}\n"
        )
        return 2
    except TemplateError as error:
        sys.stderr.write(f"wegwijzer: templates refused: {error}\n")
        return 2
    except DBAPIError as error:
        if args.run is _db_upgrade or not getattr(args, "uses_database", False):
            raise
        if not _not_migrated(error):
            raise
        sys.stderr.write(
            "wegwijzer: the database is not migrated to this version: "
            "run 'wegwijzer db upgrade' first\n"
        )
        return 1
    # Raised while connecting (asyncpg's own errors escape SQLAlchemy only then): the server is
    # down or unknown, or refuses the user or the database. Their text never holds the password.
    except (OSError, PostgresError) as error:
        if not getattr(args, "uses_database", False):
            raise
        failure = _connect_failure(error)
        sys.stderr.write(f"wegwijzer: cannot connect to the database (DATABASE_URL): {failure}\n")
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
