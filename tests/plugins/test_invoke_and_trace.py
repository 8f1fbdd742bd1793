"""Issue 4 for plugin authors: ``cnitool invoke`` and ``--trace`` / ``--trace-file``.

Both show each plugin call as the plugin saw it (CNI_* environment, stdin) and as it answered
(stdout, stderr, exit status, duration). The fake plugins record what they really received, so
each test compares the trace with the plugin's own record, not with our output alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from plugin_env import RESULT_1_0, Env, error_object

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating network namespaces needs root")

REAL_PLUGIN_DIR = Path("/usr/lib/cni")
RECORD_FIELDS = {"plugin", "path", "command", "env", "stdin", "outcome", "exitStatus", "durationSeconds",
                 "stdout", "stderr"}


def cni_env(record: dict) -> dict[str, str]:
    return {key: value for key, value in record["env"].items() if key.startswith("CNI_")}


# ------------------------------------------------------------------------------------- invoke


def test_invoke_version_json_record_matches_what_the_plugin_got(env: Env, cnitool) -> None:
    env.plugin("spy", extra='[ "$CNI_COMMAND" = VERSION ] && echo \'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\'')
    run = cnitool("invoke", "spy", "version", "-o", "json", env=env.vars)
    assert run.returncode == 0, run
    record = run.json()
    assert set(record) == RECORD_FIELDS
    assert record["plugin"] == "spy" and record["command"] == "VERSION"
    assert record["path"] == str(env.plugin_dir / "spy")
    assert record["outcome"] == "exited" and record["exitStatus"] == 0 and record["durationSeconds"] > 0
    assert json.loads(record["stdout"]) == {"cniVersion": "1.0.0", "supportedVersions": ["1.0.0"]}
    assert json.loads(record["stdin"]) == env.stdin("spy", "VERSION") == {"cniVersion": "1.1.0"}
    seen = env.plugin_env("spy", "VERSION")
    assert record["env"] == {key: seen[key] for key in record["env"]}
    assert seen["CNI_COMMAND"] == "VERSION" and seen["CNI_NETNS"] == "dummy"


def test_invoke_add_sends_the_conf_as_given_and_exits_with_the_plugins_status(env: Env, cnitool, netns: str,
                                                                            tmp_path: Path) -> None:
    """The request config is passed byte for byte (no name/version rewriting, no chaining); the
    attachment comes from NETNS as for add; the plugin's exit status is invoke's."""
    request = b'{"cniVersion":"1.0.0","name":"n","type":"spy", "odd":  [1,2]}\n'
    (tmp_path / "request.json").write_bytes(request)
    env.plugin("spy", extra='[ "$CNI_COMMAND" = DEL ] && { echo \'{"code":11,"msg":"later"}\'; echo oops >&2; exit 3; }')

    run = cnitool("invoke", "spy", "ADD", netns, "--conf", str(tmp_path / "request.json"), "-i", "net7",
                  "--arg", "K8S_POD_NAME=p", "-o", "json", env=env.vars)
    assert run.returncode == 0, run
    record = run.json()
    assert (env.log_dir / "spy.ADD.stdin").read_bytes() == request
    assert record["stdin"] == request.decode()
    assert json.loads(record["stdout"]) == RESULT_1_0
    seen = env.plugin_env("spy", "ADD")
    assert {key: seen[key] for key in ("CNI_COMMAND", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH")} == {
        "CNI_COMMAND": "ADD", "CNI_NETNS": netns, "CNI_IFNAME": "net7", "CNI_ARGS": "K8S_POD_NAME=p",
        "CNI_PATH": str(env.plugin_dir)}
    assert seen["CNI_CONTAINERID"].startswith("cnitool-")  # derived from NETNS as for add (CLI-02)
    assert cni_env(record) == {key: seen[key] for key in cni_env(record)}
    assert env.cache_files() == []  # no cache: invoke is one plugin call, nothing else

    failed = cnitool("invoke", "spy", "DEL", netns, "--conf", "-", "-o", "json", env=env.vars, input=request.decode())
    assert failed.returncode == 3, failed
    record = failed.json()
    assert record["exitStatus"] == 3 and record["stderr"] == "oops\n"
    assert json.loads(record["stdout"]) == {"code": 11, "msg": "later"}
    assert env.calls() == ["spy ADD", "spy DEL"]


def test_invoke_table_shows_env_stdin_and_stdout(env: Env, cnitool, netns: str, tmp_path: Path) -> None:
    (tmp_path / "request.json").write_text('{"cniVersion":"1.0.0","name":"n","type":"spy"}')
    env.plugin("spy", extra='echo "to stderr" >&2')
    run = cnitool("invoke", "spy", "ADD", netns, "--conf", str(tmp_path / "request.json"), "-o", "table", env=env.vars)
    assert run.returncode == 0, run
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"── ADD spy ({env.plugin_dir / 'spy'}): exit 0 in ")
    assert lines[1].startswith("   env:    CNI_COMMAND=ADD ") and f"CNI_NETNS={netns}" in lines[1]
    assert lines[2] == '   stdin:  {"cniVersion":"1.0.0","name":"n","type":"spy"}'
    assert lines[3] == "   stdout: " + json.dumps(RESULT_1_0)
    assert lines[4] == "   stderr: to stderr"


def test_invoke_a_plugin_file_by_path_keeps_cni_path_for_delegation(env: Env, cnitool, tmp_path: Path) -> None:
    """A plugin author's build, outside the plugin path, runs where it is; CNI_PATH still lists
    the plugin path, where its IPAM plugin would be found."""
    build = tmp_path / "build"
    build.mkdir()
    mine = build / "myplugin"
    mine.write_text('#!/bin/sh\nenv > "$0.env"\necho \'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\'\n')
    mine.chmod(0o755)
    run = cnitool("invoke", str(mine), "VERSION", "-o", "json", env=env.vars)
    assert run.returncode == 0, run
    assert run.json()["path"] == str(mine)
    seen = dict(line.split("=", 1) for line in (build / "myplugin.env").read_text().splitlines() if "=" in line)
    assert seen["CNI_COMMAND"] == "VERSION"

    missing = cnitool("invoke", str(build / "nothere"), "VERSION", "-o", "json", env=env.vars)
    assert missing.returncode == 3, missing
    assert error_object(missing)["msg"] == f"no plugin file at {build / 'nothere'}"


def test_invoke_usage_errors_run_nothing(env: Env, cnitool, netns: str) -> None:
    env.plugin("spy")
    no_conf = cnitool("invoke", "spy", "ADD", netns, "-o", "json", env=env.vars)
    assert no_conf.returncode == 2, no_conf
    assert error_object(no_conf)["msg"] == "ADD needs a request config: --conf FILE or --conf -"
    unreadable = cnitool("invoke", "spy", "ADD", netns, "--conf", "/nonexistent.json", "-o", "json", env=env.vars)
    assert unreadable.returncode == 2, unreadable
    assert "cannot read --conf /nonexistent.json" in error_object(unreadable)["msg"]
    missing = cnitool("invoke", "nothere", "VERSION", "-o", "json", env=env.vars)
    assert missing.returncode == 3, missing
    assert error_object(missing)["kind"] == "plugin-not-found"
    assert env.calls() == []


@pytest.mark.skipif(not (REAL_PLUGIN_DIR / "bridge").exists(), reason="reference plugins not installed")
def test_invoke_real_bridge_version(cnitool) -> None:
    run = cnitool("invoke", "bridge", "VERSION", "-o", "json", env={"CNI_PATH": str(REAL_PLUGIN_DIR)})
    assert run.returncode == 0, run
    assert "1.0.0" in json.loads(run.json()["stdout"])["supportedVersions"]


# -------------------------------------------------------------------------------------- trace


def chain(env: Env) -> None:
    env.plugin("first")
    env.plugin("second", add={"cniVersion": "1.0.0", "ips": [{"address": "10.1.2.4/24"}]})
    env.network("net1", [{"type": "first"}, {"type": "second"}])


def test_trace_json_lines_on_stderr_one_per_call_as_the_plugins_saw_them(env: Env, cnitool, netns: str) -> None:
    """--trace with -o json: one {"level": "trace"} object per plugin call on stderr, in call
    order; stdout still holds only the result."""
    chain(env)
    run = cnitool("add", "--trace", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 0, run
    assert run.json()["ips"] == [{"address": "10.1.2.4/24"}]
    records = run.stderr_json_lines()
    assert [(r["level"], r["plugin"], r["command"]) for r in records] == [
        ("trace", "first", "ADD"), ("trace", "second", "ADD")]
    for record in records:
        name = record["plugin"]
        assert json.loads(record["stdin"]) == env.stdin(name, "ADD")
        seen = env.plugin_env(name, "ADD")
        assert set(cni_env(record)) == {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS",
                                        "CNI_PATH"}
        assert cni_env(record) == {key: seen[key] for key in cni_env(record)}
        assert record["exitStatus"] == 0 and record["outcome"] == "exited"
    assert json.loads(records[1]["stdin"])["prevResult"] == RESULT_1_0  # what chaining really sent


def test_trace_text_on_a_terminal_style_stderr(env: Env, cnitool, netns: str) -> None:
    chain(env)
    run = cnitool("add", "--trace", "-o", "table", "net1", netns, env=env.vars)
    assert run.returncode == 0, run
    headers = [line for line in run.stderr.splitlines() if line.startswith("── ")]
    assert [line.split(":")[0] for line in headers] == [
        f"── ADD first ({env.plugin_dir / 'first'})", f"── ADD second ({env.plugin_dir / 'second'})"]
    assert all(" exit 0 in " in line for line in headers)
    assert "   stdout: " + json.dumps(RESULT_1_0) in run.stderr
    assert "10.1.2.4/24" in run.stdout and "── ADD" not in run.stdout


def test_trace_file_appends_every_call_also_a_failed_add_and_its_rollback(env: Env, cnitool, netns: str,
                                                                        tmp_path: Path) -> None:
    """--trace-file: JSON lines with a timestamp, appended across runs; the failing plugin and
    the rollback's DELs are in it, so a failed chain can be read afterwards."""
    trace = tmp_path / "trace.jsonl"
    env.plugin("first")
    env.raw_plugin("bad", 'cat >/dev/null\n[ "$CNI_COMMAND" = ADD ] && { echo \'{"code":7,"msg":"no"}\'; exit 1; }\n'
                          'exit 0\n')
    env.network("net1", [{"type": "first"}, {"type": "bad"}])
    failed = cnitool("add", "--trace-file", str(trace), "-o", "json", "net1", netns, env=env.vars)
    assert failed.returncode == 1, failed
    assert all(line["level"] != "trace" for line in failed.stderr_json_lines())  # the file only
    env.network("net2", [{"type": "first"}])
    assert cnitool("del", "--trace-file", str(trace), "-o", "json", "net2", netns, env=env.vars).returncode == 0

    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [(r["plugin"], r["command"], r["exitStatus"]) for r in records] == [
        ("first", "ADD", 0), ("bad", "ADD", 1), ("bad", "DEL", 0), ("first", "DEL", 0),  # ADD-02 rollback
        ("first", "DEL", 0),  # the second run, appended
    ]
    assert env.calls() == ["first ADD", "bad ADD", "bad DEL", "first DEL", "first DEL"]
    assert json.loads(records[1]["stdout"]) == {"code": 7, "msg": "no"}
    times = [r["time"] for r in records]
    assert times == sorted(times)


def test_trace_records_a_timeout_and_a_missing_plugin(env: Env, cnitool, netns: str) -> None:
    env.raw_plugin("slow", "exec sleep 30\n")
    env.network("slow-net", [{"type": "slow"}])
    timed_out = cnitool("add", "--trace", "--timeout", "1", "--no-rollback", "-o", "json", "slow-net", netns,
                        env=env.vars)
    assert timed_out.returncode == 4, timed_out
    assert [(r["plugin"], r["outcome"]) for r in timed_out.stderr_json_lines() if r["level"] == "trace"] == [
        ("slow", "timed out or could not start")]

    env.network("gone-net", [{"type": "gone"}])
    missing = cnitool("add", "--trace", "--no-rollback", "-o", "json", "gone-net", netns, env=env.vars)
    assert missing.returncode == 3, missing
    traced = [r for r in missing.stderr_json_lines() if r["level"] == "trace"]
    assert [(r["plugin"], r["path"], r["outcome"]) for r in traced] == [("gone", None, "not found")]
