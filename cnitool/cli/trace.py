"""``--trace`` and ``--trace-file``: every plugin call as it happens, for people debugging a chain.

Each call is shown with its CNI_* environment, stdin, stdout, stderr, exit status and duration:
on stderr (text on a terminal, one JSON object a line with ``-o json``, CLI-05) and/or appended
to a file as JSON lines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TextIO

from cnitool.core.errors import UsageError
from cnitool.core.runner import PluginInvocation, PluginOutput


def call_record(invocation: PluginInvocation, output: PluginOutput | None, path: str) -> dict[str, Any]:
    """One plugin call as a JSON-able dict (the trace file's line, and ``cnitool invoke -o json``)."""
    record: dict[str, Any] = {
        "plugin": invocation.plugin_type,
        "path": path or None,
        "command": invocation.command,
        "env": dict(invocation.cni_env),
        "stdin": invocation.stdin.decode(errors="replace"),
    }
    if output is None:
        record["outcome"] = "not found" if not path else "timed out or could not start"
    else:
        record.update(
            outcome="exited",
            exitStatus=output.exit_status,
            durationSeconds=round(output.duration, 6),
            stdout=output.stdout.decode(errors="replace"),
            stderr=output.stderr.decode(errors="replace"),
        )
    return record


def format_call(record: dict[str, Any]) -> str:
    """The human text of one call: a header line, then indented sections.

    All of the plugin's output, however long (this is the view meant for it; errors carry only an
    excerpt): it is written to the stream as it is, never folded by rich, which is slow on many
    lines. Control characters are shown as ``\\xNN``, so the plugin's text cannot drive the terminal.
    """
    from cnitool.render.text import printable

    header = f"── {record['command']} {record['plugin']}"
    if record["path"]:
        header += f" ({record['path']})"
    if record["outcome"] == "exited":
        header += f": exit {record['exitStatus']} in {record['durationSeconds']:.3f}s"
    else:
        header += f": {record['outcome']}"
    lines = [header, "   env:    " + " ".join(f"{key}={value}" for key, value in record["env"].items())]
    for name in ("stdin", "stdout", "stderr"):
        text = record.get(name)
        if text:
            body = text.rstrip("\n").replace("\n", "\n           ")
            lines.append(f"   {name + ':':<7} {body}")
    return printable("\n".join(lines)) + "\n"


class Tracer:
    """The runner's observer for ``--trace`` / ``--trace-file``.

    The trace file is opened here, before any plugin runs: a path that cannot be opened is a
    usage error up front. Once the command runs, the trace is best effort: a write that fails
    later (a full disk, ``/dev/full``, a closed stderr) stops that part of the trace with one
    warning naming where and why, and the command goes on. Raising from here would stop a plugin
    chain half-way, after plugins have built state and before it is cached or rolled back.
    """

    def __init__(self, stderr: TextIO | None, json_lines: bool, trace_file: str | None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.stderr = stderr
        self.json_lines = json_lines
        self.trace_file = trace_file
        self.warn = warn
        self.trace_handle: TextIO | None = None
        if trace_file is not None:
            try:
                self.trace_handle = open(trace_file, "a", encoding="utf-8")  # closed at exit
            except OSError as err:
                raise UsageError(f"cannot write --trace-file {trace_file}: {err.strerror}") from None

    def __call__(self, invocation: PluginInvocation, output: PluginOutput | None, path: str) -> None:
        record = call_record(invocation, output, path)
        if self.stderr is not None:
            try:
                if self.json_lines:
                    self.stderr.write(json.dumps({"level": "trace", **record}, ensure_ascii=False) + "\n")
                else:
                    self.stderr.write(format_call(record))
                self.stderr.flush()
            except OSError as err:
                self.stderr = None
                self._warn(f"cannot write --trace to stderr: {err.strerror or err}; tracing stopped, "
                           "the command goes on")
        if self.trace_handle is not None:
            try:
                self.trace_handle.write(json.dumps({"time": time.time(), **record}, ensure_ascii=False) + "\n")
                self.trace_handle.flush()
            except OSError as err:
                self._close_trace_file()
                self._warn(f"cannot write --trace-file {self.trace_file}: {err.strerror or err}; "
                           "tracing to it stopped, the command goes on")

    def _close_trace_file(self) -> None:
        handle, self.trace_handle = self.trace_handle, None
        if handle is None:
            return
        try:
            handle.close()  # flushes what is still buffered, which fails again
        except OSError:
            pass

    def _warn(self, message: str) -> None:
        if self.warn is None:
            return
        try:
            self.warn(message)
        except OSError:  # the warning goes to stderr, and that may be what cannot be written
            pass
