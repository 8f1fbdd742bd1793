"""JSON nested too deeply, from every place JSON comes in, through the real command line.

A user trial found that one deeply nested config file made every verb exit 70 with
``RecursionError`` (``list``, ``validate``, ``add``/``del`` of an unrelated network). Now that
file is skipped like any broken file (LOAD-05); a plugin printing such a result or VERSION answer
is a plugin error; such a cache entry a cache error (CACHE-05); such CAP_ARGS a usage error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from plugin_env import RESULT_1_0, Env, error_object

from cnitool.core.jsondecode import MAX_NESTING

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating network namespaces needs root")

TOO_DEEP = "nested too deeply"


def arrays(levels: int) -> str:
    return "[" * levels + "]" * levels


def deep_file(env: Env, levels: int = 1000) -> Path:
    path = env.conf_dir / "10-deep.conflist"
    path.write_text('{"cniVersion":"1.0.0","name":"deep","x": ' + arrays(levels) + ',"plugins":[{"type":"bridge"}]}')
    return path


def print_on(verb: str, text: str) -> str:
    """A plugin body line printing ``text`` (from a file: it is large) when CNI_COMMAND is ``verb``."""
    return f'[ "$CNI_COMMAND" = {verb} ] && cat "{text}"'


def test_load_05_a_deep_file_hides_no_other_network_from_any_verb(env: Env, cnitool, netns: str) -> None:
    deep = deep_file(env)
    env.plugin("good")
    env.network("fine", [{"type": "good"}])

    listed = cnitool("list", "-o", "json", env=env.vars)
    assert listed.returncode == 0, listed
    document = listed.json()
    assert [network["name"] for network in document["networks"]] == ["fine"]
    [problem] = document["problems"]
    assert problem["file"] == str(deep) and TOO_DEEP in problem["message"], problem

    validated = cnitool("validate", "-o", "json", env=env.vars)
    assert validated.returncode == 2, validated  # the broken file is an error finding, as for bad JSON
    findings = [finding for finding in validated.json()["findings"] if finding["file"] == str(deep)]
    assert [finding["severity"] for finding in findings] == ["error"]
    assert TOO_DEEP in findings[0]["message"] and findings[0]["line"] == 1
    assert cnitool("validate", "fine", env=env.vars).returncode == 0

    for verb in ("add", "check", "del"):
        run = cnitool(verb, "fine", netns, "-o", "json", env=env.vars)
        assert run.returncode == 0, run
        [warning] = [line for line in run.stderr_json_lines() if line["level"] == "warning"]
        assert str(deep) in warning["msg"] and TOO_DEEP in warning["msg"], run
    assert [call for call in env.calls() if not call.endswith("VERSION")] == ["good ADD", "good CHECK", "good DEL"]
    assert env.cache_files() == []

    asked = cnitool("add", "deep", netns, "-o", "json", env=env.vars)  # the deep one itself: not found
    assert asked.returncode == 3, asked
    assert TOO_DEEP in error_object(asked)["details"]


def test_a_deep_conf_file_given_directly_is_a_config_error(env: Env, cnitool, netns: str) -> None:
    deep = deep_file(env, 100_000)
    run = cnitool("add", "deep", netns, "--conf-file", str(deep), "-o", "json", env=env.vars)
    assert run.returncode == 2, run
    error = error_object(run)
    assert error["kind"] == "config-invalid" and TOO_DEEP in error["msg"]
    assert len(run.stderr) < 2000  # the offending line is shown as an excerpt


def test_a_plugin_printing_a_deep_result_is_a_plugin_error_and_is_rolled_back(env: Env, cnitool, netns: str,
                                                                            tmp_path: Path) -> None:
    text = tmp_path / "deep-result.json"
    text.write_text('{"cniVersion":"1.0.0","ips":' + arrays(100_000) + "}")
    env.plugin("first")
    env.raw_plugin("deep", f'cat >/dev/null\n{print_on("ADD", str(text))}\nexit 0\n')
    env.network("net", [{"type": "first"}, {"type": "deep"}])
    run = cnitool("add", "net", netns, "-o", "json", env=env.vars)
    assert run.returncode == 1, run
    error = error_object(run)
    assert error["kind"] == "plugin-failed" and error["plugin"] == "deep", error
    assert "invalid result" in error["msg"] and TOO_DEEP in error["msg"]
    assert env.calls() == ["first ADD", "deep ADD", "deep DEL", "first DEL"]
    assert env.cache_files() == []


def test_a_plugin_failing_with_a_deep_error_object_is_its_failure(env: Env, cnitool, netns: str,
                                                                  tmp_path: Path) -> None:
    text = tmp_path / "deep-error.json"
    text.write_text('{"code": 7, "msg": ' + arrays(100_000) + "}")
    env.raw_plugin("deep", f'cat >/dev/null\n{print_on("ADD", str(text))}\nexit 1\n')
    env.network("net", [{"type": "deep"}])
    run = cnitool("add", "net", netns, "-o", "json", env=env.vars)
    assert run.returncode == 1, run
    error = error_object(run)
    assert error["kind"] == "plugin-failed" and "not a JSON error object" in error["msg"], error


def test_a_deep_version_answer_is_that_plugins_error(env: Env, cnitool, tmp_path: Path) -> None:
    text = tmp_path / "deep-version.json"
    text.write_text('{"cniVersion":"1.0.0","supportedVersions":' + arrays(100_000) + "}")
    env.raw_plugin("deep", f'cat >/dev/null\n{print_on("VERSION", str(text))}\nexit 0\n')
    env.plugin("good", extra='[ "$CNI_COMMAND" = VERSION ] && echo \'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\'')
    run = cnitool("plugins", "-o", "json", env=env.vars)
    assert run.returncode == 0, run
    assert TOO_DEEP in run.stdout and "internal" not in run.stderr, run
    env.network("net", [{"type": "deep"}, {"type": "good"}])
    validated = cnitool("validate", "net", "-o", "json", env=env.vars)
    assert validated.returncode in (0, 2) and TOO_DEEP in validated.stdout, validated


def test_cache_05_a_deep_cache_entry_is_a_cache_error_and_del_goes_on(env: Env, cnitool, netns: str) -> None:
    env.plugin("good")
    env.network("net", [{"type": "good"}])
    added = cnitool("add", "net", netns, "-o", "json", env=env.vars)
    assert added.returncode == 0, added
    [name] = env.cache_files()
    entry = env.cache_dir / "results" / name
    document = json.loads(entry.read_text())
    entry.write_text(json.dumps(document)[:-1] + ',"extra":' + arrays(100_000) + "}")

    checked = cnitool("check", "net", netns, "-o", "json", env=env.vars)
    assert checked.returncode == 3, checked
    error = error_object(checked)
    assert error["kind"] == "cache" and TOO_DEEP in error["msg"] and str(entry) in error["msg"], error

    shown = cnitool("show", "--all", "-o", "json", env=env.vars)
    assert shown.returncode == 0, shown
    assert str(entry) in shown.stderr  # named as a file that is not a readable entry

    deleted = cnitool("del", "net", netns, "-o", "json", env=env.vars)
    assert deleted.returncode == 0, deleted
    assert env.calls() == ["good ADD", "good DEL"] and env.cache_files() == []
    assert "prevResult" not in env.stdin("good", "DEL")


def test_deep_cap_args_are_a_usage_error_before_any_plugin_runs(env: Env, cnitool, netns: str) -> None:
    env.plugin("good")
    env.network("net", [{"type": "good", "capabilities": {"portMappings": True}}])
    deep = arrays(10_000)  # an argument or variable holds at most 128 KiB
    for extra_env, args in (({"CAP_ARGS": '{"portMappings":' + deep + "}"}, ()), ({}, ("--cap", "portMappings=" + deep))):
        run = cnitool("add", "net", netns, "-o", "json", *args, env={**env.vars, **extra_env})
        assert run.returncode == 2, run
        error = error_object(run)
        assert error["kind"] == "invalid-argument" and TOO_DEEP in error["msg"], error
        assert len(error["msg"]) < 300
    assert env.calls() == []


def test_documents_at_the_limit_go_all_the_way(env: Env, cnitool, netns: str) -> None:
    """The deepest config value and capability argument we accept reach the plugins intact, are
    cached, shown, and used again by DEL."""
    value = arrays(MAX_NESTING - 3)  # file, plugins array, plugin object
    (env.conf_dir / "net.conflist").write_text(
        '{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"good","capabilities":{"deep":true},"x":'
        + value + "}]}")
    env.plugin("good")
    caps = '{"deep":' + arrays(MAX_NESTING - 1) + "}"
    added = cnitool("add", "net", netns, "-o", "json", env={**env.vars, "CAP_ARGS": caps})
    assert added.returncode == 0, added
    assert json.loads(added.stdout) == RESULT_1_0
    request = env.stdin("good", "ADD")
    assert json.dumps(request["x"], separators=(",", ":")) == value
    assert request["runtimeConfig"] == json.loads(caps)
    shown = cnitool("show", "net", netns, "-o", "json", env=env.vars)
    assert shown.returncode == 0, shown
    deleted = cnitool("del", "net", netns, "-o", "json", env=env.vars)  # the cached capability args
    assert deleted.returncode == 0, deleted
    assert env.stdin("good", "DEL")["runtimeConfig"] == json.loads(caps)
    assert env.cache_files() == []


def test_invoke_passes_a_deep_request_config_as_it_is(env: Env, cnitool, netns: str, tmp_path: Path) -> None:
    """invoke parses nothing of what it sends, so a deep --conf is the plugin's business."""
    request = tmp_path / "request.json"
    request.write_text('{"cniVersion":"1.0.0","name":"n","type":"spy","x":' + arrays(100_000) + "}")
    env.plugin("spy")
    run = cnitool("invoke", "spy", "ADD", netns, "--conf", str(request), "-o", "json", env=env.vars)
    assert run.returncode == 0, run
    assert (env.log_dir / "spy.ADD.stdin").read_bytes() == request.read_bytes()
