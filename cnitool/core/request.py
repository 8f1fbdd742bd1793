"""The request config: the JSON each plugin reads on stdin (SPEC.md "Deriving execution configuration").

libcni builds it by injecting keys into the plugin object and re-marshalling it with Go's
encoding/json, which sorts map keys; we produce the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cnitool.core.errors import VersionError
from cnitool.core.gojson import dumps_compact, dumps_go_interface
from cnitool.core.netconf import NetworkConfig, PluginConfig
from cnitool.core.result import Result, result_to_wire
from cnitool.core.version import parse_version

# SPEC.md (GC): the attachments a plugin must keep. Runtimes built on libcni before the key was
# renamed send "cni.dev/attachments", so we send both (REQ-05).
VALID_ATTACHMENTS_KEY = "cni.dev/valid-attachments"
LEGACY_ATTACHMENTS_KEY = "cni.dev/attachments"


def build_request(
    network: NetworkConfig,
    plugin: PluginConfig,
    *,
    prev_result: Result | None = None,
    capability_args: Mapping[str, Any] | None = None,
) -> bytes:
    """The request config of ADD, DEL and CHECK (REQ-01 … REQ-04)."""
    request = _base(network, plugin)
    runtime_config = _runtime_config(plugin, capability_args or {})
    wire = result_to_wire(prev_result) if prev_result is not None else None
    if runtime_config:
        request["runtimeConfig"] = runtime_config
        # libcni injects runtimeConfig with a second InjectConf, which re-reads the whole object,
        # the injected prevResult included, as a Go map: its keys come out sorted too.
        if wire is not None:
            request["prevResult"] = wire
        return _encode(request)
    return _encode(request, prev_result=wire)


def build_gc_request(network: NetworkConfig, plugin: PluginConfig, valid: Iterable[tuple[str, str]]) -> bytes:
    """GC: the plugin object with the attachments to keep, no runtimeConfig, no prevResult (REQ-05)."""
    request = _base(network, plugin)
    attachments = [{"containerID": container_id, "ifname": ifname} for container_id, ifname in valid]
    request[VALID_ATTACHMENTS_KEY] = attachments
    request[LEGACY_ATTACHMENTS_KEY] = attachments
    return _encode(request)


def build_status_request(network: NetworkConfig, plugin: PluginConfig) -> bytes:
    """STATUS: the plugin object with the network's name and version (REQ-06)."""
    return _encode(_base(network, plugin))


def _base(network: NetworkConfig, plugin: PluginConfig) -> dict[str, Any]:
    """REQ-01: the plugin object as written, every plugin sharing the network's name and version."""
    request = dict(plugin.raw)
    request["name"] = network.name
    request["cniVersion"] = network.version
    if _drops_capabilities(network.version):
        request.pop("capabilities", None)
    return request


def _drops_capabilities(version: str) -> bool:
    """REQ-04: spec 1.0.0 says the runtime removes ``capabilities`` (the reference leaves it in)."""
    try:
        return parse_version(version) >= (1, 0, 0)
    except VersionError:  # an unparsable version was reported when the config was loaded
        return False


def _runtime_config(plugin: PluginConfig, capability_args: Mapping[str, Any]) -> dict[str, Any]:
    """REQ-02: the supplied capability args the plugin declares ``true``; it replaces any static runtimeConfig."""
    return {
        name: capability_args[name]
        for name, enabled in plugin.capabilities.items()
        if enabled is True and name in capability_args
    }


def _encode(request: dict[str, Any], *, prev_result: dict[str, Any] | None = None) -> bytes:
    """libcni InjectConf: the plugin object is a Go map (keys sorted at every level, numbers
    float64) re-marshalled with json.Marshal. An injected prevResult is the Go result type, so it
    keeps its own version's layout; without one, a prevResult written in the file is just a map."""
    if prev_result is None:
        return dumps_go_interface(request).encode()
    members = {**request, "prevResult": None}
    parts = [
        f"{dumps_compact(key)}:{dumps_compact(prev_result) if key == 'prevResult' else dumps_go_interface(members[key])}"
        for key in sorted(members)
    ]
    return ("{" + ",".join(parts) + "}").encode()
