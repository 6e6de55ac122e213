"""A hard time limit for symbolic work: run a function in a forked child that is killed on timeout.

Sympy can run for hours on adversarial input (``simplify`` of a huge power tower, ``solve`` of a
degree-50 system), and a thread cannot be stopped, so each bounded call forks the process: the child
inherits the already-imported libraries (a fork costs milliseconds, not an import), sends back its
pickled result through a pipe and exits; the parent waits at most ``timeout_s`` and then SIGKILLs it.

``os.fork`` is used directly rather than ``multiprocessing``: it also works inside a daemonic process
(the agent runs sync tools in a forked child, and ``multiprocessing`` refuses to start children from
one). Where fork does not exist (Windows) the function runs in-process, with no hard limit.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class SymbolicTimeout(TimeoutError):
    """Symbolic work did not finish within its time limit (the child doing it was killed)."""


class ChildFailed(RuntimeError):
    """The child process died without sending a result (crashed, ran out of memory, was killed)."""


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


def run_limited(fn: Callable[..., T], *args: Any, timeout_s: float = 5.0, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a forked child, killed after ``timeout_s`` seconds.

    Returns the child's return value (it must be picklable). An exception raised in the child is
    raised again here (the same exception when it pickles, else a RuntimeError with its message).
    Raises :class:`SymbolicTimeout` on timeout and :class:`ChildFailed` when the child dies silently.
    """
    if not can_fork():
        return fn(*args, **kwargs)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into the caller's stack
        os.close(read_fd)
        code = 0
        try:
            try:
                payload = pickle.dumps(("ok", fn(*args, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
                try:
                    payload = pickle.dumps(("error", exc))
                except Exception:
                    payload = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:  # EOF: the child wrote everything and closed the pipe
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if timed_out:
            _kill(pid)
        else:
            _reap(pid, deadline)
    if timed_out:
        raise SymbolicTimeout(f"gave up after {timeout_s:g} s (the computation was stopped)")
    if not chunks:
        raise ChildFailed("the symbolic computation crashed without a result (out of memory?)")
    status, value = pickle.loads(b"".join(chunks))
    if status == "error":
        raise value
    return value


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _reap(pid: int, deadline: float) -> None:
    # The child exits right after closing the pipe; wait briefly, then make sure it is gone.
    end = max(deadline, time.monotonic()) + 1.0
    while time.monotonic() < end:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.001)
    _kill(pid)
