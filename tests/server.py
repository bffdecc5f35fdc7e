"""A real uvicorn server in a child process, on a free loopback port, for tests that need one."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """A running `uvicorn app.main:app` and how to stop it (politely, or with kill -9)."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.port = port
        self.base = f"http://{HOST}:{port}"
        self.log = open(os.devnull, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                HOST,
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        """Poll until the server answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited during start-up")
            try:
                if httpx.get(f"{self.base}/openapi.json", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill9(self) -> None:
        """Kill the server as a crash would (no clean-up runs)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.log.close()


@contextmanager
def running_server(env: dict[str, str], port: int | None = None) -> Iterator[Server]:
    """Start the app with `env` added to this environment; stopped on exit."""
    server = Server(env, port or free_port())
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
