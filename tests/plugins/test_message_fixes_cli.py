"""Part 3 of the bug report through the real command line: a broken cache entry (CACHE-05), a
cache dir that is a file (CACHE-01), and the plugin-not-found hint (EXEC-02) say what is true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plugin_env import Env, error_object, flat, panel

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating network namespaces needs root")


def test_cache_05_check_of_an_entry_holding_bad_json_says_what_is_wrong(env: Env, cnitool, netns: str) -> None:
    """CHECK-01 / CACHE-05: `{bad` is neither empty nor truncated; the decoder's reason is shown."""
    env.plugin("good")
    env.network("net1", [{"type": "good"}])
    (env.cache_dir / "results").mkdir()
    entry = env.cache_dir / "results" / "net1-c1-eth0"
    entry.write_text("{bad")
    run = cnitool("check", "-o", "json", "--container-id", "c1", "net1", netns, env=env.vars)
    assert run.returncode == 3, run
    assert error_object(run)["msg"] == (
        f'failed to get network "net1" cached result: cache entry {entry} is not valid JSON: '
        "Expecting property name enclosed in double quotes at line 1 column 2")
    entry.write_text('{"kind":"cniCacheV1","containerId":"c1"')
    run = cnitool("check", "-o", "json", "--container-id", "c1", "net1", netns, env=env.vars)
    assert run.returncode == 3, run
    assert error_object(run)["msg"].endswith(f"cache entry {entry} is truncated: its JSON ends unfinished after 39 bytes")
    assert env.calls() == []


@pytest.mark.parametrize("argv", [["add", "net1", "NETNS"], ["del", "net1", "NETNS"], ["check", "net1", "NETNS"],
                                  ["gc", "net1"], ["show", "--all"]], ids=lambda argv: argv[0])
def test_cache_01_cache_dir_that_is_a_file_is_named_as_such(env: Env, cnitool, netns: str, tmp_path: Path,
                                                           argv: list[str]) -> None:
    """CACHE-01: exit 3, "… is not a directory" naming the file, not "File exists"; nothing runs."""
    env.plugin("good")
    env.network("net1", [{"type": "good"}])
    not_a_dir = tmp_path / "cache-file"
    not_a_dir.write_text("")
    argv = [netns if word == "NETNS" else word for word in argv]
    run = cnitool(argv[0], "-o", "json", "--cache-dir", str(not_a_dir), *argv[1:], env=env.vars)
    assert run.returncode == 3, run
    error = error_object(run)
    assert error["kind"] == "cache"
    assert error["msg"].startswith(f"cannot use cache directory {not_a_dir}/")
    assert error["msg"].endswith(f": {not_a_dir} is not a directory")
    assert "--cache-dir" in error["hint"]
    assert env.calls() == []


def test_exec_02_not_found_hint_names_only_executable_files(env: Env, cnitool, netns: str) -> None:
    """EXEC-02: a plugin dir full of other things (/tmp as CNI_PATH) lists its executables only."""
    env.network("net1", [{"type": "brige"}])
    env.plugin("bridge")
    (env.plugin_dir / "bash_jobs.0").mkdir()
    (env.plugin_dir / "add2.json").write_text("{}")
    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars)
    assert run.returncode == 3, run
    error = error_object(run)
    assert error["kind"] == "plugin-not-found"
    assert error["hint"] == (f"{env.plugin_dir}: bridge (2 other entries are not executable files)\n"
                             "did you mean: bridge?")

    run = cnitool("add", "-o", "table", "net1", netns, env=env.vars)
    assert run.returncode == 3, run
    text = flat(panel(run))
    assert "bridge (2 other entries are not executable files)" in text
    assert "bash_jobs.0" not in text and "add2.json" not in text
