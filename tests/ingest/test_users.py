"""The user store and the first-admin bootstrap."""

from __future__ import annotations

import threading

import fakeredis
import pytest
import redis as redis_lib

from logagg.ingest.auth.passwords import PasswordHashing
from logagg.ingest.auth.users import (
    InvalidCredentials,
    LastAdmin,
    Role,
    UserExists,
    UserNotFound,
    UserStore,
    check_password,
    check_username,
)
from logagg.ingest.bootstrap import ensure_admin

from .conftest import make_settings

HASHING = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)


def test_password_hashes_are_salted_and_verify() -> None:
    first, second = HASHING.hash("same-password"), HASHING.hash("same-password")
    assert first != second
    assert first.startswith("$argon2id$")
    assert HASHING.verify(first, "same-password")
    assert not HASHING.verify(first, "other-password")
    assert not HASHING.verify(None, "same-password")
    assert not HASHING.verify("not a hash", "same-password")


def test_store_create_get_case_insensitive(redis: fakeredis.FakeRedis) -> None:
    users = UserStore(redis)
    users.create("Alice", "h", Role.WRITER)
    user = users.get("ALICE")
    assert user is not None
    assert (user.username, user.role) == ("Alice", Role.WRITER)
    with pytest.raises(UserExists):
        users.create("alice", "h", Role.ADMIN)


def test_set_password_draws_a_new_generation(redis: fakeredis.FakeRedis) -> None:
    users = UserStore(redis)
    before = users.create("bob", "h1", Role.WRITER)
    users.set_password("BOB", "h2")
    after = users.get("bob")
    assert after is not None
    assert after.password_hash == "h2"
    assert after.generation != before.generation
    with pytest.raises(UserNotFound):
        users.set_password("nobody", "h")


def test_last_admin_cannot_be_deleted(redis: fakeredis.FakeRedis) -> None:
    users = UserStore(redis)
    users.create("root", "h", Role.ADMIN)
    users.create("writer", "h", Role.WRITER)
    with pytest.raises(LastAdmin):
        users.delete("root")
    users.create("root2", "h", Role.ADMIN)
    users.delete("ROOT")
    users.delete("writer")
    assert users.list() == [("root2", Role.ADMIN)]
    with pytest.raises(UserNotFound):
        users.delete("writer")


@pytest.mark.parametrize("name", ["", " x", "a b", "a:b", "x" * 65, "-start", "ünï"])
def test_username_rules(name: str) -> None:
    with pytest.raises(InvalidCredentials):
        check_username(name)


def test_password_rules() -> None:
    assert check_password("x" * 12, 12) == "x" * 12
    for bad in ("x" * 11, "x" * 1025, None, 123):
        with pytest.raises(InvalidCredentials):
            check_password(bad, 12)


def test_bootstrap_with_given_password_creates_once(redis: fakeredis.FakeRedis) -> None:
    settings = make_settings(LOGAGG_ADMIN_PASSWORD="bootstrap-password")
    users = UserStore(redis)
    said: list[str] = []
    assert ensure_admin(settings, users, HASHING, said.append) is True
    assert ensure_admin(settings, users, HASHING, said.append) is False
    admin = users.get("admin")
    assert admin is not None
    assert admin.role is Role.ADMIN
    assert HASHING.verify(admin.password_hash, "bootstrap-password")
    assert len(said) == 1
    assert "bootstrap-password" not in said[0]


def test_bootstrap_random_password_is_announced_once_and_works(
    redis: fakeredis.FakeRedis,
) -> None:
    settings = make_settings()
    users = UserStore(redis)
    said: list[str] = []
    ensure_admin(settings, users, HASHING, said.append)
    ensure_admin(settings, users, HASHING, said.append)
    assert len(said) == 1
    password = next(
        line.split(":", 1)[1].strip() for line in said[0].splitlines() if "password:" in line
    )
    admin = users.get("admin")
    assert admin is not None
    assert HASHING.verify(admin.password_hash, password)


@pytest.mark.integration
def test_bootstrap_races_create_exactly_one_admin(redis_url: str) -> None:
    settings = make_settings()
    said: list[str] = []
    barrier = threading.Barrier(16)

    errors: list[BaseException] = []

    def replica() -> None:
        client = redis_lib.Redis.from_url(redis_url)
        barrier.wait()
        try:
            ensure_admin(settings, UserStore(client), HASHING, said.append)
        except Exception as error:  # collected: a thread's exception would go unseen
            errors.append(error)

    threads = [threading.Thread(target=replica) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(said) == 1
    client = redis_lib.Redis.from_url(redis_url)
    assert UserStore(client).list() == [("admin", Role.ADMIN)]
