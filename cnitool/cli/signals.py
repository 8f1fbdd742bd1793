"""SIGTERM and SIGHUP end cnitool the way Ctrl-C does.

A CI job's timeout, ``systemctl stop`` or a closed terminal sends these, not SIGINT. Raised as a
KeyboardInterrupt, they take the same path: the running plugin's process group is killed and an
unfinished ADD is rolled back (ADD-02), then cnitool exits with 128 + the signal number.
"""

from __future__ import annotations

import signal
from types import FrameType

import click

from cnitool.core.errors import ExitCode

HANDLED = (signal.SIGTERM, signal.SIGHUP)


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
    """What signal ``signum`` raises: KeyboardInterrupt for Ctrl-C, Terminated for the others."""
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def install() -> None:
    for signum in HANDLED:
        # An ignored signal stays ignored: `nohup cnitool add ...` must survive the closed terminal.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _raise_terminated)


def exit_status(interrupt: BaseException) -> int:
    """128 + N for the signal that ended us: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    cause: BaseException | None = interrupt
    while cause is not None:  # click wraps the KeyboardInterrupt in an Abort
        if isinstance(cause, Terminated):
            return 128 + cause.signum
        cause = cause.__cause__ or cause.__context__
    return int(ExitCode.INTERRUPTED)
