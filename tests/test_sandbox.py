"""Normal use of the sandbox: output, tracebacks, exit codes, files, levels, refusal, and the tool."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path

import pytest

import agentcore_sandbox.isolation as iso
from agentcore_sandbox import (
    SandboxInputError,
    SandboxResult,
    SandboxUnavailableError,
    clear_cache,
    detect,
    default_python,
    run_python,
)
from agentcore_sandbox.plugin import format_result, run_python_tool

linux_with_bwrap = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox isolates on Linux only"),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed (run .ci/install-sandbox.sh)"),
]
pytestmark = linux_with_bwrap


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch):
    """Pretend bubblewrap is not installed (and forget cached probes before and after)."""
    real_which = shutil.which
    monkeypatch.setattr(iso.shutil, "which", lambda name, *a, **k: None if name == "bwrap" else real_which(name, *a, **k))
    clear_cache()
    yield
    clear_cache()


# --- normal programs -----------------------------------------------------------------------------------


def test_print_and_exit_zero():
    result = run_python("print('hello', 6 * 7)")
    assert result.stdout == "hello 42\n"
    assert result.stderr == ""
    assert result.exit_code == 0 and result.ok
    assert not result.timed_out and result.killed_reason is None
    assert result.isolation == "full"
    assert result.duration_s > 0 and result.cpu_s is not None


def test_exception_returns_its_traceback():
    result = run_python("def f():\n    return 1 / 0\nprint('before')\nf()")
    assert result.exit_code == 1 and not result.ok
    assert result.stdout == "before\n"
    assert "Traceback (most recent call last)" in result.stderr
    assert 'File "/sandbox/main.py", line 2, in f' in result.stderr
    assert result.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert result.killed_reason is None


def test_syntax_error_is_reported_like_python_does():
    result = run_python("print('never')\nx = (1,\n")
    assert result.exit_code == 1 and result.stdout == ""
    assert 'File "/sandbox/main.py", line 2' in result.stderr
    assert "SyntaxError" in result.stderr
    assert "<string>" not in result.stderr  # no launcher frames


def test_runs_like_a_script():
    code = """
import atexit, sys, threading, time, pickle
def work():
    time.sleep(0.2)
    print("thread finished")
def later():
    print("atexit ran")
atexit.register(later)
threading.Thread(target=work).start()
class Point:
    pass
print(__name__, __file__, sys.argv, sys.path[0], type(pickle.loads(pickle.dumps(Point()))).__name__)
"""
    result = run_python(code, files={"json.py": "raise SystemExit('shadowed json')"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "__main__ /sandbox/main.py ['main.py'] /sandbox Point",
        "thread finished",
        "atexit ran",
    ]


@pytest.mark.parametrize("code,expected", [("import sys; sys.exit(3)", 3), ("raise SystemExit(0)", 0), ("import os; os._exit(7)", 7)])
def test_exit_codes(code: str, expected: int):
    assert run_python(code).exit_code == expected


def test_death_by_signal_is_reported():
    result = run_python("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert result.exit_code == -11
    assert result.signal == "SIGSEGV" and result.killed_reason == "signal"


def test_exit_code_above_128_is_not_mistaken_for_a_signal():
    result = run_python("import sys; sys.exit(137)")
    assert result.exit_code == 137 and result.signal is None and result.killed_reason is None


def test_unicode_and_stdin():
    result = run_python("print('héllo ✓ 你好')\ntry:\n    input()\nexcept EOFError:\n    print('no stdin')")
    assert result.stdout == "héllo ✓ 你好\nno stdin\n"


def test_given_files_are_readable_and_importable():
    files = {
        "solution.py": "def add(a, b):\n    return a + b\n",
        "data/numbers.txt": "1 2 3\n",
        "blob.bin": bytes(range(256)),
    }
    code = """
from solution import add
nums = [int(x) for x in open("data/numbers.txt").read().split()]
assert add(2, 3) == 5
print(sum(nums), len(open("blob.bin", "rb").read()))
open("out.txt", "w").write("writable")
print(open("out.txt").read())
"""
    result = run_python(code, files=files)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "6 256\nwritable\n"


def test_tests_run_against_given_code():
    files = {"solution.py": "def is_even(n):\n    return n % 2 == 1\n"}  # a bug the tests catch
    code = "from solution import is_even\nassert is_even(4), 'is_even(4) should be True'\nprint('passed')"
    result = run_python(code, files=files)
    assert result.exit_code == 1
    assert "AssertionError: is_even(4) should be True" in result.stderr


def test_each_run_starts_fresh():
    run_python("open('left.txt', 'w').write('x'); open('/tmp/left.txt', 'w').write('x')")
    result = run_python("import os; print(os.listdir('.'), os.listdir('/tmp'))")
    assert result.stdout == "['main.py'] []\n"


def test_working_directory_is_removed(monkeypatch: pytest.MonkeyPatch):
    base = Path(tempfile.mkdtemp(prefix="agentcore-sandbox-base-", dir="/tmp"))
    base.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    try:
        code = "import os\nos.makedirs('a/b')\nopen('a/b/f', 'w').write('x')\nos.chmod('a/b', 0)\nos.chmod('a', 0)"
        result = run_python(code)
        assert result.exit_code == 0, result.stderr
        assert list(base.iterdir()) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_environment_is_scrubbed():
    result = run_python("import os; print(sorted(os.environ))")
    assert set(eval(result.stdout)) <= {"PATH", "HOME", "TMPDIR", "LANG", "PWD"}


def test_allow_network_reaches_the_host_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(5)
    port = server.getsockname()[1]
    got: list[bytes] = []

    def serve() -> None:
        try:
            conn, _ = server.accept()
            got.append(conn.recv(10))
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=serve)
    thread.start()
    result = run_python(f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=3)\ns.sendall(b'hi')", allow_network=True)
    thread.join()
    server.close()
    assert result.exit_code == 0, result.stderr
    assert got == [b"hi"]


def test_concurrent_runs_from_threads():
    results: list[SandboxResult] = []

    def one(i: int) -> None:
        results.append(run_python(f"print({i} * 2)"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.stdout for r in results) == ["0\n", "2\n", "4\n", "6\n"]


def test_file_size_limit():
    result = run_python("open('big', 'wb').write(b'x' * (3 * 1024 * 1024))", max_file_mb=1)
    assert result.exit_code != 0
    assert result.killed_reason == "file_size"


def test_open_files_limit():
    result = run_python("fs = [open('main.py') for _ in range(100)]", max_open_files=32)
    assert "Too many open files" in result.stderr


# --- inputs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["/etc/passwd", "../escape.py", "a/../../b", ""])
def test_bad_file_names_are_refused(name: str):
    with pytest.raises(SandboxInputError, match="relative path"):
        run_python("pass", files={name: "x"})


def test_main_py_cannot_be_overwritten():
    with pytest.raises(SandboxInputError, match="main.py"):
        run_python("pass", files={"main.py": "x"})


@pytest.mark.parametrize(
    "kwargs,match",
    [({"timeout_s": 0}, "timeout_s"), ({"timeout_s": -1}, "timeout_s"), ({"memory_mb": 8}, "memory_mb"),
     ({"max_output_bytes": 0}, "positive"), ({"min_isolation": "strong"}, "unknown isolation level")],
)
def test_bad_limits_are_refused(kwargs: dict, match: str):
    with pytest.raises(SandboxInputError, match=match):
        run_python("pass", **kwargs)


def test_missing_interpreter_is_a_clear_error():
    with pytest.raises(SandboxUnavailableError, match="not found"):
        run_python("pass", python="/nonexistent/python3")


# --- isolation levels ------------------------------------------------------------------------------------


def test_detect_reports_full_here():
    report = detect(default_python())
    assert report.best == "full"
    assert report.available == ("rlimits", "namespaces", "full")


def test_refuses_without_bubblewrap(no_bwrap):
    with pytest.raises(SandboxUnavailableError) as info:
        run_python("print(1)")
    message = str(info.value)
    assert "bubblewrap (bwrap) not found" in message
    assert "apt-get install bubblewrap" in message
    assert "min_isolation='namespaces'" in message


def test_opting_down_without_bubblewrap(no_bwrap):
    result = run_python("print(1)", min_isolation="namespaces")
    assert result.stdout == "1\n" and result.isolation == "namespaces"


def test_opting_down_through_the_environment(no_bwrap, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AGENTCORE_SANDBOX_MIN_ISOLATION", "rlimits")
    assert run_python("print(1)").isolation == "namespaces"  # still the best available


def test_forcing_a_weaker_level_needs_opting_down():
    with pytest.raises(SandboxInputError, match="min_isolation='rlimits'"):
        run_python("pass", isolation="rlimits")


def test_namespaces_level_still_isolates_network_and_processes():
    code = """
import os, socket
print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
except OSError as exc:
    print("blocked", type(exc).__name__)
print(os.getuid())
"""
    result = run_python(code, isolation="namespaces", min_isolation="namespaces")
    pids, blocked, uid = result.stdout.splitlines()
    assert max(eval(pids)) < 10
    assert blocked.startswith("blocked")
    assert result.isolation == "namespaces"


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="privileged bubblewrap needs root")
def test_privileged_bubblewrap_without_user_namespaces(monkeypatch: pytest.MonkeyPatch):
    """Where user namespaces are disabled, root runs bwrap itself and the launcher drops to nobody."""
    report = dataclasses.replace(detect(default_python()), bwrap_privileged=True)
    monkeypatch.setattr(iso, "detect", lambda python: report)
    code = """
import os, subprocess, sys
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(os.getuid(), status["CapEff"].strip(), status["NoNewPrivs"].strip(), os.getcwd())
print(subprocess.run([sys.executable, "-c", "print('child ok')"], capture_output=True, text=True).stdout.strip())
print(sorted(os.listdir("/")))
"""
    result = run_python(code)
    assert result.exit_code == 0, result.stderr
    uid_line, child, listing = result.stdout.splitlines()
    assert uid_line == "65534 0000000000000000 1 /sandbox"
    assert child == "child ok"
    assert "etc" not in listing and "root" not in listing
    bomb = run_python("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass", timeout_s=1, max_processes=16)
    assert bomb.killed_reason == "timeout"


@pytest.mark.parametrize("level", ["namespaces", "rlimits"])
def test_weaker_levels_keep_limits(level: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AGENTCORE_FAKE_TOKEN", "tok-123456")
    kw = {"isolation": level, "min_isolation": "rlimits"}
    assert run_python("while True: pass", timeout_s=1, **kw).killed_reason == "timeout"
    assert run_python("x = bytearray(4 * 1024 ** 3)", memory_mb=128, **kw).killed_reason == "memory"
    assert run_python("while True: print('x' * 1000)", max_output_bytes=10_000, **kw).killed_reason == "output_limit"
    env = run_python("import os; print(dict(os.environ))", **kw)
    assert "tok-123456" not in env.stdout
    assert env.isolation == level


# --- the tool ----------------------------------------------------------------------------------------------


def test_tool_is_registered_by_the_plugin(monkeypatch: pytest.MonkeyPatch):
    from agentcore.plugins import registered_tools, reset_plugin_manager

    monkeypatch.setenv("AGENTCORE_PLUGINS", "sandbox")
    reset_plugin_manager()
    tools = registered_tools()
    assert tools["run_python"] is run_python_tool
    assert run_python_tool.isolation == "thread"


def test_tool_schema():
    schema = run_python_tool.openai_schema()
    fn = schema["function"]
    assert fn["name"] == "run_python"
    assert "sandbox" in fn["description"]
    assert fn["parameters"]["required"] == ["code"]
    assert fn["parameters"]["properties"]["code"]["type"] == "string"
    assert fn["parameters"]["properties"]["timeout_s"]["maximum"] == 60


def test_tool_text_for_success_and_error():
    args = run_python_tool.validate({"code": "print('ok')\nimport sys\nprint('warn', file=sys.stderr)\nraise SystemExit(2)"})
    text = run_python_tool.fn(**args)
    assert text == "exit code: 2\nstdout:\nok\nstderr:\nwarn"


def test_tool_text_for_timeout():
    text = run_python_tool.fn(code="import time\nprint('start')\ntime.sleep(30)", timeout_s=1)
    assert text.startswith("exit code: -9\nTIMED OUT after 1 s")
    assert "stdout:\nstart" in text


def test_tool_text_for_no_output_and_truncation():
    quiet = SandboxResult(exit_code=0, duration_s=0.1, isolation="full")
    assert format_result(quiet) == "exit code: 0\n(no output)"
    loud = SandboxResult(stdout="a" * 10_000, exit_code=0, duration_s=0.1, isolation="full")
    text = format_result(loud, limit=300)
    assert "stdout (truncated):" in text and "characters elided" in text and len(text) < 500


def test_tool_rejects_bad_arguments():
    from agentcore.tools import ToolArgumentsError

    with pytest.raises(ToolArgumentsError, match="timeout_s"):
        run_python_tool.validate({"code": "pass", "timeout_s": 600})
