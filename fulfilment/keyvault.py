"""Card keys at rest: Fernet encryption, a keyed hash for duplicate detection, masking.

The plaintext of a key exists only in memory, on its way in (import) or out (delivery to its
verified owner). Logs, lists and exports use `mask()`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


class KeyVaultError(ValueError):
    """The encryption key is malformed or a stored key cannot be decrypted."""


def normalise(secret: str, *, case_sensitive: bool = False) -> str:
    """The canonical form used for hashing: trimmed, no inner whitespace, and upper case unless
    the product's keys are case-sensitive (whitespace is never part of a key)."""
    joined = "".join(secret.split())
    return joined if case_sensitive else joined.upper()


SHORTEST_SHOWN = 12  # below this, four characters would be too large a share of the key


def mask(secret: str) -> str:
    """`****7F3K`: enough for a person to tell keys apart, useless to redeem (short: `****`)."""
    canonical = normalise(secret)
    return f"****{canonical[-4:]}" if len(canonical) >= SHORTEST_SHOWN else "****"


class KeyVault:
    """Encrypts, decrypts and fingerprints card keys with one secret."""

    def __init__(self, encryption_key: str) -> None:
        try:
            self._fernet = Fernet(encryption_key.encode())
        except (ValueError, TypeError) as exc:
            raise KeyVaultError("KEY_ENCRYPTION_KEY must be a Fernet key") from exc
        raw = base64.urlsafe_b64decode(encryption_key.encode())
        # A separate sub-key for hashing so the hash reveals nothing about the cipher key.
        self._hash_key = hashlib.sha256(b"kamidesk-key-hash" + raw).digest()

    @staticmethod
    def generate_key() -> str:
        """A fresh encryption key (for `make demo` and operators)."""
        return Fernet.generate_key().decode()

    def encrypt(self, secret: str) -> bytes:
        """Ciphertext of the key as given (whitespace trimmed)."""
        return self._fernet.encrypt(secret.strip().encode())

    def decrypt(self, token: bytes) -> str:
        """Plaintext of a stored key."""
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise KeyVaultError(
                "stored key cannot be decrypted with this KEY_ENCRYPTION_KEY"
            ) from exc

    def fingerprint(self, secret: str, *, case_sensitive: bool = False) -> str:
        """Keyed hash of the normalised key: equal keys collide, nothing leaks."""
        canonical = normalise(secret, case_sensitive=case_sensitive)
        return hmac.new(self._hash_key, canonical.encode(), hashlib.sha256).hexdigest()
