"""Escape battery: each attempt must stay inside the sandbox, and the caller must keep running.

These run at the ``full`` level (bubblewrap; CI installs it with .ci/install-sandbox.sh). Each test
asserts on the *host* side (a file not created, a secret not printed, a listener never reached, no
process left behind), not only on what the sandboxed code says about itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from agentcore_sandbox import run_python

REPO = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox isolates on Linux only"),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed (run .ci/install-sandbox.sh)"),
]


def run(code: str, **kw):
    kw.setdefault("timeout_s", 5)
    result = run_python(code, **kw)
    assert result.isolation == "full"
    return result


@pytest.fixture
def host_dir():
    """A host directory anyone may read and write, so only the sandbox (not permissions) can stop access."""
    path = Path(f"/tmp/agentcore-sandbox-test-{uuid.uuid4().hex}")
    path.mkdir()
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _host_processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry.name))
    return found


# --- the file system --------------------------------------------------------------------------------


def test_cannot_read_a_host_file(host_dir: Path):
    secret = host_dir / "secret.txt"
    secret.write_text("HOST-SECRET-1234")
    secret.chmod(0o644)  # readable by everyone on the host: only the mount namespace can hide it
    code = f"""
for path in [{str(secret)!r}, {str(REPO / 'pyproject.toml')!r}, "/root/.bashrc", "/etc/hostname", "/proc/1/root/etc/hostname"]:
    try:
        print("LEAK", path, open(path).read()[:200])
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
"""
    result = run(code)
    assert result.exit_code == 0, result.stderr
    assert "LEAK" not in result.stdout
    assert "HOST-SECRET-1234" not in result.stdout
    assert result.stdout.count("blocked") == 5


def test_only_the_runtime_is_visible():
    result = run("import os; print(sorted(os.listdir('/'))); print(sorted(os.listdir('/usr')))")
    top, usr = result.stdout.splitlines()
    assert set(eval(top)) <= {"bin", "dev", "lib", "lib32", "lib64", "libx32", "proc", "sandbox", "sbin", "tmp", "usr"}
    assert "etc" not in eval(top) and "root" not in eval(top) and "work" not in eval(top) and "home" not in eval(top)
    assert "local" not in eval(usr) and "share" not in eval(usr)


def test_cannot_read_etc_shadow():
    result = run("print(open('/etc/shadow').read())")
    assert result.exit_code == 1
    assert "FileNotFoundError" in result.stderr
    assert "root:" not in result.stdout


def test_cannot_write_outside_the_working_directory(host_dir: Path):
    target = host_dir / "pwned.txt"
    code = f"""
import os
for path in [{str(target)!r}, "/usr/pwned.txt", "/usr/lib/python3.11/os.py", "/pwned.txt"]:
    try:
        with open(path, "a") as f:
            f.write("pwned")
        print("WROTE", path)
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
open("/tmp/scratch.txt", "w").write("inside tmp is fine")
open("inside.txt", "w").write("inside the working directory is fine")
print(open("/tmp/scratch.txt").read(), open("inside.txt").read())
"""
    result = run(code)
    assert result.exit_code == 0, result.stderr
    assert "WROTE" not in result.stdout
    assert not target.exists()
    assert not Path("/pwned.txt").exists() and not Path("/usr/pwned.txt").exists()
    assert "inside tmp is fine inside the working directory is fine" in result.stdout


# --- secrets and the network ----------------------------------------------------------------------------


def test_environment_secrets_do_not_leak(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AGENTCORE_FAKE_API_KEY", "sk-fake-secret-0000")
    code = """
import os
print(dict(os.environ))
for pid in ("1", "2", str(os.getppid())):
    try:
        print(open(f"/proc/{pid}/environ", "rb").read())
    except OSError as exc:
        print("blocked", type(exc).__name__)
"""
    result = run(code)
    assert "sk-fake-secret-0000" not in result.stdout + result.stderr
    assert "AGENTCORE_FAKE_API_KEY" not in result.stdout


def test_cannot_connect_to_a_host_loopback_listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.1)
    port = server.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                pass

    waiter = threading.Thread(target=accept)
    waiter.start()
    code = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=1)
    print("CONNECTED")
except OSError as exc:
    print("blocked", type(exc).__name__)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=1)
    print("INTERNET")
except OSError as exc:
    print("blocked", type(exc).__name__)
"""
    result = run(code)
    stop.set()
    waiter.join()
    server.close()
    assert "CONNECTED" not in result.stdout and "INTERNET" not in result.stdout
    assert result.stdout.count("blocked") == 2
    assert accepted == []


# --- resources ------------------------------------------------------------------------------------------


def test_cpu_loop_is_killed_at_the_timeout():
    started = time.monotonic()
    result = run("print('looping', flush=True)\nwhile True:\n    pass", timeout_s=2)
    assert result.timed_out
    assert result.killed_reason == "timeout"
    assert result.stdout == "looping\n"  # output before the kill is kept
    assert time.monotonic() - started < 10


def test_sleeping_program_is_killed_at_the_timeout():
    result = run("import time; time.sleep(60)", timeout_s=1)
    assert result.timed_out and result.killed_reason == "timeout"
    assert result.exit_code < 0 and result.signal == "SIGKILL"


@pytest.mark.parametrize(
    "code",
    [
        "x = bytearray(8 * 1024 ** 3)",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))",
    ],
    ids=["one-huge", "gradual"],
)
def test_memory_bomb_is_contained(code: str):
    result = run(code, memory_mb=256)
    assert result.exit_code != 0
    assert result.killed_reason == "memory"
    assert not result.timed_out


def test_fork_bomb_is_contained():
    marker = f"forkbomb-{uuid.uuid4().hex}"
    code = f"""
import os, sys
# {marker}
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
    result = run(code, timeout_s=2, max_processes=32)
    assert result.killed_reason in ("timeout", "cpu_time")
    assert _host_processes_with(marker) == []
    assert subprocess.run(["true"]).returncode == 0  # the caller can still start processes


def test_thread_bomb_is_contained():
    code = """
import threading, time
n = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
        n += 1
except (RuntimeError, MemoryError) as exc:
    print("stopped after", n, type(exc).__name__)
"""
    result = run(code, max_processes=32)
    assert result.exit_code == 0, result.stderr
    assert "stopped after" in result.stdout


@pytest.mark.parametrize("how", ["double-fork", "setsid", "nohup"])
def test_detached_children_do_not_outlive_the_run(how: str, host_dir: Path):
    marker = f"detached-{uuid.uuid4().hex}"
    survivor = f"import time; time.sleep(30)  # {marker}"
    spawn = {
        "double-fork": f"""
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", {survivor!r}])
    os._exit(0)
""",
        "setsid": f"""
import subprocess, sys
subprocess.Popen([sys.executable, "-c", {survivor!r}], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
""",
        "nohup": f"""
import signal, subprocess, sys
subprocess.Popen([sys.executable, "-c", "import signal; signal.signal(signal.SIGHUP, signal.SIG_IGN); " + {survivor!r}],
                 preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
""",
    }[how]
    result = run(spawn + "\nimport time; time.sleep(0.3); print('parent done')")
    assert result.exit_code == 0, result.stderr
    assert "parent done" in result.stdout
    time.sleep(0.2)
    assert _host_processes_with(marker) == []


def test_detached_child_cannot_act_after_the_run(host_dir: Path):
    late = host_dir / "late.txt"
    code = f"""
import os, time
if os.fork() == 0:
    os.setsid()
    time.sleep(1)
    for path in ("late.txt", {str(late)!r}):
        try:
            open(path, "w").write("still alive")
        except OSError:
            pass
    os._exit(0)
print("returning")
"""
    result = run(code)
    assert result.stdout == "returning\n"
    time.sleep(1.5)
    assert not late.exists()


def test_ctypes_system_cannot_reach_the_host(host_dir: Path):
    target = host_dir / "from-system.txt"
    code = f"""
import ctypes
libc = ctypes.CDLL("libc.so.6")
status = libc.system(b"touch {target} ; id > /sandbox/id.txt")
print("status", status)
"""
    result = run(code)
    assert result.exit_code == 0, result.stderr
    assert "status 0" not in result.stdout  # no shell in the sandbox: system() fails
    assert not target.exists()


def test_ctypes_raw_syscalls_stay_unprivileged():
    # setuid(0) and mount through libc directly: no capabilities inside, so both fail.
    code = """
import ctypes, os
libc = ctypes.CDLL("libc.so.6", use_errno=True)
print("setuid", libc.setuid(0), os.getuid())
print("mount", libc.mount(b"none", b"/sandbox", b"tmpfs", 0, None))
print("unshare", libc.unshare(0x10000000))  # CLONE_NEWUSER: disabled inside the sandbox
"""
    result = run(code)
    assert result.exit_code == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["setuid"] == f"-1 {os.getuid() if os.getuid() != 0 else 65534}"
    assert lines["mount"] == "-1"
    assert lines["unshare"] == "-1"


def test_output_flood_is_capped_and_killed():
    started = time.monotonic()
    result = run("import sys\nwhile True:\n    sys.stdout.write('x' * 10000)", max_output_bytes=100_000)
    assert result.killed_reason == "output_limit"
    assert result.stdout_truncated
    assert len(result.stdout) <= 100_000
    assert time.monotonic() - started < 5


def test_stderr_flood_is_capped():
    result = run("import sys\nwhile True:\n    sys.stderr.write('e' * 10000)", max_output_bytes=50_000)
    assert result.killed_reason == "output_limit"
    assert len(result.stderr) <= 50_000 and result.stderr_truncated


@pytest.mark.parametrize(
    "code",
    [
        "import os, signal; os.kill(os.getppid(), signal.SIGKILL)",
        "import os, signal; os.kill(-1, signal.SIGKILL)",
        "import os, signal; os.kill(1, signal.SIGKILL); os.kill(0, signal.SIGKILL)",
        "import os, signal\nfor pid in range(1, 5000):\n    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass",
    ],
    ids=["getppid", "minus-one", "pid1-and-group", "sweep"],
)
def test_killing_the_parent_or_everyone_stays_inside(code: str):
    # A bystander on the host running as the same unprivileged user the sandbox uses.
    kw = {"user": 65534, "group": 65534, "extra_groups": []} if os.getuid() == 0 else {}
    bystander = subprocess.Popen(["sleep", "30"], **kw)
    try:
        result = run(code)
        time.sleep(0.1)
        assert bystander.poll() is None, "a host process of the sandbox user was killed"
        assert result.exit_code != 0 or result.killed_reason is None
    finally:
        bystander.kill()
        bystander.wait()
    # The caller is still alive and can run the next sandbox.
    assert run("print('next')").stdout == "next\n"


def test_processes_of_the_caller_are_invisible():
    result = run("import os; print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
    pids = eval(result.stdout)
    assert os.getpid() not in pids or os.getpid() < 10
    assert max(pids) < 10  # only the sandbox's own few processes


def test_caller_signal_handlers_untouched():
    before = signal.getsignal(signal.SIGINT)
    run("import os, signal; os.kill(os.getppid(), signal.SIGINT)")
    assert signal.getsignal(signal.SIGINT) is before
