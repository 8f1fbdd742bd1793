"""Standard output that cannot be written (found by a user trial), with real processes.

``cnitool add NET NS >/dev/full``, ``completion bash >/dev/full`` and ``--help >/dev/full`` exited
70 ("a bug in cnitool"; for add after the attachment was made and cached), and
``cnitool plugins -o table | head -n1`` exited 1 silently (rich's own broken-pipe handling).

Now a broken pipe (the reader went away: ``| head``) ends quietly with 141, as a process killed
by SIGPIPE (the Go cnitool is); any other write error on stdout is an environment error (exit 3)
saying ``cannot write the output: ...``, and add's says that the attachment is in place. Python
never adds "Exception ignored" (or exit 120) at shutdown for what was left in the buffer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from plugin_env import Env, error_object

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating network namespaces needs root")

_LEAKY = ("NETCONFPATH", "CNI_", "CAP_ARGS", "NO_COLOR", "FORCE_COLOR")
NO_SPACE = "cannot write the output: No space left on device"


def run_to(env: Env, *args: str, stdout) -> subprocess.CompletedProcess:
    """``cnitool ARGS`` with ``stdout`` as given (a full device, a pipe nobody reads); stderr captured."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith(_LEAKY)}
    environ.update(env.vars)
    return subprocess.run([sys.executable, "-m", "cnitool", *args], env=environ, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120)


def to_full(env: Env, *args: str) -> subprocess.CompletedProcess:
    with open("/dev/full", "w") as full:
        return run_to(env, *args, stdout=full)


def to_closed_pipe(env: Env, *args: str) -> subprocess.CompletedProcess:
    """stdout is a pipe whose reading end is already closed: the first write gets EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return run_to(env, *args, stdout=write_end)
    finally:
        os.close(write_end)


def assert_clean(run: subprocess.CompletedProcess) -> None:
    """Nothing of Python's own: no traceback, no "Exception ignored", no internal error."""
    for text in ("Traceback", "Exception ignored", "internal", "bug in cnitool"):
        assert text not in run.stderr, run


def one_plugin_network(env: Env) -> None:
    env.plugin("good", extra='[ "$CNI_COMMAND" = VERSION ] && echo \'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\'')
    env.network("net", [{"type": "good"}])


# -------------------------------------------------------------------------------- /dev/full


def test_add_to_a_full_stdout_says_the_attachment_is_in_place(env: Env, cnitool, netns: str) -> None:
    one_plugin_network(env)
    run = to_full(env, "add", "net", netns, "-o", "json")
    assert run.returncode == 3, run
    assert_clean(run)
    error = error_object(run)
    assert error["kind"] == "output" and error["msg"] == NO_SPACE, error
    assert "in place" in error["details"] and "net" in error["details"], error
    assert f"cnitool del net {netns}" in error["hint"] and f"cnitool show net {netns}" in error["hint"], error
    assert env.calls() == ["good ADD"] and len(env.cache_files()) == 1  # what the message says

    shown = cnitool("show", "net", netns, "-o", "json", env=env.vars)
    assert shown.returncode == 0, shown
    deleted = cnitool("del", "net", netns, env=env.vars)
    assert deleted.returncode == 0, deleted
    assert env.cache_files() == []


def test_add_table_to_a_full_stdout_shows_the_panel(env: Env, cnitool, netns: str) -> None:
    one_plugin_network(env)
    run = to_full(env, "add", "net", netns, "-o", "table", "-i", "net1")
    assert run.returncode == 3, run
    assert_clean(run)
    assert "╭" in run.stderr and "No space left on device" in run.stderr and "in place" in run.stderr, run
    assert f"cnitool del net {netns} -i net1" in run.stderr, run  # the attachment as this add named it
    assert cnitool("del", "net", netns, "-i", "net1", env=env.vars).returncode == 0
    assert env.cache_files() == []


@pytest.mark.parametrize("args", [
    ("completion", "bash"),
    ("--help",),
    ("add", "--help"),
    ("--version",),
    ("list", "-o", "json"),
    ("list", "-o", "table"),
    ("plugins", "-o", "table"),
    ("validate", "-o", "json"),
    ("netns", "list", "-o", "json"),
])
def test_any_command_to_a_full_stdout_is_an_environment_error(env: Env, args: tuple[str, ...]) -> None:
    one_plugin_network(env)
    run = to_full(env, *args)
    assert run.returncode == 3, run
    assert_clean(run)
    if "table" in args:  # the error as a panel for people
        assert "╭" in run.stderr and NO_SPACE in run.stderr, run
    else:  # stderr is not a terminal: one JSON object (CLI-05), as for every error
        assert json.loads(run.stderr.splitlines()[-1])["msg"] == NO_SPACE, run


# ------------------------------------------------------------------------------ broken pipe


@pytest.mark.parametrize("args", [
    ("completion", "bash"),
    ("--help",),
    ("--version",),
    ("list", "-o", "json"),
    ("list", "-o", "table"),
    ("plugins", "-o", "table"),
    ("plugins", "-o", "json"),
])
def test_a_closed_pipe_ends_quietly_as_sigpipe_would(env: Env, args: tuple[str, ...]) -> None:
    one_plugin_network(env)
    run = to_closed_pipe(env, *args)
    assert run.returncode == 141, run
    assert run.stderr == "", run


def test_add_into_a_closed_pipe_keeps_the_attachment_quietly(env: Env, cnitool, netns: str) -> None:
    one_plugin_network(env)
    run = to_closed_pipe(env, "add", "net", netns)
    assert run.returncode == 141, run
    assert run.stderr == "", run
    assert len(env.cache_files()) == 1
    assert cnitool("del", "net", netns, env=env.vars).returncode == 0
    assert env.cache_files() == []


def test_head_reading_the_first_line_of_a_long_listing(env: Env) -> None:
    """The user trial's pipeline, with enough output that the writer still writes when head has
    gone (a pipe holds 64 KiB): bash's PIPESTATUS shows cnitool's status."""
    env.plugin("good")
    for number in range(600):
        env.network(f"net{number:04d}", [{"type": "good"}])
    environ = {key: value for key, value in os.environ.items() if not key.startswith(_LEAKY)}
    environ.update(env.vars)
    # Unbuffered, Python's text layer drops the rest of a write the pipe took only part of (the
    # reader left half-way), so no error is left to see; a user's cnitool is buffered.
    environ.pop("PYTHONUNBUFFERED", None)
    for output in ("json", "table"):
        script = f'"{sys.executable}" -m cnitool list -o {output} | head -n1 >/dev/null; echo "${{PIPESTATUS[0]}}"'
        run = subprocess.run(["bash", "-c", script], env=environ, capture_output=True, text=True, timeout=120)
        assert run.stdout.strip() == "141", run
        assert run.stderr == "", run


# ------------------------------------------------------- a closed stdout, a full stderr too


def run_shell(env: Env, script: str) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(_LEAKY)}
    environ.update(env.vars, CNITOOL=f'"{sys.executable}" -m cnitool')
    return subprocess.run(["bash", "-c", script], env=environ, capture_output=True, text=True, timeout=120)


def test_a_closed_stdout_is_reported_only_when_there_is_output(env: Env, netns: str) -> None:
    one_plugin_network(env)
    listed = run_shell(env, 'exec >&-; eval "$CNITOOL list -o json"')
    assert listed.returncode == 3, listed
    assert json.loads(listed.stderr.splitlines()[-1])["msg"] == "cannot write the output: standard output is closed"
    helped = run_shell(env, 'exec >&-; eval "$CNITOOL --help"')
    assert helped.returncode == 3, helped
    assert_clean(listed)
    assert_clean(helped)
    # In JSON mode del prints nothing on stdout: nothing fails.
    added = run_shell(env, f'eval "$CNITOOL add net {netns}" >/dev/null; exec >&-; eval "$CNITOOL del net {netns}"')
    assert added.returncode == 0, added
    assert added.stderr == "" and env.cache_files() == []


def test_when_stderr_cannot_carry_the_report_the_status_still_tells(env: Env, netns: str) -> None:
    one_plugin_network(env)
    for script in ('eval "$CNITOOL list -o json" >/dev/full 2>/dev/full; echo $?',
                   f'eval "$CNITOOL add net {netns} -o json" >/dev/full 2>/dev/full; echo $?',
                   'eval "$CNITOOL add nosuchnet ns1 -o json" 2>/dev/full; echo $?'):
        run = run_shell(env, script)
        assert run.stdout.strip() in ("3",), run  # not 1 or 120 from Python's own error report
    assert len(env.cache_files()) == 1
    deleted = run_shell(env, f'eval "$CNITOOL del net {netns}"')
    assert deleted.returncode == 0, deleted
    assert env.cache_files() == []


def test_an_error_panel_into_a_closed_pipe_or_a_closed_stderr_keeps_its_status(env: Env) -> None:
    """rich's own broken-pipe handling exited 1 (and pointed stdout at /dev/null) whichever
    stream broke; a stderr we were started without made the report itself fail."""
    one_plugin_network(env)
    read_end, write_end = os.pipe()
    os.close(read_end)
    environ = {key: value for key, value in os.environ.items() if not key.startswith(_LEAKY)}
    environ.update(env.vars)
    try:
        run = subprocess.run([sys.executable, "-m", "cnitool", "add", "nosuchnet", "ns1", "-o", "table"],
                             env=environ, stdout=subprocess.PIPE, stderr=write_end, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert run.returncode == 3, run
    closed = run_shell(env, 'exec 2>&-; eval "$CNITOOL add nosuchnet ns1 -o table"; echo $? >&1')
    assert closed.stdout.strip() == "3", closed
