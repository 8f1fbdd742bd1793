"""A trace that cannot be written never breaks the command it traces (found by a user trial).

``--trace-file /dev/full`` opens fine (the up-front writability check passes) and then fails on
the first write. That OSError used to escape from the runner's observer in the middle of the ADD
chain: exit 70 with nothing rolled back. The trace is best effort once the command runs: the
tracer stops writing where it fails, says so in one warning naming the file and the error, and the
command goes on as without the trace. No exception of an observer reaches the plugin chain.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plugin_env import RESULT_1_0, Env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating network namespaces needs root")

_LEAKY = ("NETCONFPATH", "CNI_", "CAP_ARGS", "NO_COLOR", "FORCE_COLOR")


def run_to(env: Env, *args: str, stdout=subprocess.PIPE, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    """``cnitool ARGS`` with our own choice of stdout and stderr (a full device, a pipe)."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith(_LEAKY)}
    environ.update(env.vars)
    return subprocess.run([sys.executable, "-m", "cnitool", *args], env=environ, stdout=stdout, stderr=stderr,
                          text=True, timeout=120)


def two_plugin_network(env: Env) -> None:
    env.plugin("first")
    env.plugin("second")
    env.network("traced", [{"type": "first"}, {"type": "second"}])


def warnings_of(stderr: str) -> list[str]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert all(line["level"] in ("warning", "trace") for line in lines), stderr
    return [line["msg"] for line in lines if line["level"] == "warning"]


def test_add_and_del_with_a_full_trace_file_warn_once_and_do_everything(env: Env, cnitool, netns: str) -> None:
    two_plugin_network(env)
    added = cnitool("add", "traced", netns, "-o", "json", "--trace-file", "/dev/full", env=env.vars)
    assert added.returncode == 0, added
    assert json.loads(added.stdout) == RESULT_1_0
    [warning] = warnings_of(added.stderr)
    assert "/dev/full" in warning and "No space left on device" in warning, warning
    assert env.calls() == ["first ADD", "second ADD"]  # the chain went on after the first call
    assert len(env.cache_files()) == 1  # and the attachment was cached as without the trace

    deleted = cnitool("del", "traced", netns, "-o", "json", "--trace-file", "/dev/full", env=env.vars)
    assert deleted.returncode == 0, deleted
    [warning] = warnings_of(deleted.stderr)
    assert "/dev/full" in warning and "No space left on device" in warning, warning
    assert env.calls()[2:] == ["second DEL", "first DEL"]
    assert env.cache_files() == []


def test_the_warning_is_a_plain_line_for_people(env: Env, cnitool, netns: str) -> None:
    two_plugin_network(env)
    added = cnitool("add", "traced", netns, "-o", "table", "--trace-file", "/dev/full", env=env.vars)
    assert added.returncode == 0, added
    warning_lines = [line for line in added.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning_lines) == 1, added
    assert "/dev/full" in added.stderr and "No space left on device" in added.stderr
    assert "internal error" not in added.stderr
    assert cnitool("del", "traced", netns, env=env.vars).returncode == 0
    assert env.cache_files() == []


def test_the_stderr_trace_goes_on_when_the_trace_file_fails(env: Env, cnitool, netns: str) -> None:
    two_plugin_network(env)
    added = cnitool("add", "traced", netns, "-o", "json", "--trace", "--trace-file", "/dev/full", env=env.vars)
    assert added.returncode == 0, added
    lines = [json.loads(line) for line in added.stderr.splitlines()]
    assert [(line["plugin"], line["command"]) for line in lines if line["level"] == "trace"] == [
        ("first", "ADD"), ("second", "ADD")]
    assert len(warnings_of(added.stderr)) == 1
    assert cnitool("del", "traced", netns, env=env.vars).returncode == 0


def test_a_trace_on_an_unwritable_stderr_does_not_stop_the_add(env: Env, netns: str) -> None:
    """--trace writes to stderr; a full stderr cannot even carry the warning, and the add still
    completes, printing its result."""
    two_plugin_network(env)
    with open("/dev/full", "w") as full:
        added = run_to(env, "add", "traced", netns, "-o", "json", "--trace", stderr=full)
    assert added.returncode == 0, added
    assert json.loads(added.stdout) == RESULT_1_0
    assert env.calls() == ["first ADD", "second ADD"] and len(env.cache_files()) == 1
    deleted = run_to(env, "del", "traced", netns)
    assert deleted.returncode == 0, deleted
    assert env.cache_files() == []


def test_a_failing_trace_file_does_not_hide_a_plugin_error_or_the_rollback(env: Env, cnitool, netns: str) -> None:
    env.plugin("first")
    env.raw_plugin("second", 'echo \'{"code": 7, "msg": "no"}\'; exit 1\n')
    env.network("traced", [{"type": "first"}, {"type": "second"}])
    added = cnitool("add", "traced", netns, "-o", "json", "--trace-file", "/dev/full", env=env.vars)
    assert added.returncode == 1, added
    lines = [json.loads(line) for line in added.stderr.splitlines()]
    assert lines[-1]["kind"] == "plugin-failed" and lines[-1]["plugin"] == "second", added
    assert env.calls() == ["first ADD", "second ADD", "second DEL", "first DEL"]  # rolled back
    assert env.cache_files() == []


# ------------------------------------------------------------- the runner, with any observer


def test_an_observer_that_raises_is_dropped_and_never_reaches_the_caller(env: Env) -> None:
    from cnitool.core.errors import PluginNotFound
    from cnitool.core.runner import PluginInvocation
    from cnitool.invoke import SubprocessRunner

    env.plugin("spy")
    seen: list[str] = []
    failures: list[BaseException] = []

    def broken_observer(invocation, output, path) -> None:
        seen.append(invocation.command)
        raise RuntimeError("observer bug")

    runner = SubprocessRunner(timeout=30, observer=broken_observer, on_observer_error=failures.append)
    invocation = PluginInvocation("spy", "ADD", {"CNI_COMMAND": "ADD"}, b"{}", (str(env.plugin_dir),))
    output = runner.run(invocation)
    assert output.exit_status == 0 and json.loads(output.stdout) == RESULT_1_0
    assert [str(error) for error in failures] == ["observer bug"]
    assert runner.run(invocation).exit_status == 0  # the observer is not asked again
    assert seen == ["ADD"] and len(failures) == 1

    # With no callback, and a call that fails itself: the caller gets the call's own error.
    quiet = SubprocessRunner(timeout=30, observer=broken_observer)
    with pytest.raises(PluginNotFound):
        quiet.run(PluginInvocation("absent", "ADD", {"CNI_COMMAND": "ADD"}, b"{}", (str(env.plugin_dir),)))


def test_tracer_stops_at_the_first_write_error_and_warns_once(tmp_path: Path) -> None:
    import io

    from cnitool.cli.trace import Tracer
    from cnitool.core.runner import PluginInvocation, PluginOutput

    warnings: list[str] = []
    stderr = io.StringIO()
    tracer = Tracer(stderr, True, "/dev/full", warn=warnings.append)
    invocation = PluginInvocation("spy", "ADD", {"CNI_COMMAND": "ADD"}, b"{}", ())
    for _ in range(3):
        tracer(invocation, PluginOutput(0, b"{}", b"", 0.1), "/bin/spy")
    assert len(warnings) == 1
    assert "/dev/full" in warnings[0] and "No space left on device" in warnings[0]
    assert len(stderr.getvalue().splitlines()) == 3  # the stderr trace is not affected
    assert tracer.trace_handle is None
