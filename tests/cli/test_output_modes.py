"""Where diagnostics go and how they look (CLI-04, CLI-05), and terminal safety of plugin text."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cnitool.cli import main
from cnitool.cli.app import App
from cnitool.core.errors import PluginFailed
from cnitool.render import human


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _app(stdout: io.StringIO, stderr: io.StringIO, environ: dict[str, str] | None = None) -> App:
    return App(stdout=stdout, stderr=stderr, environ=environ or {})


def test_cli_05_auto_mode_errors_follow_stderr_not_stdout() -> None:
    """``cnitool add ... | jq`` on a terminal: the result is JSON, the error a panel for the person."""
    piped_out_terminal_err = _app(io.StringIO(), _Terminal())
    assert piped_out_terminal_err.json_mode and not piped_out_terminal_err.diagnostics_json
    all_piped = _app(io.StringIO(), io.StringIO())
    assert all_piped.json_mode and all_piped.diagnostics_json
    explicit = _app(_Terminal(), _Terminal())
    explicit.remember("output", "json")
    assert explicit.diagnostics_json  # -o json: every stderr line is JSON, terminal or not


@pytest.mark.parametrize(("value", "color"), [("1", False), ("", None)])
def test_cli_04_no_color_counts_only_when_set_and_not_empty(value: str, color: bool | None) -> None:
    """no-color.org: NO_COLOR disables colour when it is present and not empty."""
    assert _app(io.StringIO(), io.StringIO(), {"NO_COLOR": value}).color is color


def test_cli_05_usage_errors_are_json_lines_with_o_json() -> None:
    stderr = io.StringIO()
    status = main(["-o", "json", "no-such-verb"], _app(io.StringIO(), stderr))
    assert status == 2
    [line] = stderr.getvalue().splitlines()
    error = json.loads(line)
    assert (error["level"], error["kind"], error["code"], error["msg"]) == (
        "error", "usage", None, "No such command 'no-such-verb'.")


def test_unwritable_trace_file_is_a_usage_error_before_anything_runs(tmp_path: Path) -> None:
    """A --trace-file that cannot be written is refused up front (exit 2), not half-way through a chain."""
    conf = tmp_path / "net.d"
    conf.mkdir()
    (conf / "n.conflist").write_text(json.dumps({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "x"}]}))
    stderr = io.StringIO()
    status = main(["-o", "json", "--trace-file", str(tmp_path / "missing" / "t.jsonl"), "add", "n", "/proc/self/ns/net"],
                  _app(io.StringIO(), stderr, {"NETCONFPATH": str(conf), "CNI_PATH": str(tmp_path)}))
    assert status == 2
    error = json.loads(stderr.getvalue().splitlines()[-1])
    assert error["msg"].startswith("cannot write --trace-file ")


def test_plugin_text_cannot_drive_the_terminal() -> None:
    """Escape sequences in a plugin's stderr or details are shown, not executed."""
    hostile = "\x1b]0;PWNED\x07\x1b[2J"
    error = PluginFailed(f"plugin failed: {hostile}", details=hostile, stderr=f"line\n{hostile}\n", plugin="evil",
                         command="ADD")
    screen = io.StringIO()
    human.write_error(human.console(screen, False), error)
    text = screen.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;PWNED\\x07\\x1b[2J" in text


def test_plugin_text_is_never_turned_into_emoji() -> None:
    """rich reads ":cd:" as an emoji code; a MAC, a name or a DNS domain must print as it is."""
    from cnitool.core.result import parse_result

    result = parse_result({
        "cniVersion": "1.0.0",
        "interfaces": [{"name": "eth:smile:0", "mac": "52:82:79:cd:19:30", "sandbox": "/var/run/netns/x"}],
        "ips": [{"address": "10.0.0.2/24", "interface": 0}],
        "dns": {"domain": ":thumbs_up:"},
    }, default_version="1.0.0")
    screen = io.StringIO()
    human.write_result(human.console(screen, False), result, "Added :cd:")
    text = screen.getvalue()
    assert "52:82:79:cd:19:30" in text and "eth:smile:0" in text and ":thumbs_up:" in text
    assert "Added :cd:" in text
    assert not any(ord(char) > 0x2FFF for char in text)  # box drawing is below; emoji are above
