"""STATUS of a network: is every plugin ready to take ADDs? (SPEC.md 1.1.0 "STATUS", STATUS-01)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cnitool.core.api import Cni
from cnitool.core.errors import CniError
from cnitool.core.netconf import NetworkConfig
from cnitool.core.request import build_status_request
from cnitool.core.version import version_at_least


@dataclass(frozen=True)
class PluginStatus:
    plugin: str
    state: str  # "ready", "failed" or "not asked" (after the first failure, as libcni stops there)
    error: CniError | None = None


@dataclass
class StatusReport:
    network: str
    version: str
    applicable: bool
    plugins: list[PluginStatus] = field(default_factory=list)

    @property
    def error(self) -> CniError | None:
        return next((status.error for status in self.plugins if status.error is not None), None)


def network_status(cni: Cni, network: NetworkConfig) -> StatusReport:
    """STATUS to each plugin in order; the first error ends it. Below 1.1.0 STATUS does not apply."""
    version = network.version or "0.1.0"
    applicable = version_at_least(version, "1.1.0")
    report = StatusReport(network=network.name, version=network.version, applicable=applicable)
    if not applicable:
        return report
    failed = False
    for plugin in network.plugins:
        if failed:
            report.plugins.append(PluginStatus(plugin.type, "not asked"))
            continue
        try:
            cni.caller.call(plugin, "STATUS", build_status_request(network, plugin), None)
            report.plugins.append(PluginStatus(plugin.type, "ready"))
        except CniError as err:
            report.plugins.append(PluginStatus(plugin.type, "failed", err))
            failed = True
    return report
