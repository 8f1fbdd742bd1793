"""The application object shared by every command: settings from options and environment, and stream state.

Global options are accepted before the verb and after it (``cnitool -o json add ...`` and
``cnitool add -o json ...``). Precedence: an option given on the command line (the later one
wins) over the environment variable over the default (CLI-01).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import click

DEFAULT_CONF_DIR = "/etc/cni/net.d"
# EXEC-01 OURS: where distributions install the reference plugins, used when CNI_PATH is unset.
DEFAULT_PLUGIN_DIRS = ("/opt/cni/bin", "/usr/libexec/cni", "/usr/lib/cni")
DEFAULT_CACHE_DIR = "/var/lib/cni"
DEFAULT_TIMEOUT = 120.0
# The largest --timeout: one week. No plugin call needs longer (a DHCP lease or a slow IPAM takes
# minutes), "effectively never" is what anybody asking for more means, and the deadline must stay
# far below what the wait for the plugin accepts: epoll and poll take an int of milliseconds,
# about 24.8 days, and larger values crashed the tool (OverflowError) half-way through a chain.
MAX_TIMEOUT = 7 * 24 * 3600.0

# Shown by --help (CLI-01, CLI-05); "\b" keeps click from rewrapping the lines.
ENVIRONMENT_HELP = (
    "\b\nEnvironment (an option given on the command line wins):\n"
    "  NETCONFPATH    config directories, :-separated (--conf-dir)\n"
    "  CNI_PATH       plugin directories, :-separated (--cni-path)\n"
    "  CNI_IFNAME     interface name in the namespace (-i)\n"
    "  CNI_ARGS       KEY=VALUE;... for the plugins (--arg)\n"
    "  CAP_ARGS       capability arguments as a JSON object (--cap, --port, ...)\n"
    "  CNI_CACHE_DIR  result cache directory (--cache-dir)\n"
    "  NO_COLOR, FORCE_COLOR  colour in human output (--color)"
)
EXIT_STATUS_HELP = (
    "\b\nExit status:\n"
    "  0   success\n"
    "  1   a plugin reported an error (a failing check included)\n"
    "  2   bad usage or invalid configuration\n"
    "  3   environment problem: network, plugin or namespace not found, permission, cache,\n"
    "      standard output not writable\n"
    "  4   a plugin timed out\n"
    "  70  internal error (a bug; --debug shows the traceback)\n"
    "  130 interrupted (Ctrl-C; 143 SIGTERM, 129 SIGHUP)\n"
    "  141 standard output is a pipe nobody reads any more (| head), as SIGPIPE would"
)


@dataclass
class App:
    """What every command needs besides its own arguments."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    options: dict[str, Any] = field(default_factory=dict)  # global options given on the command line

    def remember(self, name: str, value: Any) -> None:
        """Options are parsed group first, then command: the one given last wins."""
        if value is not None:
            self.options[name] = value

    def setting(self, name: str, default: Any = None, envvar: str | None = None) -> Any:
        """The option if given, else the environment variable if set and non-empty, else ``default``."""
        if name in self.options:
            return self.options[name]
        if envvar and self.environ.get(envvar):
            return self.environ[envvar]
        return default

    # -- resolved settings ------------------------------------------------------------

    @property
    def conf_dirs(self) -> list[str]:
        """LOAD-01: ``--conf-dir``/``NETCONFPATH``; OURS: several directories separated by ``:``."""
        return _split_path(self.setting("conf_dir", envvar="NETCONFPATH")) or [DEFAULT_CONF_DIR]

    @property
    def plugin_dirs(self) -> list[str]:
        return _split_path(self.setting("cni_path", envvar="CNI_PATH")) or list(DEFAULT_PLUGIN_DIRS)

    @property
    def cache_dir(self) -> str:
        return self.setting("cache_dir", DEFAULT_CACHE_DIR, envvar="CNI_CACHE_DIR")

    @property
    def timeout(self) -> float:
        return float(self.setting("timeout", DEFAULT_TIMEOUT))

    @property
    def debug(self) -> bool:
        return bool(self.setting("debug", False))

    @property
    def trace(self) -> bool:
        return bool(self.setting("trace", False))

    @property
    def trace_file(self) -> str | None:
        return self.setting("trace_file")

    @property
    def output(self) -> str:
        """``json`` or ``table``: ``auto`` means a table on a terminal, JSON in a pipe (CLI-04)."""
        mode = self.setting("output", "auto")
        if mode == "auto":
            return "table" if isatty(self.stdout) else "json"
        return mode

    @property
    def json_mode(self) -> bool:
        """Whether stdout carries JSON."""
        return self.output == "json"

    @property
    def diagnostics_json(self) -> bool:
        """Whether stderr carries JSON lines (CLI-05): with ``-o json``; with ``auto`` when stderr is
        not a terminal, so that a person who pipes only stdout (``cnitool add ... | jq``) still
        reads errors as panels."""
        mode = self.setting("output", "auto")
        if mode == "auto":
            return not isatty(self.stderr)
        return mode == "json"

    @property
    def color(self) -> bool | None:
        """True/False when forced, None to let the console decide (it honours NO_COLOR and FORCE_COLOR)."""
        choice = self.setting("color", "auto")
        if choice == "always":
            return True
        if choice == "never" or self.environ.get("NO_COLOR"):  # no-color.org: set and not empty
            return False
        return None


def _split_path(value: str | None) -> list[str]:
    return [part for part in (value or "").split(":") if part]


def isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class TimeoutSeconds(click.ParamType):
    """A finite number of seconds in (0, MAX_TIMEOUT].

    click's FloatRange lets NaN through (every comparison with it is false) and leaves no room for
    a reason, so the check is ours: NaN, infinities and overflowing literals such as ``1e400``
    fail with the range like any other value out of it.
    """

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not 0 < seconds <= MAX_TIMEOUT:  # also true for NaN
            self.fail(f"{value} is not in the range 0<x<={MAX_TIMEOUT:g} (seconds; at most one week)", param, ctx)
        return seconds


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    # Flags count only when given: their False default must not undo one given before the verb.
    if param.name is not None and value not in (None, False):
        ctx.ensure_object(App).remember(param.name, value)
    return value


def _color_flag(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(App).remember("color", "never")
    return value


GLOBAL_OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option("--conf-dir", "conf_dir", metavar="DIR[:DIR...]", expose_value=False, callback=_store,
                 help=f"Directories searched for network configs, in order [env var: NETCONFPATH; default: {DEFAULT_CONF_DIR}]."),
    click.option("--cni-path", "cni_path", metavar="DIR[:DIR...]", expose_value=False, callback=_store,
                 help=f"Directories searched for plugin binaries [env var: CNI_PATH; default: {':'.join(DEFAULT_PLUGIN_DIRS)}]."),
    click.option("--cache-dir", "cache_dir", metavar="DIR", expose_value=False, callback=_store,
                 help=f"Where results are cached, shared with libcni-based runtimes [env var: CNI_CACHE_DIR; default: {DEFAULT_CACHE_DIR}]."),
    click.option("-o", "--output", "output", type=click.Choice(["auto", "json", "table"]),
                 expose_value=False, callback=_store,
                 help="auto: a table on a terminal, the reference JSON in a pipe [default: auto]."),
    click.option("--timeout", "timeout", type=TimeoutSeconds(), metavar="SECONDS",
                 expose_value=False, callback=_store,
                 help=f"Kill a plugin call that runs longer than this, at most {MAX_TIMEOUT:g} (a week) "
                      f"[default: {DEFAULT_TIMEOUT:g}]."),
    click.option("--color", "color", type=click.Choice(["auto", "always", "never"]),
                 expose_value=False, callback=_store, help="Colour in human output [default: auto; NO_COLOR honoured]."),
    click.option("--no-color", is_flag=True, expose_value=False, callback=_color_flag, help="Same as --color never."),
    click.option("--debug", "debug", is_flag=True, expose_value=False, callback=_store,
                 help="Show the traceback of internal errors."),
    click.option("--trace", "trace", is_flag=True, expose_value=False, callback=_store,
                 help="Show every plugin call (environment, stdin, stdout, stderr, exit status, duration) on stderr."),
    click.option("--trace-file", "trace_file", metavar="FILE", expose_value=False, callback=_store,
                 help="Append every plugin call to FILE as JSON lines."),
]


def global_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Attach the global options to the group and to each command."""
    for option in reversed(GLOBAL_OPTIONS):
        command = option(command)
    return command


def get_app() -> App:
    return click.get_current_context().ensure_object(App)
