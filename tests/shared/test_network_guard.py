"""The harness itself: unit tests cannot reach the network."""

from __future__ import annotations

import socket

import pytest


def test_a_unit_test_cannot_open_a_tcp_connection() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(AssertionError, match="unit test opened a network connection"),
    ):
        sock.connect(("127.0.0.1", 9))


def test_unix_sockets_stay_allowed(tmp_path: object) -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"ok")
        assert right.recv(2) == b"ok"
