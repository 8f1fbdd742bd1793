"""The spinner (issue 4 "Progress for long operations"): shown only to a person at a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from cnitool.cli.app import App
from cnitool.cli.output import Output
from cnitool.cli.progress import SpinnerRunner
from cnitool.core.runner import PluginInvocation, PluginOutput


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Runner:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def run(self, invocation: PluginInvocation) -> PluginOutput:
        self.calls.append(invocation.plugin_type)
        return PluginOutput(0, b"{}", b"", 0.0)


def _app(*argv_options: tuple[str, object], stdout: io.StringIO | None = None) -> App:
    app = App(stdout=stdout or _Terminal(), stderr=_Terminal(), environ={})
    for name, value in argv_options:
        app.remember(name, value)
    return app


def test_spinner_names_the_plugin_and_verb_and_passes_the_output_through() -> None:
    screen = io.StringIO()
    inner = _Runner()
    runner = SpinnerRunner(inner, Console(file=screen, force_terminal=True, width=80))
    output = runner.run(PluginInvocation("bridge", "DEL", {}, b"{}", ("/x",)))
    assert output.stdout == b"{}"
    assert inner.calls == ["bridge"]
    assert "running bridge (delete)…" in screen.getvalue()


def test_spinner_only_for_a_person_at_a_terminal() -> None:
    assert Output(_app(("output", "table"))).wants_progress
    assert not Output(_app(("output", "json"))).wants_progress  # machines read stderr as JSON lines
    assert not Output(_app(("output", "table"), ("trace", True))).wants_progress  # the trace owns stderr
    piped = App(stdout=_Terminal(), stderr=io.StringIO(), environ={})
    assert not Output(piped).wants_progress
