"""The cache of verified Basic credentials: keyed by an HMAC, bounded, expiring."""

from __future__ import annotations

import threading

from logagg.ingest.auth.credential_cache import CredentialCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_and_are_keyed_by_the_whole_credential() -> None:
    clock = Clock()
    cache = CredentialCache(ttl_seconds=60, clock=clock)
    digest = cache.digest("Web", "password-1")
    assert digest == cache.digest("web", "password-1")
    assert digest != cache.digest("web", "password-2")
    assert b"password-1" not in digest
    cache.put(digest, "web", "gen-1")
    entry = cache.get(digest)
    assert entry is not None
    assert (entry.username, entry.generation) == ("web", "gen-1")
    clock.now += 59
    assert cache.get(digest) is not None
    clock.now += 1
    assert cache.get(digest) is None
    assert len(cache) == 0


def test_the_least_recently_used_entry_goes_beyond_the_bound() -> None:
    cache = CredentialCache(max_entries=2)
    first, second, third = (cache.digest(f"user{n}", "pw") for n in range(3))
    cache.put(first, "user0", "g")
    cache.put(second, "user1", "g")
    assert cache.get(first) is not None  # first is now the most recently used
    cache.put(third, "user2", "g")
    assert len(cache) == 2
    assert cache.get(second) is None
    assert cache.get(first) is not None
    cache.forget(first)
    assert cache.get(first) is None


def test_two_processes_never_share_keys() -> None:
    assert CredentialCache().digest("web", "pw") != CredentialCache().digest("web", "pw")


def test_threads_share_one_cache_safely() -> None:
    cache = CredentialCache(max_entries=50)

    def work(n: int) -> None:
        for i in range(500):
            digest = cache.digest(f"u{n}-{i}", "pw")
            cache.put(digest, f"u{n}", "g")
            cache.get(digest)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 50
