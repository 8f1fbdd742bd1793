"""``--timeout`` takes a finite number of seconds in (0, one week]; anything else is a usage error.

Bug report: values the old range check let through crashed the tool with exit 70 once a plugin
ran: ``nan`` (``ValueError: cannot convert float NaN to integer``), ``inf``/``1e400``
(``OverflowError``) and ``1e10`` (``OverflowError: timestamp out of range`` from the selector).
EXEC-09 (the per-call timeout) and CLI-05 (bad usage exits 2, one JSON object with ``-o json``).

Every value goes through the real command line, before and after the verb, on every command
that runs plugins; a fake plugin records each call, so a test also proves that nothing ran.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BAD_VALUES = ("nan", "NaN", "-nan", "inf", "Infinity", "-inf", "1e400", "1e10", "604801", "0", "-1", "ten")
COMMANDS = (
    ("add", "net1", "/var/run/netns/cnit-timeout-never-created"),
    ("del", "net1", "/var/run/netns/cnit-timeout-never-created"),
    ("check", "net1", "/var/run/netns/cnit-timeout-never-created"),
    ("exec", "net1", "--", "true"),
    ("gc", "net1"),
    ("status", "net1"),
    ("plugins",),
    ("validate", "net1"),
    ("invoke", "fake", "VERSION"),
)


@pytest.fixture
def world(tmp_path: Path, fake_plugins, conf_dir: Path, cache_dir: Path) -> dict[str, str]:
    """A network with one fake plugin that appends every call to ``calls``."""
    calls = tmp_path / "calls"
    fake_plugins("fake", f'echo "$CNI_COMMAND" >> "{calls}"\ncat >/dev/null\n'
                         'echo \'{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}\'\n')
    (conf_dir / "net1.conflist").write_text(json.dumps(
        {"cniVersion": "1.0.0", "name": "net1", "plugins": [{"type": "fake"}]}))
    return {"NETCONFPATH": str(conf_dir), "CNI_PATH": str(fake_plugins.dir), "CNI_CACHE_DIR": str(cache_dir),
            "CALLS": str(calls)}


def _calls(world: dict[str, str]) -> list[str]:
    path = Path(world["CALLS"])
    return path.read_text().split() if path.exists() else []


def _assert_usage_error(run, value: str) -> None:
    assert run.returncode == 2, run
    assert run.stdout == "", run
    (error,) = run.stderr_json_lines()
    assert error["level"] == "error" and error["kind"] == "usage", run
    assert "--timeout" in error["msg"] and value in error["msg"], run
    assert "0<x<=604800" in error["msg"], run
    assert "Traceback" not in run.stderr and "bug" not in run.stderr, run


@pytest.mark.parametrize("value", BAD_VALUES)
def test_exec_09_cli_05_bad_timeout_is_a_usage_error_naming_the_range(cnitool, world, value) -> None:
    """EXEC-09, CLI-05: exit 2 with the accepted range, never 70, before or after the verb; no plugin runs."""
    netns = "/var/run/netns/cnit-timeout-never-created"
    _assert_usage_error(cnitool("--timeout", value, "-o", "json", "del", "net1", netns, env=world), value)
    _assert_usage_error(cnitool("del", "--timeout", value, "-o", "json", "net1", netns, env=world), value)
    assert _calls(world) == []


@pytest.mark.parametrize("value", ("nan", "1e10"))
@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
def test_exec_09_every_command_rejects_a_bad_timeout(cnitool, world, command, value) -> None:
    """EXEC-09: the one --timeout option of every command that runs plugins has the same range."""
    _assert_usage_error(cnitool(command[0], "--timeout", value, "-o", "json", *command[1:], env=world), value)
    assert _calls(world) == []


def test_exec_09_bad_timeout_human_usage_text(cnitool, world) -> None:
    """The human form is click's usage error: the option, the value and the range in seconds."""
    run = cnitool("-o", "table", "--timeout", "nan", "del", "net1", "/var/run/netns/cnit-timeout-never-created",
                  env=world)
    assert run.returncode == 2, run
    assert "Invalid value for '--timeout': nan is not in the range 0<x<=604800" in run.stderr, run
    assert "one week" in run.stderr, run


@pytest.mark.parametrize("value", ("604800", "6.048e5", "0.5", "120"))
def test_exec_09_largest_and_small_timeouts_still_run_the_plugin(cnitool, world, value) -> None:
    """The bounds are inclusive of a week and exclusive of 0: these values run DEL as asked."""
    run = cnitool("--timeout", value, "-o", "json", "del", "net1", "/var/run/netns/cnit-timeout-never-created",
                  env=world)
    assert run.returncode == 0, run
    assert _calls(world) == ["DEL"]


def test_exec_09_largest_timeout_in_plugins_and_invoke(cnitool, world) -> None:
    """The inventory commands and invoke take the same option and the same maximum."""
    run = cnitool("plugins", "-o", "json", "--timeout", "604800", env=world)
    assert run.returncode == 0, run
    run = cnitool("invoke", "fake", "VERSION", "-o", "json", "--timeout", "604800", env=world)
    assert run.returncode == 0, run
    assert json.loads(run.stdout)["exitStatus"] == 0
    assert _calls(world) == ["VERSION", "VERSION"]
