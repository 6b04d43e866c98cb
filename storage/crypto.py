"""Encryption at rest of free text (help requests, replies, notes) with Fernet keys.

`ENCRYPTION_KEYS` holds one or more Fernet keys, comma-separated: the first encrypts, every one
decrypts (MultiFernet). A key is rotated by putting a new one in front; the old one stays behind
it as long as stored rows were encrypted with it.
Production must set the keys; a development machine gets one generated into `./data/`, which git
ignores. Neither the keys nor the text ever reach a log: errors name no value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)

DEV_KEY_FILE = Path("data") / "encryption.key"


class EncryptionKeyError(ValueError):
    """A missing or malformed key; the message never contains a key."""


class TextCipher:
    """Encrypts text for storage and decrypts it with any of the configured keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise EncryptionKeyError("no encryption key configured (ENCRYPTION_KEYS)")
        fernets = []
        for position, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # Say which one, never what it is.
                raise EncryptionKeyError(
                    f"encryption key {position} of {len(keys)} is not a valid Fernet key"
                ) from None
        self._fernet = MultiFernet(fernets)

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise EncryptionKeyError(
                "stored text cannot be decrypted with any configured key"
            ) from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def development_keys(key_file: Path = DEV_KEY_FILE, *, what: str = "encryption key") -> list[str]:
    """The development key from key_file, generated (readable by the owner only) if missing.

    `what` names the key in the warning that it was generated.
    """
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(generate_key() + "\n")
        log.warning("generated a development %s in %s (never use it in production)", what, key_file)
    return [line.strip() for line in key_file.read_text("ascii").splitlines() if line.strip()]


def cipher_for(
    configured: Sequence[str], *, production: bool, key_file: Path = DEV_KEY_FILE
) -> TextCipher:
    """The cipher for the configured keys; in development, the generated key when none is set."""
    if configured:
        return TextCipher(configured)
    if production:
        raise EncryptionKeyError("production needs ENCRYPTION_KEYS (Fernet keys, comma-separated)")
    return TextCipher(development_keys(key_file))
