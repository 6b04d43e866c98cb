"""In production, accept only tokens the Bot Framework issued for a channel's activity.

The library also accepts the Emulator's tokens (issued by Azure AD for the bot's app id) and,
for those, skips the check that the token's `serviceurl` claim names the activity's serviceUrl:
such a token could send the bot's replies, and its bearer token, to a URL of the caller's choice.
Teams' traffic always carries the Bot Framework's own issuer, so production accepts only that.
"""

from __future__ import annotations

from collections.abc import Mapping

from botframework.connector.auth import AuthenticationConfiguration, AuthenticationConstants

CHANNEL_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER


async def accept_channel_tokens_only(claims: object) -> None:
    """Raise PermissionError unless the token's issuer is the Bot Framework's channel issuer."""
    # One code path of the library passes the claims as a dict, another as a one-item list.
    if isinstance(claims, list) and len(claims) == 1:
        claims = claims[0]
    if not isinstance(claims, Mapping) or claims.get("iss") != CHANNEL_ISSUER:
        raise PermissionError("only the Bot Framework's channel tokens are accepted")


def production_auth_configuration() -> AuthenticationConfiguration:
    """The library's defaults, plus `accept_channel_tokens_only`."""
    return AuthenticationConfiguration(claims_validator=accept_channel_tokens_only)
