"""A server child process with a readiness check, a log file and a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from logagg.errors import LogaggError


class ServerStartError(LogaggError):
    """A local server did not become ready; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """One server process. Subclasses give the command and the readiness check."""

    name = "server"
    start_timeout = 60.0

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    # -- what subclasses provide -------------------------------------------------------
    def command(self) -> Sequence[str]:
        raise NotImplementedError

    def environment(self) -> Mapping[str, str] | None:
        return None

    def is_ready(self) -> bool:
        raise NotImplementedError

    def run_as(self) -> str | None:
        """The user to run as, or ``None`` for the current one."""
        return None

    # -- life cycle --------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the process and return once :meth:`is_ready` holds."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                list(self.command()),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment(),
                user=self.run_as(),
                start_new_session=True,  # Ctrl-C in a terminal reaches us, not the server
            )
        self.wait_ready(self.start_timeout)

    def wait_ready(self, timeout: float) -> None:
        """Poll :meth:`is_ready` until it holds, the process dies, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {self._process.returncode}:\n{self.log_tail()}"
                )
            if self.is_ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash or a lost node would end it (for fault tests)."""
        process = self._process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def poll_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for ``check()`` to hold; raise ``TimeoutError`` naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
