"""Helpers for the core unit tests: a scripted fake plugin runner and network builders.

Nothing here starts a process: ``FakeRunner`` implements ``cnitool.core.runner.PluginRunner``,
records every invocation and answers from a script keyed by (plugin type, command).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from cnitool.core.errors import CniError
from cnitool.core.loader import load_network_bytes
from cnitool.core.netconf import NetworkConfig
from cnitool.core.runner import PluginInvocation, PluginOutput
from cnitool.core.runtime import RuntimeConf

Response = Union[PluginOutput, CniError, Callable[[PluginInvocation], Union[PluginOutput, CniError]]]


def ok(stdout: bytes | str | Mapping[str, Any] = b"", stderr: bytes = b"") -> PluginOutput:
    """A successful plugin run; a mapping is written as JSON."""
    if isinstance(stdout, Mapping):
        stdout = json.dumps(stdout)
    if isinstance(stdout, str):
        stdout = stdout.encode()
    return PluginOutput(exit_status=0, stdout=stdout, stderr=stderr, duration=0.01)


def fail(stdout: bytes | str | Mapping[str, Any] = b"", stderr: bytes = b"", exit_status: int = 1) -> PluginOutput:
    """A failed plugin run."""
    if isinstance(stdout, Mapping):
        stdout = json.dumps(stdout)
    if isinstance(stdout, str):
        stdout = stdout.encode()
    return PluginOutput(exit_status=exit_status, stdout=stdout, stderr=stderr, duration=0.01)


@dataclass(frozen=True)
class Call:
    """One recorded invocation, with the request config already decoded."""

    plugin_type: str
    command: str
    env: Mapping[str, str]
    stdin: bytes
    plugin_dirs: tuple[str, ...]

    @property
    def request(self) -> dict[str, Any]:
        return json.loads(self.stdin)


class FakeRunner:
    """A PluginRunner that runs nothing.

    ``script(type, command, response, ...)`` queues responses: each call of that (type, command)
    takes the next one, the last one repeats. A response is a PluginOutput, a CniError to raise
    (PluginNotFound, PluginTimeout, ...) or a callable computing either from the invocation.
    Unscripted ADD echoes ``prevResult`` (or answers one address in the request's version);
    every other unscripted command succeeds with empty output.
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._script: dict[tuple[str, str], list[Response]] = {}

    def script(self, plugin_type: str, command: str, *responses: Response) -> FakeRunner:
        self._script[(plugin_type, command)] = list(responses)
        return self

    def run(self, invocation: PluginInvocation) -> PluginOutput:
        self.calls.append(
            Call(
                invocation.plugin_type,
                invocation.command,
                dict(invocation.cni_env),
                invocation.stdin,
                tuple(invocation.plugin_dirs),
            )
        )
        queue = self._script.get((invocation.plugin_type, invocation.command))
        if queue:
            response = queue.pop(0) if len(queue) > 1 else queue[0]
        else:
            response = _default_response
        if callable(response) and not isinstance(response, (PluginOutput, CniError)):
            response = response(invocation)
        if isinstance(response, CniError):
            raise response
        return response

    def commands(self) -> list[tuple[str, str]]:
        return [(call.plugin_type, call.command) for call in self.calls]


def default_result(version: str, address: str = "10.0.0.2/24") -> dict[str, Any]:
    if version in ("0.1.0", "0.2.0"):
        return {"cniVersion": version, "ip4": {"ip": address}}
    ip: dict[str, Any] = {"address": address}
    if version in ("0.3.0", "0.3.1", "0.4.0"):
        ip["version"] = "4"
    return {"cniVersion": version, "ips": [ip]}


def _default_response(invocation: PluginInvocation) -> PluginOutput:
    if invocation.command != "ADD":
        return ok()
    request = json.loads(invocation.stdin)
    if "prevResult" in request:
        return ok(request["prevResult"])
    return ok(default_result(request.get("cniVersion") or "0.1.0"))


def network_bytes(
    plugins: list[dict[str, Any]],
    *,
    name: str = "net1",
    version: str | None = "1.0.0",
    **top: Any,
) -> bytes:
    document: dict[str, Any] = {"name": name}
    if version is not None:
        document["cniVersion"] = version
    document.update(top)
    document["plugins"] = plugins
    return json.dumps(document).encode()


def make_network(
    plugins: list[dict[str, Any]] | None = None,
    *,
    name: str = "net1",
    version: str | None = "1.0.0",
    **top: Any,
) -> NetworkConfig:
    """A configuration list loaded the way the loader loads a .conflist."""
    if plugins is None:
        plugins = [{"type": "bridge"}]
    data = network_bytes(plugins, name=name, version=version, **top)
    network, _warnings = load_network_bytes(data, source="test.conflist", is_list=True)
    return network


def make_runtime(
    container_id: str = "c1",
    netns: str = "/var/run/netns/ns1",
    ifname: str = "eth0",
    args: tuple[tuple[str, str], ...] = (),
    capability_args: Mapping[str, Any] | None = None,
) -> RuntimeConf:
    return RuntimeConf(container_id, netns, ifname, args, dict(capability_args or {}))
