"""Where the bot may send its replies: an activity's `serviceUrl`, checked before anything runs.

The bot answers by POSTing to the `serviceUrl` the activity names, with its own bearer token. A
caller who could choose that URL could make the bot send requests, and its token, anywhere. So
only the Bot Connector's hosts are accepted (an allow-list setting; "*.example.com" matches the
subdomains of example.com), over https. Plain http is accepted for a loopback host only: in
development always (the Emulator, the terminal chat and the tests run a connector on loopback),
in production only when the operator lists that host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

# The Bot Connector hosts Teams uses in Microsoft's public cloud (Teams sends
# https://smba.trafficmanager.net/<region>/); other Bot Framework channels use *.botframework.com.
TEAMS_SERVICE_URL_HOSTS = ("smba.trafficmanager.net", "*.botframework.com")
# Verdicts kept per service URL: Teams uses a handful, so nearly every activity finds its URL's
# verdict here. Bounded, because the URL comes from the caller.
CACHED_VERDICTS = 128


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) can only mean this machine."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServiceUrlPolicy:
    """Decides whether the bot may send to a service URL."""

    def __init__(self, allowed_hosts: Iterable[str], *, allow_any_loopback: bool) -> None:
        hosts = [host.strip().lower().rstrip(".") for host in allowed_hosts if host.strip()]
        self._exact = frozenset(host for host in hosts if not host.startswith("*."))
        self._suffixes = tuple(host[1:] for host in hosts if host.startswith("*."))
        self._allow_any_loopback = allow_any_loopback
        self._verdict = lru_cache(maxsize=CACHED_VERDICTS)(self._judge)

    def refusal(self, service_url: object) -> str | None:
        """Why the bot may not send to `service_url`, or None when it may."""
        if not isinstance(service_url, str) or not service_url:
            return "serviceUrl missing"
        return self._verdict(service_url)

    def _judge(self, service_url: str) -> str | None:
        try:
            parts = urlsplit(service_url)
            host = (parts.hostname or "").rstrip(".")
            parts.port  # noqa: B018  # raises ValueError for a port that is not a number
        except ValueError:
            return "serviceUrl unreadable"
        if not host:
            return "serviceUrl has no host"
        if parts.username is not None or parts.password is not None:
            return "serviceUrl carries credentials"
        loopback = is_loopback(host)
        if parts.scheme != "https" and not (loopback and parts.scheme == "http"):
            return "serviceUrl is not https"
        if host in self._exact or host.endswith(self._suffixes):
            return None
        if loopback and self._allow_any_loopback:
            return None
        return "serviceUrl host not allowed"
