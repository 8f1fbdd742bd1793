"""Picks the renderer for this invocation: rich for people, plain JSON for machines (CLI-04, CLI-05).

Diagnostics go to stderr; stdout carries only the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from cnitool.cli.app import App
    from cnitool.core.errors import CniError
    from cnitool.core.result import Result


class Output:
    def __init__(self, app: App) -> None:
        self.app = app

    @cached_property
    def _machine(self) -> ModuleType:
        # Imported on first use: --help and --version must not pay for the result model.
        from cnitool.render import machine

        return machine

    @cached_property
    def _out(self) -> Console:
        from cnitool.render import human

        return human.console(self.app.stdout, self.app.color)

    @cached_property
    def _err(self) -> Console:
        from cnitool.render import human

        return human.console(self.app.stderr, self.app.color)

    @property
    def wants_progress(self) -> bool:
        """A spinner only for a person at a terminal, never in a pipe or beside a trace on stderr."""
        from cnitool.cli.app import isatty

        return not self.app.diagnostics_json and not self.app.trace and isatty(self.app.stderr)

    @property
    def stderr_console(self) -> Console:
        return self._err

    def result(self, result: Result, summary: str) -> None:
        if self.app.json_mode:
            self._machine.write_result(self.app.stdout, result)
        else:
            from cnitool.render import human

            human.write_result(self._out, result, summary)

    def document(self, document: Any, draw: Any = None) -> None:
        """Our own documents (status, gc ...): JSON for machines, ``draw(console)`` for people."""
        if self.app.json_mode or draw is None:
            self._machine.write_document(self.app.stdout, document)
        else:
            draw(self._out)

    def done(self, message: str) -> None:
        """A one-line confirmation on a terminal; nothing on stdout in JSON mode."""
        if not self.app.json_mode:
            from cnitool.render import human

            human.write_line(self._out, message)

    def info(self, message: str) -> None:
        """A note on stderr while work goes on: a JSON line in JSON mode (CLI-05), a plain line otherwise."""
        if self.app.diagnostics_json:
            self._machine.write_document_line(self.app.stderr, {"level": "info", "msg": message})
        else:
            from cnitool.render import human

            human.write_line(self._err, message, "yellow")

    def warning(self, message: str) -> None:
        if self.app.diagnostics_json:
            self._machine.write_warning(self.app.stderr, message)
        else:
            from cnitool.render import human

            human.write_warning(self._err, message)

    def plugin_stderr(self, plugin: str, data: bytes) -> None:
        """EXEC-08: a successful plugin's stderr is passed on, labelled with the plugin."""
        text = data.decode(errors="replace").rstrip("\n")
        if self.app.diagnostics_json:
            self._machine.write_document_line(self.app.stderr, {"level": "info", "plugin": plugin, "stderr": text})
        else:
            from cnitool.render.text import printable

            for line in text.splitlines():
                self.app.stderr.write(f"[{plugin}] {printable(line)}\n")
            self.app.stderr.flush()

    def error(self, error: CniError) -> None:
        if self.app.diagnostics_json:
            self._machine.write_error(self.app.stderr, error)
        else:
            from cnitool.render import human

            human.write_error(self._err, error)

    def usage_error(self, error: click.ClickException) -> None:
        """click's usage errors: its own text for people, one JSON object with -o json (CLI-05)."""
        if self.app.diagnostics_json:
            self._machine.write_document_line(self.app.stderr,
                                              self._machine.error_document("usage", error.format_message()))
        else:
            error.show(file=self.app.stderr)

    def interrupted(self, rollback_errors: Sequence[CniError] = ()) -> None:
        """Ctrl-C or SIGTERM; with what the rollback of an interrupted ADD could not undo."""
        failed = [str(error) for error in rollback_errors]
        if self.app.diagnostics_json:
            self._machine.write_document_line(
                self.app.stderr, self._machine.error_document("interrupted", "interrupted", rollback_errors=failed))
        else:
            from cnitool.cli.app import isatty
            from cnitool.render.text import printable

            if isatty(self.app.stderr):
                self.app.stderr.write("\n")  # end the line of the terminal's ^C echo
            self.app.stderr.write("interrupted\n")
            for message in failed:
                self.app.stderr.write(f"rollback also failed: {printable(message)}\n")
            self.app.stderr.flush()

    def internal_error(self, message: str, traceback: str | None = None) -> None:
        """A bug: one line, with the traceback when --debug asked for it (inside the JSON object with -o json)."""
        if self.app.diagnostics_json:
            self._machine.write_internal_error(self.app.stderr, message, traceback)
        else:
            if traceback:
                self.app.stderr.write(traceback)
            from cnitool.render import human

            human.write_internal_error(self._err, message)
