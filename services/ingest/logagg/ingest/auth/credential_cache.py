"""Recently verified Basic credentials, so a shipper's every request does not pay argon2.

Shippers' Elasticsearch outputs send ``Authorization: Basic`` on every bulk request, and a
password check costs tens of milliseconds by design. A verified credential is remembered
for a short time, keyed by an HMAC of it under a key drawn when the process starts (so
the cache holds nothing a password could be recovered from offline), next to the user's
``generation``: the caller re-reads the user on every request and trusts the entry only
while the generation is unchanged, so a new password or a deleted user ends it at once,
as it ends the user's tokens.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


@dataclasses.dataclass(frozen=True, slots=True)
class CachedCredential:
    """Whom a credential was verified for, the user's generation then, and until when."""

    username: str
    generation: str
    expires_at: float


class CredentialCache:
    """A bounded, expiring, thread-safe map from a credential's HMAC to its user."""

    def __init__(
        self,
        *,
        max_entries: int = 1024,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, CachedCredential] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def digest(self, username: str, password: str) -> bytes:
        """The cache key of a credential (the username's case ignored, as the store does)."""
        raw = f"{username.lower()}\x00{password}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, raw, hashlib.sha256).digest()

    def get(self, digest: bytes) -> CachedCredential | None:
        """The unexpired entry for ``digest``, or None."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry.expires_at <= self._clock():
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry

    def put(self, digest: bytes, username: str, generation: str) -> None:
        """Remember a verified credential; the least recently used entry goes beyond the bound."""
        entry = CachedCredential(username, generation, self._clock() + self._ttl)
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def forget(self, digest: bytes) -> None:
        """Drop ``digest``'s entry (its user changed or is gone)."""
        with self._lock:
            self._entries.pop(digest, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
