"""Every error path of issue 2 through the real command line, with small ``#!/bin/sh`` fake plugins.

Each test runs ``python -m cnitool`` as a user would and asserts the exit status, the JSON error
object on stderr with ``-o json`` (CLI-05: every stderr line is one JSON object) and the human
panel with ``-o table``. Fake plugins append ``NAME VERB`` to a shared ``calls`` file and save the
environment and stdin they got, so a test can prove which plugins ran, in which order, with what.

``add`` and ``check`` refuse a namespace that does not exist before any plugin runs (CLI-03), so
tests of those verbs get a real, empty namespace from the ``netns`` fixture (removed afterwards);
``del`` goes ahead without one.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin_env import ERROR_FIELDS, RESULT_1_0, Env, error_object, flat, panel

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating network namespaces needs root")


# ----------------------------------------------------------------------------- plugin errors


def test_exec_07_exec_10_plugin_error_json_keeps_code_and_details(env: Env, cnitool, netns: str) -> None:
    """EXEC-07, EXEC-10, CLI-05: the plugin's code is kept, the message has the reference's shape."""
    env.plugin("first")
    env.raw_plugin("bad", 'echo \'{"cniVersion":"1.0.0","code":111,"msg":"boom [bridge]","details":"more detail"}\'\n'
                          'echo "bad wrote this" >&2\nexit 1\n')
    env.network("net1", [{"type": "first"}, {"type": "bad"}])

    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    assert run.stdout == ""
    error = error_object(run)
    assert error["code"] == 111
    assert error["msg"] == 'plugin type="bad" failed (add): boom [bridge]'
    assert error["details"] == "more detail"
    assert f'{error["msg"]}; {error["details"]}' == 'plugin type="bad" failed (add): boom [bridge]; more detail'
    assert error["plugin"] == "bad"
    assert error["command"] == "ADD"
    assert error["stderr"] == "bad wrote this\n"
    assert error["kind"] == "plugin-failed"

    run = cnitool("add", "-o", "table", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    text = flat(panel(run))
    assert "ADD failed (plugin-failed)" in text
    assert "CNI code 111 (plugin-specific error)" in text
    assert 'Message plugin type="bad" failed (add): boom [bridge]' in text
    assert "Details more detail" in text
    assert "Plugin stderr: bad wrote this" in text


def test_exec_10_plugin_name_in_message_and_delete_and_check_words(env: Env, cnitool, netns: str) -> None:
    """EXEC-10: ``name="…"`` is added for a plugin with its own name; DEL says (delete), CHECK (check)."""
    env.raw_plugin("bad", 'echo \'{"code":7,"msg":"no way"}\'\nexit 1\n')
    env.network("net1", [{"type": "bad", "name": "mine"}])

    run = cnitool("del", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    error = error_object(run)
    assert error["msg"] == 'plugin type="bad" name="mine" failed (delete): no way'
    assert (error["code"], error["command"]) == (7, "DEL")

    run = cnitool("del", "-o", "table", "net1", netns, env=env.vars)
    text = flat(panel(run))
    assert "DELETE failed (plugin-failed)" in text
    assert "CNI code 7 (invalid network config)" in text

    # CHECK needs a cached ADD result: add with a good plugin, then make it fail on CHECK.
    env.plugin("good", extra='[ "$CNI_COMMAND" = CHECK ] && { echo \'{"code":3,"msg":"gone"}\'; exit 1; }')
    env.network("net2", [{"type": "good"}])
    assert cnitool("add", "-o", "json", "net2", netns, env=env.vars).returncode == 0
    run = cnitool("check", "-o", "json", "net2", netns, env=env.vars)
    assert run.returncode == 1, run
    error = error_object(run)
    assert error["msg"] == 'plugin type="good" failed (check): gone'
    assert (error["code"], error["command"]) == (3, "CHECK")
    assert cnitool("del", "-o", "json", "net2", netns, env=env.vars).returncode == 0


def test_exec_07_crash_with_stderr_only(env: Env, cnitool, netns: str) -> None:
    """EXEC-07: stdout empty → the stderr text and the exit status, quoted as upstream main (Go %q)."""
    env.raw_plugin("crash", 'echo "it broke badly" >&2\nexit 2\n')
    env.network("net1", [{"type": "crash"}])

    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    error = error_object(run)
    assert error["msg"] == 'plugin type="crash" failed (add): netplugin failed: "it broke badly\\n": exit status 2'
    assert error["code"] is None
    assert error["stderr"] == "it broke badly\n"

    run = cnitool("add", "-o", "table", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    text = flat(panel(run))
    assert "Plugin stderr: it broke badly" in text
    assert "exit status 2" in text


def test_exec_07_no_output_at_all(env: Env, cnitool) -> None:
    """EXEC-07: both streams empty → "no error message" with the exit status."""
    env.raw_plugin("mute", "exit 3\n")
    env.network("net1", [{"type": "mute"}])
    run = cnitool("del", "-o", "json", "net1", "/var/run/netns/nonexistent-cnit", env=env.vars)
    assert run.returncode == 1, run
    assert error_object(run)["msg"] == 'plugin type="mute" failed (delete): netplugin failed with no error message: exit status 3'


def test_exec_07_killed_by_a_signal(env: Env, cnitool) -> None:
    """EXEC-07: a plugin killed by a signal says so (not "exit status -9").

    Go's ProcessState prints "signal: killed"; we say "killed by signal 9"."""
    env.raw_plugin("victim", "kill -9 $$\n")
    env.network("net1", [{"type": "victim"}])
    run = cnitool("del", "-o", "json", "net1", "/var/run/netns/nonexistent-cnit", env=env.vars)
    assert run.returncode == 1, run
    message = error_object(run)["msg"]
    assert message.startswith('plugin type="victim" failed (delete): netplugin failed with no error message: '), message
    assert "signal" in message and "killed" in message and "exit status" not in message


def test_exec_07_stdout_not_json(env: Env, cnitool, netns: str) -> None:
    """EXEC-07: a failed plugin whose stdout is not a JSON error: say so and show it."""
    env.raw_plugin("garbage", 'echo "not json at all"\nexit 1\n')
    env.network("net1", [{"type": "garbage"}])
    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    error = error_object(run)
    assert error["msg"].startswith(
        'plugin type="garbage" failed (add): netplugin failed but error parsing its diagnostic message "not json at all\\n"'
    ), error
    assert error["code"] is None

    run = cnitool("add", "-o", "table", "net1", netns, env=env.vars)
    assert "not json at all" in flat(panel(run))


def test_exec_06_empty_stdout_on_add(env: Env, cnitool, netns: str) -> None:
    """EXEC-06: exit 0 with nothing on stdout is not a result; the error names the plugin; rollback DEL runs."""
    env.plugin("silent", add="")
    env.network("net1", [{"type": "silent"}])
    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    error = error_object(run)
    assert error["msg"] == 'plugin type="silent" failed (add): the plugin printed no result'
    assert error["plugin"] == "silent"
    assert env.calls() == ["silent ADD", "silent DEL"]
    assert env.cache_files() == []


def test_exec_06_null_is_an_empty_result_and_missing_version_takes_the_networks(env: Env, cnitool, netns: str) -> None:
    """EXEC-06: ``null`` is an empty result; a result without cniVersion takes the network's version."""
    env.plugin("nul", add="null")
    env.network("net1", [{"type": "nul"}], version="1.0.0")
    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 0, run
    assert run.stdout == '{\n    "cniVersion": "1.0.0"\n}\n'
    assert cnitool("del", "-o", "json", "net1", netns, env=env.vars).returncode == 0

    env.plugin("nover", add={"ips": [{"address": "10.9.9.9/24"}]})
    env.network("net2", [{"type": "nover"}], version="1.1.0")
    run = cnitool("add", "-o", "json", "net2", netns, env=env.vars)
    assert run.returncode == 0, run
    assert run.json() == {"cniVersion": "1.1.0", "ips": [{"address": "10.9.9.9/24"}]}
    assert cnitool("del", "-o", "json", "net2", netns, env=env.vars).returncode == 0


# ----------------------------------------------------------------------------- finding plugins


def test_exec_02_missing_plugin(env: Env, cnitool, netns: str, tmp_path: Path) -> None:
    """EXEC-02, CLI-05: exit 3, the reference's message, a hint listing what each dir holds; a plugin
    that was never started gets no rollback DEL (ADD-02)."""
    env.plugin("first")
    env.network("net1", [{"type": "first"}, {"type": "missing"}])
    nowhere = tmp_path / "nowhere"
    vars_ = {**env.vars, "CNI_PATH": f"{env.plugin_dir}:{nowhere}"}

    run = cnitool("add", "-o", "json", "net1", netns, env=vars_)
    assert run.returncode == 3, run
    error = error_object(run)
    assert error["msg"] == f'failed to find plugin "missing" in path [{env.plugin_dir} {nowhere}]'
    assert (error["plugin"], error["command"], error["kind"]) == ("missing", "ADD", "plugin-not-found")
    assert env.calls() == ["first ADD", "first DEL"]

    run = cnitool("add", "-o", "table", "net1", netns, env=vars_)
    assert run.returncode == 3, run
    text = panel(run)
    assert f"Hint: {env.plugin_dir}: first" in text
    assert f"{nowhere}: does not exist" in text


def test_exec_02_plugin_not_executable(env: Env, cnitool, netns: str) -> None:
    """EXEC-02 OURS: a found file without the exec bit is reported as such (exit 3), not as a failed exec."""
    env.plugin("noexec", executable=False)
    env.network("net1", [{"type": "noexec"}])
    path = env.plugin_dir / "noexec"
    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 3, run
    assert error_object(run)["msg"] == f'plugin "noexec" found at {path} is not executable (mode -rw-r--r--)'
    assert env.calls() == []

    run = cnitool("add", "-o", "table", "net1", netns, env=env.vars)
    assert run.returncode == 3, run
    assert f"chmod +x {path}" in flat(panel(run))


@pytest.mark.parametrize("verb", ["add", "check", "del"])
@pytest.mark.parametrize("where", ["type", "ipam"])
def test_val_04_plugin_type_with_a_path_never_runs(env: Env, cnitool, netns: str, tmp_path: Path, verb: str, where: str) -> None:
    """VAL-04: a ``type`` (or ``ipam.type``) with ``../`` is invalid config (exit 2), nothing runs."""
    # A plugin one level up from the plugin dir that would prove it ran by writing a marker.
    outside = env.plugin_dir.parent / "evil"
    outside.write_text(f'#!/bin/sh\ntouch "{tmp_path}/evil-ran"\necho \'{json.dumps(RESULT_1_0)}\'\n')
    outside.chmod(0o755)
    env.plugin("first")
    bad = {"type": "../evil"} if where == "type" else {"type": "first", "ipam": {"type": "../evil"}}
    env.network("net1", [{"type": "first"}, bad])

    run = cnitool(verb, "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 2, run
    error = error_object(run)
    assert error["msg"] == 'invalid plugin type "../evil": it must be a plain file name'
    assert error["kind"] == "config-invalid"
    assert env.calls() == []
    assert not (tmp_path / "evil-ran").exists()


# ----------------------------------------------------------------------------- runtime inputs


@pytest.mark.parametrize(
    ("how", "value", "message"),
    [
        ("env", "novalue", 'invalid CNI_ARGS pair "novalue": expected KEY=VALUE'),
        ("env", "A=1;=2", 'invalid CNI_ARGS pair "=2": the key is empty'),
        ("option", "novalue", 'invalid --arg "novalue": expected KEY=VALUE'),
        ("option", "=2", 'invalid --arg "=2": the key is empty'),
        ("option", "a=b;c=d", 'invalid --arg "a=b;c=d": a ";" separates CNI_ARGS pairs and cannot be part of one'),
    ],
)
@pytest.mark.parametrize("verb", ["add", "del"])
def test_req_07_bad_cni_args_before_any_plugin(env: Env, cnitool, netns: str, how: str, value: str, message: str,
                                               verb: str) -> None:
    """REQ-07, CLI-05: a CNI_ARGS pair without ``=`` or with an empty key: exit 2, no plugin runs."""
    env.plugin("marker")
    env.network("net1", [{"type": "marker"}])
    vars_ = {**env.vars, "CNI_ARGS": value} if how == "env" else env.vars
    extra = ["--arg", value] if how == "option" else []
    run = cnitool(verb, "-o", "json", *extra, "net1", netns, env=vars_)
    assert run.returncode == 2, run
    error = error_object(run)
    assert error["msg"] == message
    assert (error["kind"], error["code"]) == ("invalid-argument", 4)
    assert env.calls() == []


@pytest.mark.parametrize(
    ("cap_args", "caps", "message"),
    [
        ("{not json", [], "CAP_ARGS is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        ("[1, 2]", [], "CAP_ARGS must be a JSON object mapping capability names to values, not an array"),
        ('"text"', [], "CAP_ARGS must be a JSON object mapping capability names to values, not a string"),
        ("42", [], "CAP_ARGS must be a JSON object mapping capability names to values, not a number"),
        (None, ["portMappings"], 'invalid --cap "portMappings": expected NAME=JSON'),
        (None, ["portMappings={"], 'invalid --cap "portMappings={": the value is not valid JSON'),
    ],
)
def test_req_07_bad_cap_args_before_any_plugin(env: Env, cnitool, netns: str, cap_args: str | None, caps: list[str],
                                               message: str) -> None:
    """REQ-07: CAP_ARGS must be a JSON object; a bad --cap too: exit 2, no plugin runs."""
    env.plugin("marker")
    env.network("net1", [{"type": "marker", "capabilities": {"portMappings": True}}])
    vars_ = {**env.vars, "CAP_ARGS": cap_args} if cap_args is not None else env.vars
    options = [item for cap in caps for item in ("--cap", cap)]
    run = cnitool("add", "-o", "json", *options, "net1", netns, env=vars_)
    assert run.returncode == 2, run
    error = error_object(run)
    assert error["msg"].startswith(message), error
    assert error["kind"] == "invalid-argument"
    assert env.calls() == []


def test_req_07_infinite_number_in_cap_args_is_not_json(env: Env, cnitool, netns: str) -> None:
    """REQ-07: ``1e999`` overflows float64: Go's decoder rejects it; it must never reach a plugin as ``Infinity``."""
    env.plugin("marker")
    env.network("net1", [{"type": "marker", "capabilities": {"x": True}}])
    for vars_, options in (({**env.vars, "CAP_ARGS": '{"x": 1e999}'}, []), (env.vars, ["--cap", "x=1e999"])):
        run = cnitool("add", "-o", "json", *options, "net1", netns, env=vars_)
        assert run.returncode == 2, run
        assert env.calls() == []


def test_req_07_lone_surrogate_in_cap_args_is_not_an_internal_error(env: Env, cnitool, netns: str) -> None:
    """REQ-07: ``"\\ud800"`` in CAP_ARGS is valid JSON text; Go decodes it to U+FFFD. It must not crash us (exit 70)."""
    env.plugin("marker")
    env.network("net1", [{"type": "marker", "capabilities": {"x": True}}])
    run = cnitool("add", "-o", "json", "net1", netns, env={**env.vars, "CAP_ARGS": '{"x": "\\ud800"}'})
    assert run.returncode == 0, run
    assert env.stdin("marker", "ADD")["runtimeConfig"] == {"x": "\ufffd"}
    assert cnitool("del", "-o", "json", "net1", netns, env=env.vars).returncode == 0


@pytest.mark.parametrize(
    ("ifname", "message"),
    [
        ("abcdefghijklmnop", 'interface name "abcdefghijklmnop" is too long: at most 15 bytes'),
        ("a/b", "interface name \"a/b\" contains an invalid character '/'"),
        ("..", 'interface name ".." is not allowed'),
        (".", 'interface name "." is not allowed'),
        ("e th0", "interface name \"e th0\" contains an invalid character ' '"),
        ("eth:0", "interface name \"eth:0\" contains an invalid character ':'"),
    ],
)
@pytest.mark.parametrize("how", ["option", "env"])
@pytest.mark.parametrize("verb", ["add", "check", "del"])
def test_val_03_bad_interface_name(env: Env, cnitool, netns: str, ifname: str, message: str, how: str, verb: str) -> None:
    """VAL-03, VAL-05: a bad interface name from ``-i`` or CNI_IFNAME: exit 2 on every verb, no plugin runs."""
    env.plugin("marker")
    env.network("net1", [{"type": "marker"}])
    vars_ = {**env.vars, "CNI_IFNAME": ifname} if how == "env" else env.vars
    options = ["-i", ifname] if how == "option" else []
    run = cnitool(verb, "-o", "json", *options, "net1", netns, env=vars_)
    assert run.returncode == 2, run
    error = error_object(run)
    assert error["msg"] == message
    assert (error["kind"], error["code"]) == ("invalid-argument", 4)
    assert env.calls() == []


@pytest.mark.parametrize("verb", ["add", "check", "del"])
@pytest.mark.parametrize(
    ("network", "container_id", "message"),
    [
        ("../x", None, 'invalid characters found in network name "../x"'),
        ("-net", None, 'invalid characters found in network name "-net"'),
        ("net1", "../../x", 'invalid characters in containerID "../../x"'),
        ("net1", "a b", 'invalid characters in containerID "a b"'),
        ("net1", "_x", 'invalid characters in containerID "_x"'),
    ],
)
def test_val_01_val_02_val_05_bad_names_on_every_verb(env: Env, cnitool, netns: str, verb: str, network: str,
                                                      container_id: str | None, message: str) -> None:
    """VAL-01, VAL-02, VAL-05: bad network names and container IDs are refused (exit 2) on add, check and del."""
    env.plugin("marker")
    env.network("net1", [{"type": "marker"}])
    env.network(network, [{"type": "marker"}], file="other.conflist")  # so the lookup could find it
    options = ["--container-id", container_id] if container_id is not None else []
    run = cnitool(verb, "-o", "json", *options, "--", network, netns, env=env.vars)
    assert run.returncode == 2, run
    assert error_object(run)["msg"] == message
    assert env.calls() == []


@pytest.mark.parametrize("verb", ["check", "del"])
def test_val_05_network_named_dotdot_never_touches_files_outside_the_cache(env: Env, cnitool, netns: str,
                                                                          verb: str) -> None:
    """VAL-05 OURS: ``../x`` as network name would make results/../x-ID-eth0 = a file beside results/."""
    from cnitool.core.runtime import container_id_for_netns

    container_id = container_id_for_netns(netns)
    (env.cache_dir / "results").mkdir(mode=0o700)
    victim = env.cache_dir / f"x-{container_id}-eth0"
    victim.write_text(json.dumps({"kind": "cniCacheV1", "result": RESULT_1_0}))
    env.plugin("marker")
    env.network("../x", [{"type": "marker"}])
    run = cnitool(verb, "-o", "json", "../x", netns, env=env.vars)
    assert run.returncode == 2, run
    assert error_object(run)["msg"] == 'invalid characters found in network name "../x"'
    assert victim.exists()
    assert env.calls() == []


# ----------------------------------------------------------------------------- configs


BROKEN = '{"cniVersion": "1.0.0",\n "name": "broken",\n "plugins": [{"type": "marker"},]}\n'


def test_load_06_broken_json_config_names_file_line_column(env: Env, cnitool, netns: str) -> None:
    """LOAD-06, LOAD-05: a trailing comma is an error with file:line:column; as a skipped file it is a warning."""
    env.plugin("marker")
    broken = env.conf_dir / "broken.conflist"
    broken.write_text(BROKEN)
    env.network("zgood", [{"type": "marker"}])

    run = cnitool("add", "-o", "json", "broken", netns, env=env.vars)
    assert run.returncode == 3, run
    error = error_object(run)
    assert error["msg"] == f'no net configuration with name "broken" in {env.conf_dir}'
    assert f"{broken}:3:33: invalid JSON" in error["details"]
    assert env.calls() == []

    run = cnitool("add", "-o", "table", "broken", netns, env=env.vars)
    assert run.returncode == 3, run
    assert f"{broken}:3:33" in flat(panel(run))

    # Another network is still found; the broken file is a warning line naming the position.
    run = cnitool("add", "-o", "json", "zgood", netns, env=env.vars)
    assert run.returncode == 0, run
    warnings = [line for line in run.stderr_json_lines() if line["level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["msg"].startswith(f"skipped {broken}:3:33: invalid JSON")
    assert cnitool("del", "-o", "json", "zgood", netns, env=env.vars).returncode == 0


def test_load_06_broken_json_config_shows_the_offending_line(env: Env, cnitool, netns: str) -> None:
    """LOAD-06: "reported with file, line, column and the offending line" (with a caret under the column)."""
    env.plugin("marker")
    (env.conf_dir / "broken.conflist").write_text(BROKEN)
    run = cnitool("add", "-o", "json", "broken", netns, env=env.vars)
    assert run.returncode == 3, run
    details = error_object(run)["details"]
    assert details.endswith('\n     "plugins": [{"type": "marker"},]}\n' + " " * 36 + "^"), details
    run = cnitool("add", "-o", "table", "broken", netns, env=env.vars)
    assert ' "plugins": [{"type": "marker"},]}' in run.stderr, run


def test_load_06_comment_is_an_error(env: Env, cnitool, netns: str) -> None:
    """LOAD-06: comments are not JSON."""
    env.plugin("marker")
    commented = env.conf_dir / "c.conflist"
    commented.write_text('{\n  // a comment\n  "name": "c", "cniVersion": "1.0.0", "plugins": [{"type": "marker"}]\n}\n')
    run = cnitool("add", "-o", "json", "c", netns, env=env.vars)
    assert run.returncode == 3, run
    assert f"{commented}:2:3: invalid JSON" in error_object(run)["details"]
    assert env.calls() == []


# ----------------------------------------------------------------------------- timeout and rollback


def test_exec_09_add_02_timeout_kills_reports_and_rolls_back(env: Env, cnitool, netns: str) -> None:
    """EXEC-09, ADD-02: a hung plugin is killed after --timeout (exit 4); the message names plugin and
    verb; every started plugin, the timed-out one included, gets DEL in reverse order."""
    pid_file = env.log_dir / "slow.pid"
    env.plugin("first")
    env.plugin("slow", extra=f'if [ "$CNI_COMMAND" = ADD ]; then echo $$ > "{pid_file}"; echo waiting >&2; sleep 60; fi')
    env.network("net1", [{"type": "first"}, {"type": "slow"}])

    started = time.monotonic()
    run = cnitool("add", "-o", "json", "--timeout", "1", "net1", netns, env=env.vars, timeout=30)
    elapsed = time.monotonic() - started
    assert run.returncode == 4, run
    assert elapsed < 15
    error = error_object(run)
    assert error["msg"] == 'plugin type="slow" timed out after 1s (add)'
    assert (error["plugin"], error["command"], error["kind"]) == ("slow", "ADD", "plugin-timeout")
    assert error["stderr"] == "waiting\n"
    assert env.calls() == ["first ADD", "slow ADD", "slow DEL", "first DEL"]
    assert not Path(f"/proc/{pid_file.read_text().strip()}/cmdline").exists() or _is_zombie(int(pid_file.read_text()))
    assert env.cache_files() == []

    run = cnitool("add", "-o", "table", "--timeout", "1", "net1", netns, env=env.vars, timeout=30)
    assert run.returncode == 4, run
    text = flat(panel(run))
    assert "ADD failed (plugin-timeout)" in text
    assert "raise it with --timeout" in text


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_add_02_rollback_in_reverse_order_with_last_good_result(env: Env, cnitool, netns: str) -> None:
    """ADD-02: plugins 1..3, the third fails: DEL goes 3, 2, 1 with the last good result as prevResult."""
    env.plugin("one", add={"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.1/24"}]})
    env.plugin("two", add={"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}]})
    env.raw_plugin("three", 'cat > /dev/null\n[ "$CNI_COMMAND" = ADD ] && { echo \'{"code":11,"msg":"later"}\'; exit 1; }\nexit 0\n')
    env.network("net1", [{"type": "one"}, {"type": "two"}, {"type": "three"}])

    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    assert error_object(run)["rollback_errors"] == []
    assert env.calls() == ["one ADD", "two ADD", "three ADD", "three DEL", "two DEL", "one DEL"]
    assert env.stdin("one", "DEL")["prevResult"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}]}
    assert env.cache_files() == []


def test_add_02_no_rollback_keeps_the_half_built_state(env: Env, cnitool, netns: str) -> None:
    """ADD-02: ``--no-rollback`` skips the DEL calls."""
    env.plugin("one")
    env.raw_plugin("two", 'echo \'{"code":11,"msg":"later"}\'\nexit 1\n')
    env.network("net1", [{"type": "one"}, {"type": "two"}])
    run = cnitool("add", "-o", "json", "--no-rollback", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    assert error_object(run)["msg"] == 'plugin type="two" failed (add): later'
    assert env.calls() == ["one ADD", "two ADD"]


def test_add_02_rollback_failure_is_reported(env: Env, cnitool, netns: str) -> None:
    """ADD-02: a DEL that fails during rollback is reported with the ADD's error, in both renderers."""
    env.plugin("one", extra='[ "$CNI_COMMAND" = DEL ] && { echo \'{"code":5,"msg":"stuck"}\'; exit 1; }')
    env.raw_plugin("two", 'echo \'{"code":11,"msg":"later"}\'\nexit 1\n')
    env.network("net1", [{"type": "one"}, {"type": "two"}])
    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 1, run
    error = error_object(run)
    assert error["msg"] == 'plugin type="two" failed (add): later'
    assert 'plugin type="one" failed (delete): stuck' in error["rollback_errors"]

    run = cnitool("add", "-o", "table", "net1", netns, env=env.vars)
    assert 'Rollback also failed: plugin type="one" failed (delete): stuck' in flat(panel(run))


# ----------------------------------------------------------------------------- what plugins get


def test_exec_08_successful_plugin_stderr_is_passed_on(env: Env, cnitool, netns: str) -> None:
    """EXEC-08: a successful plugin's stderr reaches our stderr, labelled with the plugin (a JSON line with -o json);
    EXEC-05: stdout and stderr are captured separately (the stderr text never spoils the JSON result)."""
    env.plugin("talky", extra='echo "note from [talky]" >&2')
    env.network("net1", [{"type": "talky", "name": "t1"}])

    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 0, run
    # "plugin" is the type, as in error objects.
    assert run.stderr_json_lines() == [{"level": "info", "plugin": "talky", "stderr": "note from [talky]"}]
    assert json.loads(run.stdout) == RESULT_1_0

    run = cnitool("del", "-o", "table", "net1", netns, env=env.vars)
    assert run.returncode == 0, run
    assert run.stderr == "[talky] note from [talky]\n"


def test_exec_03_environment_each_plugin_sees(env: Env, cnitool, netns: str, tmp_path: Path) -> None:
    """EXEC-03: the caller's environment plus every CNI_* variable, overriding inherited values."""
    env.plugin("seer")
    env.network("net1", [{"type": "seer"}])
    second = tmp_path / "more-plugins"
    vars_ = {
        **env.vars,
        "CNI_PATH": f"{env.plugin_dir}:{second}",
        "CNI_COMMAND": "VERSION",
        "CNI_CONTAINERID": "inherited",
        "CNI_NETNS": "/inherited",
        "CNIT_MARK": "kept",
    }
    args = ["--container-id", "ctr-1", "-i", "net7", "--arg", "K1=v1", "--arg", "K2=a=b"]
    run = cnitool("add", "-o", "json", *args, "net1", netns, env=vars_)
    assert run.returncode == 0, run
    seen = env.plugin_env("seer", "ADD")
    assert seen["CNI_COMMAND"] == "ADD"
    assert seen["CNI_CONTAINERID"] == "ctr-1"
    assert seen["CNI_NETNS"] == netns
    assert seen["CNI_IFNAME"] == "net7"
    assert seen["CNI_ARGS"] == "K1=v1;K2=a=b"
    assert seen["CNI_PATH"] == f"{env.plugin_dir}:{second}"
    assert seen["CNIT_MARK"] == "kept"

    run = cnitool("del", "-o", "json", *args, "net1", netns, env=vars_)
    assert run.returncode == 0, run
    seen = env.plugin_env("seer", "DEL")
    assert (seen["CNI_COMMAND"], seen["CNI_CONTAINERID"], seen["CNI_IFNAME"]) == ("DEL", "ctr-1", "net7")

    # Without --arg: CNI_ARGS from the environment, passed on; DEL without any uses the ones cached at ADD.
    run = cnitool("add", "-o", "json", "net1", netns, env={**env.vars, "CNI_ARGS": "IgnoreUnknown=1;X=y"})
    assert run.returncode == 0, run
    assert env.plugin_env("seer", "ADD")["CNI_ARGS"] == "IgnoreUnknown=1;X=y"
    assert cnitool("del", "-o", "json", "net1", netns, env=env.vars).returncode == 0
    assert env.plugin_env("seer", "DEL")["CNI_ARGS"] == "IgnoreUnknown=1;X=y"
    # Nothing cached any more and nothing given: CNI_ARGS is still set, empty.
    assert cnitool("del", "-o", "json", "net1", netns, env=env.vars).returncode == 0
    assert env.plugin_env("seer", "DEL")["CNI_ARGS"] == ""


def test_req_01_02_03_request_config_on_stdin(env: Env, cnitool, netns: str) -> None:
    """EXEC-05 (stdin is the request config), REQ-01 (name, cniVersion, unknown keys kept), REQ-02 (runtimeConfig only for declared capabilities),
    REQ-03 (prevResult: none for the first ADD, the previous result for the next, the cached one on DEL)."""
    first_result = {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.1/24"}]}
    final_result = {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}]}
    env.plugin("one", add=first_result)
    env.plugin("two", add=final_result)
    env.network("reqnet", [
        {"type": "one", "custom": {"z": 1, "a": [True, None]}, "capabilities": {"portMappings": True, "mac": False}},
        {"type": "two", "runtimeConfig": {"static": 1}, "capabilities": {"bandwidth": True}},
    ])
    cap_args = json.dumps({"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
                           "mac": "00:11:22:33:44:55", "ips": ["10.0.0.9/24"]})
    run = cnitool("add", "-o", "json", "reqnet", netns, env={**env.vars, "CAP_ARGS": cap_args})
    assert run.returncode == 0, run
    assert json.loads(run.stdout) == final_result

    one = env.stdin("one", "ADD")
    assert one == {
        "cniVersion": "1.0.0",
        "name": "reqnet",
        "type": "one",
        "custom": {"z": 1, "a": [True, None]},
        "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]},
    }
    two = env.stdin("two", "ADD")
    # No capability of "two" was supplied: its static runtimeConfig stays as written.
    assert two == {"cniVersion": "1.0.0", "name": "reqnet", "type": "two", "runtimeConfig": {"static": 1},
                   "prevResult": first_result}

    # DEL: prevResult is the cached final result, for every plugin, in reverse order.
    run = cnitool("del", "-o", "json", "reqnet", netns, env={**env.vars, "CAP_ARGS": cap_args})
    assert run.returncode == 0, run
    assert env.calls() == ["one ADD", "two ADD", "two DEL", "one DEL"]
    assert env.stdin("two", "DEL")["prevResult"] == final_result
    assert env.stdin("one", "DEL")["prevResult"] == final_result
    assert env.stdin("one", "DEL")["runtimeConfig"] == one["runtimeConfig"]
    assert env.cache_files() == []


def test_req_02_supplied_capability_replaces_static_runtime_config(env: Env, cnitool) -> None:
    """REQ-02: once a declared capability is supplied, runtimeConfig holds only the supplied ones."""
    env.plugin("bw")
    env.network("net1", [{"type": "bw", "runtimeConfig": {"static": 1}, "capabilities": {"bandwidth": True}}])
    run = cnitool("del", "-o", "json", "--cap", 'bandwidth={"ingressRate": 1000}', "net1",
                  "/var/run/netns/nonexistent-cnit", env=env.vars)
    assert run.returncode == 0, run
    assert env.stdin("bw", "DEL")["runtimeConfig"] == {"bandwidth": {"ingressRate": 1000}}


def test_req_01_network_without_version_passes_empty_string(env: Env, cnitool) -> None:
    """REQ-01: a network with neither cniVersion nor cniVersions passes ``""`` as the reference does."""
    env.plugin("old")
    env.network("net1", [{"type": "old"}], version=None)
    run = cnitool("del", "-o", "json", "net1", "/var/run/netns/nonexistent-cnit", env=env.vars)
    assert run.returncode == 0, run
    assert env.stdin("old", "DEL") == {"cniVersion": "", "name": "net1", "type": "old"}


def test_exec_04_plugin_runs_in_the_callers_network_namespace(env: Env, cnitool, netns: str) -> None:
    """EXEC-04: the plugin runs in cnitool's own network namespace, never inside the container's
    (it enters CNI_NETNS itself): it records the namespace it runs in."""
    marker = env.log_dir / "netns-seen"
    env.plugin("where", extra=f"readlink /proc/self/ns/net > {marker}\n")
    env.network("net1", [{"type": "where"}])
    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 0, run
    seen = marker.read_text().strip()
    assert seen == os.readlink("/proc/self/ns/net")  # the tests run where cnitool runs
    target = os.stat(netns)
    assert seen != f"net:[{target.st_ino}]"
    assert cnitool("del", "-o", "json", "net1", netns, env=env.vars).returncode == 0


def test_req_02_a_capability_nobody_declares_is_reported_not_silently_dropped(env: Env, cnitool, netns: str) -> None:
    """REQ-02: only declared capabilities reach plugins; a shortcut no plugin declares is a warning."""
    env.plugin("plain")
    env.network("net1", [{"type": "plain"}])
    run = cnitool("add", "-o", "json", "--mac", "02:00:00:00:00:09", "net1", netns, env=env.vars)
    assert run.returncode == 0, run
    [warning] = run.stderr_json_lines()
    assert warning["level"] == "warning"
    assert warning["msg"].startswith('capability "mac" was given but no plugin of network "net1" declares it')
    assert "runtimeConfig" not in env.stdin("plain", "ADD")
    assert cnitool("del", "-o", "json", "net1", netns, env=env.vars).returncode == 0

    env.plugin("macer")
    env.network("net2", [{"type": "macer", "capabilities": {"mac": True}}])
    run = cnitool("add", "-o", "json", "--mac", "02:00:00:00:00:09", "net2", netns, env=env.vars)
    assert run.returncode == 0, run
    assert run.stderr_json_lines() == []
    assert env.stdin("macer", "ADD")["runtimeConfig"] == {"mac": "02:00:00:00:00:09"}
    assert cnitool("del", "-o", "json", "net2", netns, env=env.vars).returncode == 0


# ----------------------------------------------------------------------------- gc


def test_gc_01_every_error_reported_in_order_and_the_first_sets_the_exit_status(env: Env, cnitool) -> None:
    """GC-01: a damaged cache entry of the network (exit 3) holds plugin GC back; plugin GC errors
    are all reported, in the order they happened, after the JSON document on stdout."""
    env.raw_plugin("a", 'cat >/dev/null; echo \'{"code":5,"msg":"a cannot gc"}\'; exit 1\n')
    env.raw_plugin("b", 'cat >/dev/null; echo \'{"code":7,"msg":"b cannot gc"}\'; exit 1\n')
    env.network("net1", [{"type": "a"}, {"type": "b"}], version="1.1.0")

    run = cnitool("gc", "-o", "json", "net1", env=env.vars)
    assert run.returncode == 1, run
    assert run.json()["pluginGC"] is True
    assert [(e["plugin"], e["code"]) for e in run.stderr_json_lines()] == [("a", 5), ("b", 7)]
    # CLI-05: the errors in the document have the keys of those on stderr.
    assert [set(e) for e in run.json()["errors"]] == [ERROR_FIELDS, ERROR_FIELDS]
    assert env.calls() == ["a GC", "b GC"]

    (env.cache_dir / "results").mkdir()
    (env.cache_dir / "results" / "net1-lost-eth0").write_text('{"kind":"cniCacheV1",')
    damaged = cnitool("gc", "-o", "json", "net1", env=env.vars)
    assert damaged.returncode == 3, damaged
    assert damaged.json()["pluginGC"] is False
    [error] = damaged.stderr_json_lines()
    assert error["kind"] == "cache" and "net1-lost-eth0" in error["msg"]
    assert env.calls() == ["a GC", "b GC"]  # no plugin ran the second time


# ----------------------------------------------------------------------------- the host namespace


@pytest.fixture(params=["proc", "bind-mount"])
def host_netns_path(request, tmp_path: Path) -> Iterator[str]:
    """The host's network namespace: as /proc/self/ns/net, or bind-mounted elsewhere (another path,
    the same nsfs inode)."""
    if request.param == "proc":
        yield "/proc/self/ns/net"
        return
    target = tmp_path / "hostns"
    target.write_text("")
    subprocess.run(["mount", "--bind", "/proc/self/ns/net", str(target)], check=True)
    try:
        yield str(target)
    finally:
        subprocess.run(["umount", str(target)], check=False)


@pytest.mark.parametrize("verb", ["add", "check", "del"])
def test_cli_03_every_verb_refuses_the_host_namespace(env: Env, cnitool, verb: str, host_netns_path: str) -> None:
    """CLI-03: the host's own namespace is refused before any plugin runs, by DEL too (which
    otherwise goes ahead when the namespace is gone): `del NET /proc/self/ns/net -i X` used to
    have the plugins delete the host's link X."""
    victim = f"nuv{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "link", "add", victim, "type", "veth", "peer", "name", victim + "p"], check=True)
    try:
        env.plugin("p", extra='[ "$CNI_COMMAND" = DEL ] && ip link del "$CNI_IFNAME"')
        env.network("net1", [{"type": "p"}])
        run = cnitool(verb, "-o", "json", "net1", host_netns_path, "-i", victim, env=env.vars)
        assert run.returncode == 3, run
        assert "is the host's network namespace" in error_object(run)["msg"]
        assert env.calls() == []
        assert subprocess.run(["ip", "link", "show", victim], capture_output=True).returncode == 0
    finally:
        subprocess.run(["ip", "link", "del", victim], check=False, capture_output=True)
