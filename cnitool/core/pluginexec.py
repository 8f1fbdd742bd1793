"""Calling one plugin and reading its answer the way the spec and libcni's pkg/invoke do.

The runner only executes; here we build the CNI_* environment (EXEC-03), decide success by the
exit status (EXEC-06), turn a failure into a structured error (EXEC-07) and name the plugin and
verb in every message in the reference's shape (EXEC-10). Plugin text carried in errors and
passed-on stderr is cut to an excerpt here, in one place (``cnitool.core.excerpt``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cnitool.core import jsondecode
from cnitool.core.errors import CniError, PluginFailed
from cnitool.core.excerpt import excerpt, is_cut, quoted_excerpt, text_excerpt
from cnitool.core.gojson import go_quote
from cnitool.core.netconf import PluginConfig
from cnitool.core.names import validate_plugin_type
from cnitool.core.runner import PluginInvocation, PluginOutput, PluginRunner
from cnitool.core.runtime import RuntimeConf

# How libcni words each verb in "plugin type=... failed (VERB)".
VERB_WORDS = {
    "ADD": "add",
    "DEL": "delete",
    "CHECK": "check",
    "GC": "gc",
    "STATUS": "status",
    "VERSION": "version",
}

StderrSink = Callable[[str, bytes], None]

_CUT_HINT = "the plugin's output is cut short here; --trace or --trace-file shows all of it"


@dataclass(frozen=True)
class PluginCaller:
    """Runs plugins of one plugin path through a runner."""

    runner: PluginRunner
    plugin_dirs: Sequence[str]
    stderr_sink: StderrSink | None = None  # EXEC-08: a successful plugin's stderr goes here

    def call(self, plugin: PluginConfig, command: str, stdin: bytes, runtime: RuntimeConf | None) -> bytes:
        """Run the plugin; return its stdout on success, raise a structured error otherwise."""
        validate_plugin_type(plugin.type)
        invocation = PluginInvocation(
            plugin_type=plugin.type,
            command=command,
            cni_env=self.environment(command, runtime),
            stdin=stdin,
            plugin_dirs=tuple(self.plugin_dirs),
        )
        try:
            output = self.runner.run(invocation)
        except CniError as err:  # not found, timed out: the runner already said what happened
            err.plugin = err.plugin or plugin.type
            err.command = err.command or command
            err.stderr = text_excerpt(err.stderr)  # a timed-out plugin's stderr can be huge too
            raise
        if output.exit_status != 0:
            raise plugin_failure(plugin, command, output)
        if output.stderr and self.stderr_sink is not None:
            self.stderr_sink(plugin.type, excerpt(output.stderr))
        return output.stdout

    def environment(self, command: str, runtime: RuntimeConf | None) -> dict[str, str]:
        """EXEC-03: always every CNI_* variable, so inherited values never leak into the call."""
        path = ":".join(self.plugin_dirs)
        if command == "VERSION":
            # libcni's VERSION call fills the per-attachment variables with "dummy".
            return _env(command, "", "dummy", "dummy", "", "dummy")
        if runtime is None:  # GC and STATUS concern no attachment
            return _env(command, "", "", "", "", path)
        return _env(command, runtime.container_id, runtime.netns, runtime.ifname, runtime.cni_args_env, path)


def _env(command: str, container_id: str, netns: str, ifname: str, args: str, path: str) -> dict[str, str]:
    return {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": container_id,
        "CNI_NETNS": netns,
        "CNI_IFNAME": ifname,
        "CNI_ARGS": args,
        "CNI_PATH": path,
    }


def describe_plugin(plugin: PluginConfig) -> str:
    """``type="bridge"`` plus ``name="…"`` when the plugin object has its own name (libcni pluginDescription)."""
    text = f"type={go_quote(plugin.type)}"
    if plugin.name:
        text += f" name={go_quote(plugin.name)}"
    return text


def failure_prefix(plugin: PluginConfig, command: str) -> str:
    return f"plugin {describe_plugin(plugin)} failed ({VERB_WORDS.get(command, command.lower())})"


def plugin_failure(plugin: PluginConfig, command: str, output: PluginOutput) -> PluginFailed:
    """EXEC-07: the error a failed plugin reported, or the best description of its failure.

    The plugin's text in it (stdout, stderr, its error's msg and details) is an excerpt; when any
    was cut, the hint says where the whole text is.
    """
    stderr = output.stderr.decode(errors="replace")
    stdout = output.stdout.decode(errors="replace")
    status = f"exit status {output.exit_status}" if output.exit_status >= 0 else f"killed by signal {-output.exit_status}"
    code: int | None = None
    details = ""
    carried: tuple[bytes | str, ...] = (output.stderr,)  # the plugin's texts this error shows
    # libcni pkg/invoke pluginErr (upstream main): the streams are shown with Go's %q, unstripped.
    if not stdout.strip():
        if stderr.strip():
            message = f"netplugin failed: {quoted_excerpt(output.stderr)}: {status}"
        else:
            message = f"netplugin failed with no error message: {status}"
    else:
        parsed = _parse_error(stdout)
        if parsed is None:
            message = (
                f"netplugin failed but error parsing its diagnostic message {quoted_excerpt(output.stdout)}: "
                "not a JSON error object"
            )
            carried += (output.stdout,)
        else:
            code, message, details = parsed
            carried += (message, details)
            message, details = text_excerpt(message), text_excerpt(details)
    return PluginFailed(
        f"{failure_prefix(plugin, command)}: {message}",
        code=code,
        details=details,
        plugin=plugin.type,
        command=command,
        stderr=excerpt(output.stderr).decode(errors="replace"),
        hint=_CUT_HINT if any(is_cut(text) for text in carried) else None,
    )


def _parse_error(stdout: str) -> tuple[int | None, str, str] | None:
    """The ``{code, msg, details}`` object of SPEC.md "Error", or None if stdout is not one."""
    try:
        document = jsondecode.loads(stdout)
    except json.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    code = document.get("code")
    msg = document.get("msg")
    details = document.get("details")
    return (
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        msg if isinstance(msg, str) else "",
        details if isinstance(details, str) else "",
    )
