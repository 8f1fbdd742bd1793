"""SIGINT, SIGTERM and SIGHUP: every plugin running is killed at once, then the command is
interrupted.

A CI job's timeout, ``systemctl stop`` or a closed terminal sends SIGTERM or SIGHUP, not SIGINT.
Raised as a KeyboardInterrupt, they take the path of Ctrl-C: an unfinished ADD is rolled back
(ADD-02), then cnitool exits with 128 + the signal number. Before raising, the handler kills the
process group of every plugin running (``invoke.interrupt_all``): the KeyboardInterrupt reaches
only the main thread, while the VERSION probes of ``plugins`` and ``validate`` run in a pool of
threads that core waits for; it also marks every runner interrupted, so that the rollback's DELs
get at most ``AFTER_INTERRUPT_TIMEOUT`` even when the signal came between two plugin calls.

Once the command is over and ``main`` only reports how it ended, the signals get their default
disposition back (``command_ended``): a further one ends the process the operating system's way
instead of raising a KeyboardInterrupt into the report, which would end in a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType

import click

from cnitool.core.errors import ExitCode

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_installed: list[int] = []  # the signals install() took over (not those ignored at start)
_ended = False  # command_ended() was called: a signal still pending ends the process


class Terminated(KeyboardInterrupt):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Interrupted(Exception):
    """A KeyboardInterrupt (or Terminated) of a command, carried past click as its ``__cause__``.

    click answers a KeyboardInterrupt with a blank line on stderr (to end the terminal's ``^C``
    echo), which would break "every stderr line is one JSON object" with ``-o json`` (CLI-05);
    ``InterruptibleGroup`` hands it on as this, and ``main`` reports it once, its own way.
    """


class InterruptibleGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as interrupt:
            raise Interrupted() from interrupt


def interrupt_for(signum: int) -> KeyboardInterrupt:
    """Stop every plugin running and mark every runner interrupted, then return what signal
    ``signum`` raises: KeyboardInterrupt for Ctrl-C, Terminated for the others.

    Every handler that raises for a signal goes through here: ours, and exec's (``ExecSignals``).
    """
    invoke = sys.modules.get("cnitool.invoke")  # never imported in a handler: none imported, none ran
    interrupt_all = getattr(invoke, "interrupt_all", None)
    if interrupt_all is not None:
        interrupt_all()
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _handle(signum: int, _frame: FrameType | None) -> None:
    if _ended:  # came just before command_ended() took effect: as the default disposition would
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise interrupt_for(signum)


def install() -> None:
    """Take SIGINT, SIGTERM and SIGHUP over, for the real process only (not a test's main())."""
    global _ended
    _ended = False
    for signum in HANDLED:
        # An ignored signal stays ignored: `nohup cnitool add ...` must survive the closed terminal,
        # and a background job of a non-interactive shell (SIGINT ignored) is not Ctrl-C'd.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _handle)
            _installed.append(signum)


def command_ended() -> None:
    """The command has finished or failed; only its outcome is reported now. A further signal
    ends the process with its default disposition, not with a KeyboardInterrupt in the report."""
    global _ended
    if not _installed:
        return
    _ended = True
    for signum in _installed:
        signal.signal(signum, signal.SIG_DFL)


def reset() -> None:
    """Forget install() and any interrupt (for tests; the dispositions are the caller's to restore)."""
    global _ended
    _installed.clear()
    _ended = False
    invoke = sys.modules.get("cnitool.invoke")
    if invoke is not None:
        invoke.reset_interrupt()


def chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it was raised from or while handling, outermost first (click wraps a
    KeyboardInterrupt in an Abort, InterruptibleGroup in an Interrupted)."""
    cause: BaseException | None = error
    while cause is not None:
        yield cause
        cause = cause.__cause__ or cause.__context__


def exit_status(interrupt: BaseException) -> int:
    """128 + N for the signal that ended us: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    for cause in chain(interrupt):
        if isinstance(cause, Terminated):
            return 128 + cause.signum
    return int(ExitCode.INTERRUPTED)


def rollback_errors(interrupt: BaseException) -> list:
    """What the rollback of an interrupted ADD could not undo (core attaches it to the interrupt)."""
    for cause in chain(interrupt):
        if hasattr(cause, "rollback_errors"):
            return list(cause.rollback_errors)
    return []
