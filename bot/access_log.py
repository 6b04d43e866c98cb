"""The access log of `wegwijzer serve`: one line per request, without what a path or query holds.

aiohttp's own access log writes the whole request line. The links the bot serves itself carry
a signature that opens a file (a place's calendar invitation, a participant list), so whoever
reads the logs could open them: here a path under /sessions/ is logged without its last part,
and no query string is ever logged.
"""

from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

SIGNED_PREFIXES = ("/sessions/",)


class AccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.3fs", request.method, loggable_path(request.path), response.status, time
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def loggable_path(path: str) -> str:
    """The path as it may be logged: a signed link's path without its signed part."""
    if path.startswith(SIGNED_PREFIXES):
        return path.rsplit("/", 1)[0] + "/..."
    return path
