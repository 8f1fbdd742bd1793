"""LOAD-12 through the command line: ``--conf-file PATH`` and ``--conf-file -`` (stdin) bypass
the config directories; the network named must be the one the file defines; DEL of such an
attachment later finds the config cached with it (DEL-01 OURS)."""

from __future__ import annotations

import json
import os

import pytest

from plugin_env import RESULT_1_0, Env, error_object, write_json

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating network namespaces needs root")


def test_load_12_conf_file_add_then_del_from_the_cache(env: Env, cnitool, netns: str, tmp_path) -> None:
    env.plugin("p")
    outside = write_json(tmp_path / "elsewhere.conflist",
                         {"cniVersion": "1.0.0", "name": "direct", "plugins": [{"type": "p", "marker": 1}]})
    added = cnitool("add", "-o", "json", "--conf-file", str(outside), "direct", netns, env=env.vars)
    assert added.returncode == 0, added
    assert added.json() == RESULT_1_0
    assert env.stdin("p", "ADD")["marker"] == 1

    deleted = cnitool("del", "-o", "json", "direct", netns, env=env.vars)  # not in NETCONFPATH
    assert deleted.returncode == 0, deleted
    assert any("using the config cached with the attachment" in line["msg"] for line in deleted.stderr_json_lines())
    assert env.stdin("p", "DEL")["marker"] == 1
    assert env.cache_files() == []


def test_load_12_conf_file_from_stdin(env: Env, cnitool, netns: str) -> None:
    env.plugin("p")
    document = {"cniVersion": "1.0.0", "name": "piped", "type": "p", "marker": 2}  # a single .conf
    added = cnitool("add", "-o", "json", "--conf-file", "-", "piped", netns, env=env.vars, input=json.dumps(document))
    assert added.returncode == 0, added
    assert env.stdin("p", "ADD")["marker"] == 2
    deleted = cnitool("del", "-o", "json", "--conf-file", "-", "piped", netns, env=env.vars, input=json.dumps(document))
    assert deleted.returncode == 0, deleted
    assert env.calls() == ["p ADD", "p DEL"]


def test_load_12_the_named_network_must_be_the_one_given(env: Env, cnitool, netns: str, tmp_path) -> None:
    env.plugin("p")
    path = write_json(tmp_path / "x.conf", {"cniVersion": "1.0.0", "name": "other", "type": "p"})
    from_file = cnitool("add", "-o", "json", "--conf-file", str(path), "mine", netns, env=env.vars)
    assert from_file.returncode == 2, from_file
    assert error_object(from_file)["msg"] == f'{path} defines network "other", not "mine"'
    from_stdin = cnitool("add", "-o", "json", "--conf-file", "-", "mine", netns, env=env.vars,
                         input=path.read_text())
    assert from_stdin.returncode == 2, from_stdin
    assert error_object(from_stdin)["msg"] == 'the config on stdin defines network "other", not "mine"'
    assert env.calls() == []
