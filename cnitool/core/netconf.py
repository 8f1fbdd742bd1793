"""Network configuration values: a network (a list of plugin configs) and one plugin config.

A single-plugin ``.conf``/``.json`` is lifted into a list when loaded (SPEC.md "Network
configuration"; libcni ``ConfListFromConf``), so the rest of the code only ever sees lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cnitool.core.version import effective_version


@dataclass(frozen=True)
class PluginConfig:
    """One plugin object of a network's ``plugins`` list, kept exactly as written.

    Unknown keys are kept (REQ-01: the request config starts from the object as written).
    """

    raw: Mapping[str, Any]

    @property
    def type(self) -> str:
        return self.raw["type"]

    @property
    def name(self) -> str | None:
        """The plugin object's own ``name`` key, if it has one (used in error messages, EXEC-10)."""
        value = self.raw.get("name")
        return value if isinstance(value, str) else None

    @property
    def capabilities(self) -> Mapping[str, bool]:
        value = self.raw.get("capabilities")
        return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class NetworkConfig:
    """A network configuration list, parsed and type-checked."""

    name: str
    cni_version: str  # as written; "" when the file has no cniVersion
    cni_versions: tuple[str, ...] | None  # the optional cniVersions list (VER-03)
    plugins: tuple[PluginConfig, ...]
    raw_bytes: bytes  # what libcni caches as "config" (CACHE-02): the list's own bytes
    disable_check: bool = False
    disable_gc: bool = False
    load_only_inlined_plugins: bool = False
    source: str | None = None  # the file it came from, "-" for stdin, None when built in memory

    @property
    def version(self) -> str:
        """The effective spec version this network runs at (VER-03)."""
        return effective_version(self.cni_version, self.cni_versions)
