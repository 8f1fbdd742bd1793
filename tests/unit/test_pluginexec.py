"""Calling one plugin: environment (EXEC-03), success and failure (EXEC-06, EXEC-07), stderr
(EXEC-08) and the reference's error message shape (EXEC-10). No process runs: FakeRunner."""

from __future__ import annotations

import pytest

from cnitool.core.errors import ConfigError, ExitCode, PluginFailed, PluginNotFound, PluginTimeout
from cnitool.core.netconf import PluginConfig
from cnitool.core.pluginexec import PluginCaller, describe_plugin
from cnitool.core.runtime import RuntimeConf
from unit_fakes import FakeRunner, fail, ok

DIRS = ("/opt/cni/bin", "/usr/lib/cni")
RUNTIME = RuntimeConf("c1", "/var/run/netns/ns1", "eth1", (("A", "1"), ("B", "x=y")))
BRIDGE = PluginConfig({"type": "bridge"})
NAMED = PluginConfig({"type": "bridge", "name": "mybridge"})


def caller(runner: FakeRunner, sink: list[tuple[str, bytes]] | None = None) -> PluginCaller:
    return PluginCaller(runner, DIRS, (lambda who, data: sink.append((who, data))) if sink is not None else None)


@pytest.mark.parametrize("command", ["ADD", "DEL", "CHECK"])
def test_exec_03_attachment_environment(runner: FakeRunner, command: str) -> None:
    """EXEC-03: every CNI_* variable, from the runtime conf; CNI_PATH joins the plugin dirs with ':'."""
    caller(runner).call(BRIDGE, command, b'{"x":1}', RUNTIME)
    [call] = runner.calls
    assert call.env == {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": "c1",
        "CNI_NETNS": "/var/run/netns/ns1",
        "CNI_IFNAME": "eth1",
        "CNI_ARGS": "A=1;B=x=y",
        "CNI_PATH": "/opt/cni/bin:/usr/lib/cni",
    }
    assert (call.plugin_type, call.command, call.stdin, call.plugin_dirs) == ("bridge", command, b'{"x":1}', DIRS)


def test_exec_03_empty_args_still_set(runner: FakeRunner) -> None:
    """EXEC-03: always set, possibly empty, so inherited values never leak into the call."""
    caller(runner).call(BRIDGE, "ADD", b"{}", RuntimeConf("c1", "", "eth0"))
    assert runner.calls[0].env["CNI_ARGS"] == ""
    assert runner.calls[0].env["CNI_NETNS"] == ""


@pytest.mark.parametrize("command", ["GC", "STATUS"])
def test_exec_03_gc_status_environment(runner: FakeRunner, command: str) -> None:
    """EXEC-03: GC and STATUS concern no attachment: empty container ID, netns, ifname and args."""
    caller(runner).call(BRIDGE, command, b"{}", None)
    assert runner.calls[0].env == {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": "",
        "CNI_NETNS": "",
        "CNI_IFNAME": "",
        "CNI_ARGS": "",
        "CNI_PATH": "/opt/cni/bin:/usr/lib/cni",
    }


def test_exec_03_version_environment(runner: FakeRunner) -> None:
    """EXEC-03: VERSION gets libcni's dummy netns, ifname and path (even with a runtime conf)."""
    for runtime in (None, RUNTIME):
        caller(runner).call(BRIDGE, "VERSION", b'{"cniVersion":"1.1.0"}', runtime)
    for call in runner.calls:
        assert call.env == {
            "CNI_COMMAND": "VERSION",
            "CNI_CONTAINERID": "",
            "CNI_NETNS": "dummy",
            "CNI_IFNAME": "dummy",
            "CNI_ARGS": "",
            "CNI_PATH": "dummy",
        }


@pytest.mark.parametrize("plugin_type", ["../bin/sh", "/bin/sh", "a\\b", ".."])
def test_val_04_bad_plugin_type_never_reaches_the_runner(runner: FakeRunner, plugin_type: str) -> None:
    with pytest.raises(ConfigError, match="invalid plugin type"):
        caller(runner).call(PluginConfig({"type": plugin_type}), "ADD", b"{}", RUNTIME)
    assert runner.calls == []


def test_exec_06_success_returns_stdout(runner: FakeRunner) -> None:
    runner.script("bridge", "ADD", ok(b'{"cniVersion":"1.0.0"}'))
    assert caller(runner).call(BRIDGE, "ADD", b"{}", RUNTIME) == b'{"cniVersion":"1.0.0"}'


def test_exec_07_error_json_kept(runner: FakeRunner) -> None:
    """EXEC-07 / EXEC-10: the plugin's code, msg and details, in libcni's message shape."""
    runner.script(
        "bridge",
        "ADD",
        fail({"cniVersion": "1.0.0", "code": 7, "msg": "bad config", "details": "line 3"}, stderr=b"trace\n", exit_status=1),
    )
    with pytest.raises(PluginFailed) as info:
        caller(runner).call(BRIDGE, "ADD", b"{}", RUNTIME)
    err = info.value
    assert err.msg == 'plugin type="bridge" failed (add): bad config'
    assert str(err) == 'plugin type="bridge" failed (add): bad config; line 3'
    assert (err.code, err.details, err.plugin, err.command, err.stderr) == (7, "line 3", "bridge", "ADD", "trace\n")
    assert err.exit_code == ExitCode.PLUGIN_FAILED


def test_exec_07_plugin_specific_code_kept(runner: FakeRunner) -> None:
    runner.script("bridge", "DEL", fail(b'{"code":123,"msg":"own failure"}'))
    with pytest.raises(PluginFailed) as info:
        caller(runner).call(BRIDGE, "DEL", b"{}", RUNTIME)
    assert info.value.code == 123
    assert str(info.value) == 'plugin type="bridge" failed (delete): own failure'


def test_exec_07_stdout_empty_uses_stderr_and_status(runner: FakeRunner) -> None:
    """EXEC-07: stdout empty → stderr (quoted as Go's %q) and the exit status, as upstream main."""
    runner.script("bridge", "ADD", fail(b"", stderr=b'panic: "oops"\n', exit_status=2))
    with pytest.raises(PluginFailed) as info:
        caller(runner).call(BRIDGE, "ADD", b"{}", RUNTIME)
    assert info.value.msg == 'plugin type="bridge" failed (add): netplugin failed: "panic: \\"oops\\"\\n": exit status 2'
    assert info.value.code is None
    assert info.value.stderr == 'panic: "oops"\n'


def test_exec_07_both_empty(runner: FakeRunner) -> None:
    """EXEC-07: nothing on either stream → "no error message" with the exit status."""
    runner.script("bridge", "ADD", fail(b"", b"", exit_status=3))
    with pytest.raises(PluginFailed) as info:
        caller(runner).call(BRIDGE, "ADD", b"{}", RUNTIME)
    assert info.value.msg == 'plugin type="bridge" failed (add): netplugin failed with no error message: exit status 3'


def test_exec_07_killed_by_signal(runner: FakeRunner) -> None:
    runner.script("bridge", "ADD", fail(b"", b"", exit_status=-9))
    with pytest.raises(PluginFailed) as info:
        caller(runner).call(BRIDGE, "ADD", b"{}", RUNTIME)
    assert info.value.msg == 'plugin type="bridge" failed (add): netplugin failed with no error message: killed by signal 9'


@pytest.mark.parametrize(("stdout", "quoted"), [(b"garbage\n", '"garbage\\n"'), (b"[1, 2]", '"[1, 2]"')])
def test_exec_07_stdout_not_a_json_error(runner: FakeRunner, stdout: bytes, quoted: str) -> None:
    """EXEC-07: stdout that is not a JSON error object is said to be so, and shown (Go %q)."""
    runner.script("bridge", "ADD", fail(stdout, stderr=b"x"))
    with pytest.raises(PluginFailed) as info:
        caller(runner).call(BRIDGE, "ADD", b"{}", RUNTIME)
    assert info.value.msg.startswith(
        f'plugin type="bridge" failed (add): netplugin failed but error parsing its diagnostic message {quoted}: '
    )
    assert info.value.stderr == "x"


def test_exec_08_stderr_sink_on_success(runner: FakeRunner) -> None:
    """EXEC-08: a successful plugin's stderr goes to the sink, with the plugin's type (as errors name it)."""
    sink: list[tuple[str, bytes]] = []
    runner.script("bridge", "ADD", ok(b"{}", stderr=b"warning: x\n"))
    caller(runner, sink).call(NAMED, "ADD", b"{}", RUNTIME)
    assert sink == [("bridge", b"warning: x\n")]


def test_exec_08_no_sink_call_without_stderr_or_on_failure(runner: FakeRunner) -> None:
    sink: list[tuple[str, bytes]] = []
    runner.script("bridge", "ADD", ok(b"{}"))
    caller(runner, sink).call(BRIDGE, "ADD", b"{}", RUNTIME)
    runner.script("bridge", "ADD", fail(b'{"code":1,"msg":"m"}', stderr=b"err\n"))
    with pytest.raises(PluginFailed) as info:
        caller(runner, sink).call(BRIDGE, "ADD", b"{}", RUNTIME)
    assert sink == []
    assert info.value.stderr == "err\n"


@pytest.mark.parametrize(
    ("command", "word"),
    [("ADD", "add"), ("DEL", "delete"), ("CHECK", "check"), ("GC", "gc"), ("STATUS", "status")],
)
def test_exec_10_message_shape_per_verb(runner: FakeRunner, command: str, word: str) -> None:
    """EXEC-10: `plugin type="T" name="N" failed (VERB): MSG; DETAILS`."""
    runner.script("bridge", command, fail(b'{"code":11,"msg":"try later","details":"busy"}'))
    runtime = None if command in ("GC", "STATUS") else RUNTIME
    with pytest.raises(PluginFailed) as info:
        caller(runner).call(NAMED, command, b"{}", runtime)
    assert str(info.value) == f'plugin type="bridge" name="mybridge" failed ({word}): try later; busy'
    assert info.value.command == command


def test_exec_10_description_quotes_like_go() -> None:
    """EXEC-10: libcni's pluginDescription uses %q for type and name."""
    assert describe_plugin(PluginConfig({"type": "bridge"})) == 'type="bridge"'
    assert describe_plugin(PluginConfig({"type": "bridge", "name": ""})) == 'type="bridge"'
    assert describe_plugin(PluginConfig({"type": 'we"ird', "name": "a\\b\n"})) == 'type="we\\"ird" name="a\\\\b\\n"'


@pytest.mark.parametrize("error", [PluginNotFound('failed to find plugin "bridge" in path [/x]'), PluginTimeout("timed out")])
def test_runner_errors_name_plugin_and_command(runner: FakeRunner, error: Exception) -> None:
    runner.script("bridge", "DEL", error)
    with pytest.raises(type(error)) as info:
        caller(runner).call(BRIDGE, "DEL", b"{}", RUNTIME)
    assert info.value.plugin == "bridge"
    assert info.value.command == "DEL"


def test_exec_07_stderr_bytes_quoted_like_go(runner: FakeRunner) -> None:
    """EXEC-07: Go's %q shows bytes that are not UTF-8 as \\xHH and non-printables escaped."""
    runner.script("bridge", "ADD", fail(b"", stderr=b"bad \xff\x01 \xe2\x80\x8b \xc3\xa9\n", exit_status=1))
    with pytest.raises(PluginFailed) as info:
        caller(runner).call(BRIDGE, "ADD", b"{}", RUNTIME)
    assert info.value.msg.endswith('netplugin failed: "bad \\xff\\x01 \\u200b é\\n": exit status 1')
