"""Real peer servers for tests: start one in a subprocess on 127.0.0.1, wait until it answers, stop it."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(
    command: Sequence[str], *, ready_url: str, log: Path, env: dict[str, str], start_timeout_s: float,
    give_up: Callable[[str], None],
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command``, wait until ``ready_url`` answers 200, and stop it afterwards.

    ``give_up(message)`` is called (and must raise: ``pytest.fail`` or ``pytest.skip``) when the server
    exits or does not answer within ``start_timeout_s``; the message ends with its log's last lines.
    """
    with log.open("wb") as sink:
        proc = subprocess.Popen(list(command), stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            if proc.poll() is not None:
                give_up(f"{command[0]} exited ({proc.returncode}): {log.read_text()[-800:]}")
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                give_up(f"{command[0]} did not start in {start_timeout_s:g} s: {log.read_text()[-800:]}")
            time.sleep(0.5)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
