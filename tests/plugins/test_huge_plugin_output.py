"""A plugin that prints megabytes: errors carry an excerpt, the debugging views everything.

Bug report: a fake plugin printing N bytes of ``x`` and exiting 1 made ``cnitool -o table add``
take 0.85 s for 1 MB, 58 s for 10 MB and never finish for 50 MB (rich folding one huge line), and
``-o json`` write a ~100 MB error line (stdout in ``msg`` and again in the rollback error).
Now errors (EXEC-07, ADD-02's rollback errors, EXEC-09 timeouts) and a successful plugin's
passed-on stderr (EXEC-08) carry the first and last few KiB with a marker of what was left out,
in both output modes; ``--trace``, ``--trace-file`` and ``invoke`` still show all of it.

The sizes asserted are what proves the rendering stays fast: what is rendered is bounded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cnitool.core.excerpt import HEAD_BYTES, TAIL_BYTES, marker
from plugin_env import Env, error_object, flat, panel

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating network namespaces needs root")

BIG = 5_000_000
LEFT_OUT = BIG + len("END-OF-OUTPUT") - HEAD_BYTES - TAIL_BYTES
LINE_BOUND = 64 * 1024  # an error line or panel: a few excerpts of 6 KiB each, never megabytes
X_BYTES = f"head -c {BIG} /dev/zero | tr '\\0' x"


def _noisy(env: Env, name: str, stream: str = "") -> None:
    """``name`` prints BIG bytes of x and END-OF-OUTPUT (to stderr with stream '>&2'), then fails."""
    env.raw_plugin(name, f"cat >/dev/null\n{{ {X_BYTES}; printf END-OF-OUTPUT; }} {stream}\nexit 1\n")


def _unfolded(text: str) -> str:
    return "".join(text.split())


def test_exec_07_add_02_huge_stdout_json_error_line_is_bounded(env: Env, cnitool, netns: str) -> None:
    """EXEC-07 (stdout not JSON is shown) and ADD-02 (the rollback DEL fails the same way)."""
    _noisy(env, "noisy")
    env.network("net1", [{"type": "noisy"}])
    run = cnitool("add", "-o", "json", "net1", netns, env=env.vars, timeout=60)
    assert run.returncode == 1, run
    assert len(run.stderr) < LINE_BOUND, len(run.stderr)
    error = error_object(run)
    expected = (f'"{"x" * HEAD_BYTES}"{marker(LEFT_OUT)}"{"x" * (TAIL_BYTES - 13)}END-OF-OUTPUT": '
                "not a JSON error object")
    assert error["msg"].startswith('plugin type="noisy" failed (add): netplugin failed but error parsing')
    assert error["msg"].endswith(expected)
    assert error["rollback_errors"] and error["rollback_errors"][0].endswith(expected)
    assert "--trace" in error["hint"]
    assert env.calls() == ["noisy ADD", "noisy DEL"]


def test_exec_07_huge_stdout_table_panel_is_bounded(env: Env, cnitool, netns: str) -> None:
    _noisy(env, "noisy")
    env.network("net1", [{"type": "noisy"}])
    run = cnitool("add", "-o", "table", "net1", netns, env=env.vars, timeout=60)
    assert run.returncode == 1, run
    assert len(run.stderr) < LINE_BOUND, len(run.stderr)
    text = flat(panel(run))
    assert "ADD failed (plugin-failed)" in text
    folded = _unfolded(text)  # rich folds the long message anywhere, even inside a word
    assert folded.count(f"[{LEFT_OUT}bytesleftout]") == 2  # the error and its rollback error
    assert "END-OF-OUTPUT" in folded
    assert "Rollbackalsofailed" in folded


def test_exec_07_huge_stderr_keeps_its_last_words(env: Env, cnitool, netns: str) -> None:
    """stdout empty: msg quotes stderr (as upstream main); both carry the end, where the error is."""
    _noisy(env, "noisy", ">&2")
    env.network("net1", [{"type": "noisy"}])
    run = cnitool("del", "-o", "json", "net1", netns, env=env.vars, timeout=60)
    assert run.returncode == 1, run
    assert len(run.stderr) < LINE_BOUND, len(run.stderr)
    error = error_object(run)
    assert error["msg"].endswith(f'{marker(LEFT_OUT)}"{"x" * (TAIL_BYTES - 13)}END-OF-OUTPUT": exit status 1')
    assert error["stderr"] == "x" * HEAD_BYTES + marker(LEFT_OUT) + "x" * (TAIL_BYTES - 13) + "END-OF-OUTPUT"

    run = cnitool("del", "-o", "table", "net1", netns, env=env.vars, timeout=60)
    assert run.returncode == 1, run
    assert len(run.stderr) < LINE_BOUND, len(run.stderr)
    assert "END-OF-OUTPUT" in _unfolded(flat(panel(run)))


def test_exec_07_huge_msg_and_details_of_a_json_error(env: Env, cnitool, netns: str) -> None:
    env.raw_plugin("noisy", "cat >/dev/null\nprintf '{\"code\":111,\"msg\":\"'\n" + X_BYTES +
                   "\nprintf '\",\"details\":\"'\n" + X_BYTES + "\nprintf '\"}'\nexit 1\n")
    env.network("net1", [{"type": "noisy"}])
    run = cnitool("del", "-o", "json", "net1", netns, env=env.vars, timeout=60)
    assert run.returncode == 1, run
    assert len(run.stderr) < LINE_BOUND, len(run.stderr)
    error = error_object(run)
    left_out = BIG - HEAD_BYTES - TAIL_BYTES
    assert error["code"] == 111
    assert error["msg"] == f'plugin type="noisy" failed (delete): {"x" * HEAD_BYTES}{marker(left_out)}{"x" * TAIL_BYTES}'
    assert error["details"] == "x" * HEAD_BYTES + marker(left_out) + "x" * TAIL_BYTES


@pytest.mark.parametrize("mode", ["json", "table"])
def test_exec_08_successful_plugins_huge_stderr_is_passed_on_cut(env: Env, cnitool, netns: str, mode: str) -> None:
    """EXEC-08: passed on to our stderr, as an excerpt; the ADD itself succeeds."""
    env.plugin("chatty", extra=f"{{ {X_BYTES}; printf END-OF-OUTPUT; }} >&2")
    env.network("net1", [{"type": "chatty"}])
    try:
        run = cnitool("add", "-o", mode, "net1", netns, env=env.vars, timeout=60)
        assert run.returncode == 0, run
        assert len(run.stderr) < LINE_BOUND, len(run.stderr)
        if mode == "json":
            (info,) = run.stderr_json_lines()
            assert info == {"level": "info", "plugin": "chatty",
                            "stderr": "x" * HEAD_BYTES + marker(LEFT_OUT) + "x" * (TAIL_BYTES - 13) + "END-OF-OUTPUT"}
        else:
            assert f"[chatty] {'x' * HEAD_BYTES}{marker(LEFT_OUT)}" in run.stderr
            assert run.stderr.rstrip("\n").endswith("END-OF-OUTPUT")
    finally:
        assert cnitool("del", "-o", "json", "net1", netns, env=env.vars, timeout=60).returncode == 0


def test_exec_09_timed_out_plugins_huge_stderr_is_cut(env: Env, cnitool, netns: str) -> None:
    env.raw_plugin("slow", f'cat >/dev/null\n[ "$CNI_COMMAND" = ADD ] || exit 0\n{X_BYTES} >&2\nexec sleep 60\n')
    env.network("net1", [{"type": "slow"}])
    run = cnitool("add", "-o", "json", "--timeout", "3", "net1", netns, env=env.vars, timeout=60)
    assert run.returncode == 4, run
    assert len(run.stderr) < LINE_BOUND, len(run.stderr)
    error = error_object(run)
    assert error["kind"] == "plugin-timeout"
    assert error["stderr"] == "x" * HEAD_BYTES + marker(BIG - HEAD_BYTES - TAIL_BYTES) + "x" * TAIL_BYTES


def test_trace_file_and_trace_keep_everything_while_the_error_is_cut(env: Env, cnitool, netns: str,
                                                                     tmp_path: Path) -> None:
    """--trace and --trace-file are the full view (a plugin author needs the exact bytes)."""
    _noisy(env, "noisy")
    env.network("net1", [{"type": "noisy"}])
    trace_file = tmp_path / "trace.jsonl"
    run = cnitool("del", "--trace", "--trace-file", str(trace_file), "-o", "json", "net1", netns,
                  env=env.vars, timeout=60)
    assert run.returncode == 1, run
    *traces, error_line = run.stderr.splitlines()
    (trace,) = [json.loads(line) for line in traces]
    assert trace["level"] == "trace" and trace["stdout"] == "x" * BIG + "END-OF-OUTPUT"
    assert len(error_line) < LINE_BOUND and marker(LEFT_OUT) in json.loads(error_line)["msg"]
    (record,) = [json.loads(line) for line in trace_file.read_text().splitlines()]
    assert record["stdout"] == "x" * BIG + "END-OF-OUTPUT"

    run = cnitool("del", "--trace", "-o", "table", "net1", netns, env=env.vars, timeout=60)
    assert run.returncode == 1, run
    assert "   stdout: " + "x" * BIG + "END-OF-OUTPUT\n" in run.stderr


@pytest.mark.parametrize("mode", ["json", "table"])
def test_invoke_shows_everything(env: Env, cnitool, mode: str) -> None:
    """invoke is a plugin author's view of one call: nothing is cut, in either mode."""
    _noisy(env, "noisy")
    run = cnitool("invoke", "noisy", "VERSION", "-o", mode, env=env.vars, timeout=60)
    assert run.returncode == 1, run
    if mode == "json":
        assert json.loads(run.stdout)["stdout"] == "x" * BIG + "END-OF-OUTPUT"
    else:
        assert "   stdout: " + "x" * BIG + "END-OF-OUTPUT\n" in run.stdout


def test_invoke_and_trace_text_show_every_line_and_no_raw_control_characters(env: Env, cnitool, netns: str) -> None:
    """The text views write the plugin's lines straight out (rich took seconds per MB folding
    them); control characters are shown as \\xNN, as everywhere else a plugin's text reaches a
    terminal, so a plugin cannot clear the screen or hide what follows."""
    env.raw_plugin("lines", "cat >/dev/null\nyes 'plugin line' | head -n 200000\n"
                            "printf '\\033[2Jcleared\\r\\n' >&2\nexit 0\n")
    env.network("net1", [{"type": "lines"}])
    run = cnitool("invoke", "lines", "VERSION", "-o", "table", env=env.vars, timeout=60)
    assert run.returncode == 0, run
    assert run.stdout.count("plugin line\n") == 200000
    assert "   stderr: \\x1b[2Jcleared\\x0d\n" in run.stdout and "\x1b" not in run.stdout

    run = cnitool("del", "--trace", "-o", "table", "net1", netns, env=env.vars, timeout=60)
    assert run.returncode == 0, run
    assert run.stderr.count("plugin line\n") == 200000
    assert "   stderr: \\x1b[2Jcleared\\x0d\n" in run.stderr and "\x1b" not in run.stderr
