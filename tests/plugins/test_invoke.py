"""SubprocessRunner against real processes: small #!/bin/sh plugins written to a temp plugin dir."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from plugin_env import process_gone, wait_for

from cnitool.core.errors import ExitCode, PluginNotFound, PluginTimeout
from cnitool.core.runner import PluginInvocation, PluginOutput
from cnitool.invoke import SubprocessRunner


def write_plugin(directory: Path, name: str, body: str, mode: int = 0o755) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(mode)
    return path


def invocation(
    plugin_dirs: list[Path],
    plugin_type: str = "fake",
    *,
    command: str = "ADD",
    stdin: bytes = b"{}",
    env: dict[str, str] | None = None,
) -> PluginInvocation:
    return PluginInvocation(
        plugin_type=plugin_type,
        command=command,
        cni_env=env if env is not None else {"CNI_COMMAND": command},
        stdin=stdin,
        plugin_dirs=[str(d) for d in plugin_dirs],
    )


def wait_gone(pid: int, within: float = 2.0) -> bool:
    return wait_for(lambda: process_gone(pid), within)


def test_exec_02_found_in_second_dir(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    write_plugin(second, "fake", "echo from-b\n")
    output = SubprocessRunner().run(invocation([first, second]))
    assert output.stdout == b"from-b\n"
    assert output.exit_status == 0


def test_exec_02_first_dir_wins(tmp_path: Path) -> None:
    write_plugin(tmp_path / "a", "fake", "echo from-a\n")
    write_plugin(tmp_path / "b", "fake", "echo from-b\n")
    assert SubprocessRunner().run(invocation([tmp_path / "a", tmp_path / "b"])).stdout == b"from-a\n"


def test_exec_02_directory_with_the_plugin_name_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "a" / "fake").mkdir(parents=True)
    write_plugin(tmp_path / "b", "fake", "echo real\n")
    assert SubprocessRunner().run(invocation([tmp_path / "a", tmp_path / "b"])).stdout == b"real\n"


def test_exec_02_symlink_to_a_plugin_counts(tmp_path: Path) -> None:
    target = write_plugin(tmp_path / "store", "real-bridge", "echo linked\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "fake").symlink_to(target)
    assert SubprocessRunner().run(invocation([tmp_path / "bin"])).stdout == b"linked\n"


def test_exec_02_not_found_message_and_hint(tmp_path: Path) -> None:
    present = tmp_path / "bin"
    write_plugin(present, "bridge", "exit 0\n")
    write_plugin(present, "host-local", "exit 0\n")
    missing = tmp_path / "nowhere"
    seen: list[tuple[PluginInvocation, PluginOutput | None, str]] = []
    runner = SubprocessRunner(observer=lambda inv, out, path: seen.append((inv, out, path)))
    with pytest.raises(PluginNotFound) as caught:
        runner.run(invocation([present, missing], "brige"))
    err = caught.value
    assert err.msg == f'failed to find plugin "brige" in path [{present} {missing}]'
    assert err.exit_code == ExitCode.ENVIRONMENT
    assert err.plugin == "brige"
    assert err.hint is not None
    assert f"{present}: bridge, host-local" in err.hint
    assert f"{missing}: does not exist" in err.hint
    assert "did you mean: bridge" in err.hint
    assert len(seen) == 1 and seen[0][1] is None and seen[0][2] == ""


def test_exec_02_not_found_without_dirs() -> None:
    with pytest.raises(PluginNotFound) as caught:
        SubprocessRunner().run(invocation([], "bridge"))
    assert caught.value.msg == 'failed to find plugin "bridge" in path []'


def test_exec_02_not_executable_is_reported_as_such(tmp_path: Path) -> None:
    path = write_plugin(tmp_path / "a", "fake", "echo never\n", mode=0o644)
    write_plugin(tmp_path / "b", "fake", "echo shadowed\n")  # the reference stops at the first file too
    with pytest.raises(PluginNotFound) as caught:
        SubprocessRunner().run(invocation([tmp_path / "a", tmp_path / "b"]))
    assert "is not executable" in caught.value.msg
    assert str(path) in caught.value.msg
    assert "-rw-r--r--" in caught.value.msg


def test_exec_02_missing_interpreter_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "fake"
    path.write_text("#!/nonexistent/interpreter\n")
    path.chmod(0o755)
    with pytest.raises(PluginNotFound) as caught:
        SubprocessRunner().run(invocation([tmp_path]))
    assert caught.value.msg.startswith(f'cannot run plugin "fake" at {path}')
    assert caught.value.hint is not None and "interpreter" in caught.value.hint


def test_exec_03_cni_env_overrides_base_env_and_rest_is_inherited(tmp_path: Path) -> None:
    write_plugin(tmp_path, "fake", 'printf "%s|%s|%s" "$CNI_COMMAND" "$CNI_NETNS" "$KEEP_ME"\n')
    runner = SubprocessRunner(base_env={"PATH": "/usr/bin:/bin", "CNI_NETNS": "/stale", "KEEP_ME": "kept"})
    output = runner.run(invocation([tmp_path], env={"CNI_COMMAND": "ADD", "CNI_NETNS": "/var/run/netns/x"}))
    assert output.stdout == b"ADD|/var/run/netns/x|kept"


def test_exec_03_default_base_env_is_os_environ_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_plugin(tmp_path, "fake", 'printf "%s" "$CNITOOL_TEST_MARK"\n')
    runner = SubprocessRunner()
    monkeypatch.setenv("CNITOOL_TEST_MARK", "late")
    assert runner.run(invocation([tmp_path])).stdout == b"late"


def test_exec_05_stdin_delivered_and_streams_separate(tmp_path: Path) -> None:
    write_plugin(tmp_path, "fake", "cat\necho to-stderr >&2\n")
    request = b'{"cniVersion":"1.1.0","name":"n","type":"fake"}'
    output = SubprocessRunner().run(invocation([tmp_path], stdin=request))
    assert output.stdout == request
    assert output.stderr == b"to-stderr\n"
    assert output.duration > 0


def test_exec_05_large_stdin_and_stdout_do_not_deadlock(tmp_path: Path) -> None:
    write_plugin(tmp_path, "fake", "cat\n")
    request = b"x" * (4 * 1024 * 1024)  # far beyond a pipe buffer in both directions
    assert SubprocessRunner(timeout=30).run(invocation([tmp_path], stdin=request)).stdout == request


def test_exec_05_plugin_that_ignores_stdin(tmp_path: Path) -> None:
    write_plugin(tmp_path, "fake", "echo done\n")
    output = SubprocessRunner(timeout=10).run(invocation([tmp_path], stdin=b"y" * (1024 * 1024)))
    assert (output.exit_status, output.stdout) == (0, b"done\n")


def test_exec_05_nonzero_exit_status_is_reported_not_interpreted(tmp_path: Path) -> None:
    write_plugin(tmp_path, "fake", 'echo \'{"code":7,"msg":"bad"}\'\necho oops >&2\nexit 3\n')
    output = SubprocessRunner().run(invocation([tmp_path]))
    assert output.exit_status == 3
    assert output.stdout == b'{"code":7,"msg":"bad"}\n'
    assert output.stderr == b"oops\n"


def test_exec_05_death_by_signal_is_a_negative_status(tmp_path: Path) -> None:
    write_plugin(tmp_path, "fake", "kill -TERM $$\n")
    assert SubprocessRunner().run(invocation([tmp_path])).exit_status == -15


def test_exec_05_observer_sees_each_call(tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path, "fake", "echo hi\n")
    seen: list[tuple[PluginInvocation, PluginOutput | None, str]] = []
    runner = SubprocessRunner(observer=lambda inv, out, path: seen.append((inv, out, path)))
    call = invocation([tmp_path])
    output = runner.run(call)
    assert seen == [(call, output, str(plugin))]


def test_exec_09_timeout_kills_plugin_and_the_child_holding_stdout(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    write_plugin(tmp_path, "fake", f"sleep 300 &\necho $! > {pidfile}\necho partial >&2\nwait\n")
    seen: list[PluginOutput | None] = []
    runner = SubprocessRunner(timeout=0.5, observer=lambda inv, out, path: seen.append(out))
    started = time.monotonic()
    with pytest.raises(PluginTimeout) as caught:
        runner.run(invocation([tmp_path], command="DEL"))
    assert time.monotonic() - started < 3
    err = caught.value
    assert err.msg == 'plugin type="fake" timed out after 0.5s (delete)'
    assert err.exit_code == ExitCode.TIMEOUT
    assert (err.plugin, err.command) == ("fake", "DEL")
    assert "partial" in err.stderr
    assert seen == [None]
    assert wait_gone(int(pidfile.read_text()))


def test_exec_09_plugin_that_sleeps_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "plugin.pid"
    write_plugin(tmp_path, "fake", f"echo $$ > {pidfile}\nexec sleep 300\n")
    with pytest.raises(PluginTimeout) as caught:
        SubprocessRunner(timeout=0.3).run(invocation([tmp_path], command="ADD"))
    assert caught.value.msg == 'plugin type="fake" timed out after 0.3s (add)'
    assert wait_gone(int(pidfile.read_text()))


def test_exec_09_exited_plugin_with_a_leftover_child_is_not_a_timeout(tmp_path: Path) -> None:
    """A plugin that leaves a child (a daemon, on purpose or not) holding stdout: we return soon
    after the plugin exits, with its output and status, and do not kill the child."""
    pidfile = tmp_path / "child.pid"
    write_plugin(tmp_path, "fake", f"sleep 300 &\necho $! > {pidfile}\necho result\nexit 0\n")
    started = time.monotonic()
    output = SubprocessRunner(timeout=30).run(invocation([tmp_path]))
    child = int(pidfile.read_text())
    try:
        assert time.monotonic() - started < 5
        assert (output.exit_status, output.stdout) == (0, b"result\n")
        assert not process_gone(child)
    finally:
        os.kill(child, 9)
