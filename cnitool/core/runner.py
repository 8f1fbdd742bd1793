"""The plugin-runner interface: how core asks for a plugin to be executed.

Core decides *what* to run (the CNI_* environment and the request config) and how to read the
answer (EXEC-06, EXEC-07); a runner only finds the binary and runs it. The real runner is
``cnitool.invoke.SubprocessRunner``; tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PluginInvocation:
    """One call of one plugin binary."""

    plugin_type: str  # the binary's name, already validated (VAL-04)
    command: str  # ADD, DEL, CHECK, GC, STATUS, VERSION
    cni_env: Mapping[str, str]  # CNI_COMMAND, CNI_CONTAINERID, ... (EXEC-03); override inherited values
    stdin: bytes  # the request config
    plugin_dirs: Sequence[str]  # where to look for the binary, in order (EXEC-02)


@dataclass(frozen=True)
class PluginOutput:
    """What a plugin process did: its exit status and its two output streams, unparsed."""

    exit_status: int
    stdout: bytes
    stderr: bytes
    duration: float  # seconds


class PluginRunner(Protocol):
    def run(self, invocation: PluginInvocation) -> PluginOutput:
        """Run the plugin and return what it did.

        Raises ``PluginNotFound`` when no such binary is in the plugin dirs (nothing was started)
        and ``PluginTimeout`` when it had to be killed.
        """
        ...
