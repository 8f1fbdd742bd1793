"""The ``cnitool`` command line: click only; every error is mapped to an exit status here, once.

Exit statuses (CLI-05): 0 success; 1 a plugin reported an error (a failing CHECK included);
2 bad usage or invalid configuration; 3 an environment problem (network, plugin or namespace not
found, permission, unusable cache, standard output not writable); 4 a plugin timed out; 70
internal error; 130 interrupted (Ctrl-C; 143 for SIGTERM, 129 for SIGHUP, which also roll an
unfinished ADD back); 141 standard output is a pipe nobody reads any more (as SIGPIPE would).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from cnitool import __version__
from cnitool.cli import signals
from cnitool.cli.add import add
from cnitool.cli.app import ENVIRONMENT_HELP, EXIT_STATUS_HELP, App, global_options
from cnitool.cli.check import check
from cnitool.cli.complete import completion
from cnitool.cli.delete import delete
from cnitool.cli.execute import exec_command
from cnitool.cli.gc import gc
from cnitool.cli.invoke_plugin import invoke
from cnitool.cli.netnscmd import netns_group
from cnitool.cli.listing import list_networks
from cnitool.cli.output import (
    BROKEN_PIPE_STATUS,
    Output,
    OutputFailed,
    discard_stderr,
    discard_stdout,
    guard_streams,
)
from cnitool.cli.plugins import plugins
from cnitool.cli.show import show
from cnitool.cli.status import status
from cnitool.cli.validate import validate


@click.group(
    cls=signals.InterruptibleGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=ENVIRONMENT_HELP + "\n\n" + EXIT_STATUS_HELP,
)
@click.version_option(__version__, "-V", "--version", prog_name="cnitool",
                      message="%(prog)s %(version)s (CNI spec 0.1.0 - 1.1.0)")
@global_options
def cli() -> None:
    """Run CNI network configurations against Linux network namespaces.

    A drop-in for the Go cnitool: the same verbs, environment variables, container IDs and
    cache files, so either tool can undo what the other did.
    """


cli.add_command(add)
cli.add_command(check)
cli.add_command(delete, name="del")
cli.add_command(gc)
cli.add_command(status)
cli.add_command(validate)
cli.add_command(list_networks)
cli.add_command(plugins)
cli.add_command(invoke)
cli.add_command(show)
cli.add_command(netns_group)
cli.add_command(exec_command)
cli.add_command(completion)


def main(argv: list[str] | None = None, app: App | None = None) -> int:
    """Entry point: run the command, render any error once, exit with its status."""
    from cnitool.core.errors import CniError, ExitCode

    if argv is None:  # the real process, not a test calling main() in its own
        signals.install()
        guard_streams()  # before App() takes sys.stdout: every write to it, click's help included
    app = app or App()
    try:
        try:
            status = cli.main(args=argv, prog_name="cnitool", obj=app, standalone_mode=False)
            app.stdout.flush()  # what is still buffered fails here, where it is reported
        finally:
            # Only reporting is left: a second signal now ends the process, not the report with a
            # traceback (one that lands before this still raises, and is reported just below).
            signals.command_ended()
    except OutputFailed as err:
        # Standard output is the one stream whose failure we can report (on stderr), and only
        # once the command is over: it ran, and its own error, if any, came before.
        discard_stdout()
        if err.broken_pipe:
            return _exit(BROKEN_PIPE_STATUS, argv)  # the reader went away on purpose: quietly
        _report(Output(app).error, err)
        return _exit(int(err.exit_code), argv)
    except CniError as err:
        _report(Output(app).error, err)
        return _exit(int(err.exit_code), argv)
    except (signals.Interrupted, click.exceptions.Abort, KeyboardInterrupt) as interrupt:  # Abort: Ctrl-C while parsing
        _report(Output(app).interrupted, signals.rollback_errors(interrupt))
        return _exit(signals.exit_status(interrupt), argv)
    except click.ClickException as err:
        _report(Output(app).usage_error, err)
        return _exit(err.exit_code, argv)
    except Exception as err:  # anything else is a bug in cnitool
        import traceback

        trace = traceback.format_exc() if app.debug else None
        advice = "see the traceback" if app.debug else "run with --debug for the traceback"
        message = f"{type(err).__name__}: {err} (this is a bug in cnitool; {advice})"
        _report(Output(app).internal_error, message, trace)
        return _exit(int(ExitCode.INTERNAL), argv)
    return _exit(status if isinstance(status, int) else 0, argv)


def _report(write: Callable[..., None], *args: Any) -> None:
    """Write how the command ended on stderr; when stderr cannot carry it either (full, closed),
    the exit status still tells, rather than Python's own traceback and status 1 (or 120)."""
    try:
        write(*args)
    except OSError:
        discard_stderr()


def _exit(status: int, argv: list[str] | None) -> int:
    """Exit the process when run as the console script; return the status when called from tests."""
    if argv is None:
        sys.exit(status)
    return status
