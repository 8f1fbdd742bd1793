"""Picks the renderer for this invocation: rich for people, plain JSON for machines (CLI-04, CLI-05).

Diagnostics go to stderr; stdout carries only the result.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Sequence
from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

import click

from cnitool.core.errors import CniError, ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from cnitool.cli.app import App
    from cnitool.core.result import Result

# A broken pipe (the reader went away: ``cnitool list | head -n1``) ends us as SIGPIPE ends the Go
# cnitool, cat or ls: quietly, with the status a shell shows for that, 128 + 13. Not 0: the output
# was not all delivered, and ``set -o pipefail`` scripts tell the two apart the same way for every
# other tool; 141 also follows our own 128 + N for the other signals (130, 143, 129).
BROKEN_PIPE_STATUS = int(ExitCode.BROKEN_PIPE)


class OutputFailed(CniError):
    """Standard output cannot be written: a full disk or ``/dev/full``, an I/O error, a closed pipe.

    Raised by :class:`GuardedStdout` at the write itself, whichever code wrote (our renderers,
    rich, click's help and version), so that ``main`` can tell it from an OSError of a bug.
    """

    kind = "output"
    exit_code = ExitCode.ENVIRONMENT

    def __init__(self, error: OSError) -> None:
        super().__init__(f"cannot write the output: {error.strerror or error}")
        self.errno = error.errno

    @property
    def broken_pipe(self) -> bool:
        return self.errno == errno.EPIPE


class GuardedStdout:
    """The process's ``sys.stdout``, whose write errors are :class:`OutputFailed`; everything else
    (``isatty``, ``fileno``, ``encoding`` ...) is the stream's own."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as err:
            raise OutputFailed(err) from err

    def writelines(self, lines: Iterable[str]) -> None:
        try:
            self._stream.writelines(lines)
        except OSError as err:
            raise OutputFailed(err) from err

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as err:
            raise OutputFailed(err) from err

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _ClosedStdout:
    """Standard output when cnitool was started with it closed (``>&-``; Python's ``sys.stdout``
    is then None): writing is an error like any other, a command that prints nothing succeeds."""

    encoding = "utf-8"
    errors = "strict"

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def guard_streams() -> None:
    """For the real process: every write to standard output that fails is :class:`OutputFailed`.

    A stream we were started without (``>&-``, ``2>&-``: Python's ``sys.stdout``/``sys.stderr``
    is None) gets /dev/null behind its file descriptor, which the next file we open (a lock file)
    would take otherwise; a closed stdout then refuses writes, a closed stderr takes them.
    """
    if sys.stderr is None:
        _point_at_devnull(2)
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    if isinstance(sys.stdout, GuardedStdout):
        return
    if sys.stdout is None:
        _point_at_devnull(1)
        sys.stdout = GuardedStdout(_ClosedStdout())  # type: ignore[assignment,arg-type]
    else:
        sys.stdout = GuardedStdout(sys.stdout)  # type: ignore[assignment]


def discard_stdout() -> None:
    """Point file descriptor 1 at /dev/null once it cannot be written: what is still buffered then
    goes there when Python flushes at exit, instead of failing again with "Exception ignored ...
    BrokenPipeError" on stderr and exit status 120."""
    _point_at_devnull(1)


def discard_stderr() -> None:
    """The same for file descriptor 2, once even the report of an error cannot be written."""
    _point_at_devnull(2)


def _point_at_devnull(fd: int) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        if devnull != fd:
            os.dup2(devnull, fd)
    except OSError:
        pass
    finally:
        if devnull != fd:
            os.close(devnull)


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
