"""A spinner naming the plugin that is running, for people at a terminal.

Shown only when stderr is a terminal, the output is for people (not ``-o json``) and no trace is
printed there. It is active only while a plugin process runs, so it never overlaps the creation
of a namespace (pyroute2 forks; forking while rich's refresh thread runs is unsafe).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnitool.core.pluginexec import VERB_WORDS
from cnitool.core.runner import PluginInvocation, PluginOutput, PluginRunner

if TYPE_CHECKING:
    from rich.console import Console


class SpinnerRunner:
    """Wraps a runner; shows ``running bridge (add)…`` while each call runs."""

    def __init__(self, inner: PluginRunner, console: Console) -> None:
        self.inner = inner
        self.console = console

    def run(self, invocation: PluginInvocation) -> PluginOutput:
        verb = VERB_WORDS.get(invocation.command, invocation.command.lower())
        with self.console.status(f"running {invocation.plugin_type} ({verb})…", spinner="dots"):
            return self.inner.run(invocation)
