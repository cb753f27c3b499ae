"""The offsets file: per destination and file identity, atomic, one user at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from logagg.client.files import FileIdentity
from logagg.client.state import OffsetStore, StateError, new_entry

FILE = FileIdentity(64769, 1234)


def test_offsets_survive_a_new_store_and_stay_per_destination(tmp_path: Path) -> None:
    path = tmp_path / "state" / "offsets.json"
    with OffsetStore(path, "svc@http://a:1") as store:
        store.save(new_entry("/var/log/app.log", FILE, 4096, "ab" * 32, 1024))

    with OffsetStore(path, "svc@http://a:1") as again:
        entry = again.get("/var/log/app.log", FILE)
        assert entry is not None
        assert (entry.offset, entry.fingerprint_length) == (4096, 1024)
        assert again.get("/var/log/app.log", FileIdentity(64769, 999)) is None
        assert [e.identity for e in again.entries_for("/var/log/app.log")] == [FILE]
    with OffsetStore(path, "other@http://b:1") as elsewhere:
        assert elsewhere.get("/var/log/app.log", FILE) is None


def test_a_second_user_of_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "offsets.json"
    with OffsetStore(path, "d"), pytest.raises(StateError, match="in use by another"):
        OffsetStore(path, "d").open()
    with OffsetStore(path, "d") as store:  # free again
        store.save(new_entry("/x", FILE, 1, "", 0))


def test_an_unreadable_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "offsets.json"
    path.write_text('{"something": "else"}')
    with pytest.raises(StateError, match="not a logagg state file"):
        OffsetStore(path, "d").open()


def test_forget(tmp_path: Path) -> None:
    with OffsetStore(tmp_path / "offsets.json", "d") as store:
        store.save(new_entry("/x", FILE, 1, "", 0))
        store.forget("/x", FILE)
        assert store.entries_for("/x") == []
