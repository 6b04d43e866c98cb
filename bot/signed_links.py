"""Links the bot serves itself, signed so nobody can guess or change one (HMAC-SHA256).

A link carries what it is for and what it points at (a place in a session, a session's list,
how long it is good for) in plain sight, and a signature over all of it with a key only the bot
knows (`LINK_SIGNING_KEY`). Without the key nobody can make a valid link for another place, and
changing one part of a link breaks its signature. Production must set the key; a development
machine gets one generated into `./data/`, which git ignores.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from storage.crypto import development_keys

DEV_KEY_FILE = Path("data") / "link-signing.key"
MIN_KEY_LENGTH = 32
SEPARATOR = "\x1f"  # between the signed parts; no part may contain it
SIGNATURE_PATTERN = r"[A-Za-z0-9_-]{43}"  # 256 bits, base64url without padding


class LinkSigner:
    """Signs and checks the parts of a link, for one purpose at a time."""

    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY_LENGTH:
            raise ValueError(f"a link signing key needs at least {MIN_KEY_LENGTH} characters")
        self._key = key.encode("utf-8")

    def sign(self, purpose: str, *parts: str | int) -> str:
        """The signature of these parts for this purpose (a calendar link is no CSV link)."""
        texts = [purpose, *(str(part) for part in parts)]
        if any(SEPARATOR in text for text in texts):
            raise ValueError("a part of a signed link may not contain the separator")
        message = SEPARATOR.join(texts).encode("utf-8")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def verify(self, signature: str, purpose: str, *parts: str | int) -> bool:
        try:
            expected = self.sign(purpose, *parts)
        except ValueError:
            return False
        return hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii"))


def signer_for(configured: str, *, production: bool, key_file: Path = DEV_KEY_FILE) -> LinkSigner:
    """The signer with the configured key; in development, a generated one when none is set."""
    if configured:
        return LinkSigner(configured)
    if production:
        raise ValueError("production needs LINK_SIGNING_KEY")
    return LinkSigner(development_keys(key_file, what="link-signing key")[0])
