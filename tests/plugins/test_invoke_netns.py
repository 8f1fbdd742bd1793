"""``cnitool invoke PLUGIN VERB NETNS``: the namespace is checked before the plugin runs (CLI-03).

invoke never creates a namespace: it is one plugin call with no cleanup afterwards, so a namespace
it made would outlive it, and a typo in NETNS would go unnoticed. A NETNS that does not exist, is
not a network namespace or is the host's own is refused with exit 3 and nothing runs (the bridge
plugin used to build its bridge on the host before failing on the missing namespace). DEL is the
exception, as for ``cnitool del``: a plugin author must be able to try a DEL whose namespace is
gone (DEL-01), but never one against the host's namespace.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from plugin_env import Env, error_object, flat, panel

REQUEST = '{"cniVersion":"1.0.0","name":"n","type":"spy"}'


@pytest.fixture
def missing() -> str:
    """A bare name no namespace has."""
    name = f"cnit-none-{uuid.uuid4().hex[:8]}"
    assert not os.path.lexists(f"/var/run/netns/{name}")
    return name


@pytest.mark.parametrize("verb", ["ADD", "CHECK"])
def test_cli_03_invoke_refuses_a_namespace_that_does_not_exist(env: Env, cnitool, missing: str, verb: str) -> None:
    env.plugin("spy")
    run = cnitool("invoke", "spy", verb, missing, "--conf", "-", "-o", "json", env=env.vars, input=REQUEST)
    assert run.returncode == 3, run
    assert run.stdout == ""
    error = error_object(run)
    assert error["kind"] == "netns"
    assert error["msg"] == f'network namespace "/var/run/netns/{missing}" does not exist'
    assert f"cnitool netns add {missing}" in error["hint"] and f"ip netns add {missing}" in error["hint"]
    assert env.calls() == []  # the plugin never ran
    assert not os.path.lexists(f"/var/run/netns/{missing}")  # and nothing was created


def test_cli_03_invoke_missing_namespace_table_shows_the_hint(env: Env, cnitool, missing: str) -> None:
    env.plugin("spy")
    run = cnitool("invoke", "spy", "ADD", missing, "--conf", "-", "-o", "table", env=env.vars, input=REQUEST)
    assert run.returncode == 3, run
    assert f"cnitool netns add {missing}" in flat(panel(run))
    assert env.calls() == []


@pytest.mark.parametrize("verb", ["ADD", "DEL"])
def test_cli_03_invoke_refuses_the_hosts_namespace(env: Env, cnitool, verb: str) -> None:
    env.plugin("spy")
    run = cnitool("invoke", "spy", verb, "/proc/self/ns/net", "--conf", "-", "-o", "json", env=env.vars,
                  input=REQUEST)
    assert run.returncode == 3, run
    assert "is the host's network namespace" in error_object(run)["msg"]
    assert env.calls() == []


def test_cli_03_invoke_refuses_a_file_that_is_no_namespace(env: Env, cnitool, tmp_path: Path) -> None:
    env.plugin("spy")
    plain = tmp_path / "not-a-netns"
    plain.write_text("")
    run = cnitool("invoke", "spy", "ADD", str(plain), "--conf", "-", "-o", "json", env=env.vars, input=REQUEST)
    assert run.returncode == 3, run
    assert error_object(run)["msg"] == f'"{plain}" is not a network namespace'
    assert env.calls() == []


def test_del_01_invoke_del_runs_when_the_namespace_is_gone(env: Env, cnitool, missing: str) -> None:
    env.plugin("spy")
    run = cnitool("invoke", "spy", "DEL", missing, "--conf", "-", "-o", "json", env=env.vars, input=REQUEST)
    assert run.returncode == 0, run
    assert env.calls() == ["spy DEL"]
    assert env.plugin_env("spy", "DEL")["CNI_NETNS"] == f"/var/run/netns/{missing}"
    assert not os.path.lexists(f"/var/run/netns/{missing}")
