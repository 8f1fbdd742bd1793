"""Asking a plugin which spec versions it supports (VERSION; libcni GetVersionInfo, VER-04)."""

from __future__ import annotations

import json

from cnitool.core import jsondecode
from cnitool.core.api import Cni
from cnitool.core.errors import InvalidResult
from cnitool.core.names import validate_plugin_type
from cnitool.core.netconf import PluginConfig
from cnitool.core.pluginexec import plugin_failure
from cnitool.core.runner import PluginInvocation
from cnitool.core.version import CURRENT_VERSION

# Plugins written before VERSION existed answer with this error (spec 0.1.0).
_UNKNOWN_VERSION_COMMAND = "unknown CNI_COMMAND: VERSION"


def plugin_versions(cni: Cni, plugin_type: str) -> list[str]:
    """The versions the plugin says it supports, as it lists them."""
    validate_plugin_type(plugin_type)
    plugin = PluginConfig({"type": plugin_type})
    invocation = PluginInvocation(
        plugin_type=plugin_type,
        command="VERSION",
        cni_env=cni.caller.environment("VERSION", None),
        # libcni: fmt.Sprintf(`{"cniVersion":%q}`, version.Current()), compact.
        stdin=json.dumps({"cniVersion": CURRENT_VERSION}, separators=(",", ":")).encode(),
        plugin_dirs=tuple(cni.plugin_dirs),
    )
    output = cni.runner.run(invocation)
    if output.exit_status != 0:
        if _reported_message(output.stdout) == _UNKNOWN_VERSION_COMMAND:
            return ["0.1.0"]
        raise plugin_failure(plugin, "VERSION", output)
    return _decode(plugin_type, output.stdout)


def _reported_message(stdout: bytes) -> str | None:
    try:
        document = jsondecode.loads(stdout)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return document.get("msg") if isinstance(document, dict) else None


def _decode(plugin_type: str, stdout: bytes) -> list[str]:
    """libcni's PluginDecoder: ``cniVersion`` required; a 0.2.0 answer may omit ``supportedVersions``."""
    try:
        document = jsondecode.loads(stdout)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        problem = err.msg if isinstance(err, jsondecode.NestingTooDeep) else "not JSON"
        raise InvalidResult(f'plugin type="{plugin_type}" failed (version): decoding version info: {problem}',
                            details=stdout.decode(errors="replace")[:500], plugin=plugin_type, command="VERSION") from None
    if not isinstance(document, dict) or not isinstance(document.get("cniVersion"), str) or not document["cniVersion"]:
        raise InvalidResult(f'plugin type="{plugin_type}" failed (version): decoding version info: missing field cniVersion',
                            plugin=plugin_type, command="VERSION")
    supported = document.get("supportedVersions")
    if not supported:
        if document["cniVersion"] == "0.2.0":
            return ["0.1.0", "0.2.0"]
        raise InvalidResult(f'plugin type="{plugin_type}" failed (version): decoding version info: missing field supportedVersions',
                            plugin=plugin_type, command="VERSION")
    if not isinstance(supported, list) or not all(isinstance(v, str) for v in supported):
        raise InvalidResult(f'plugin type="{plugin_type}" failed (version): supportedVersions must be a list of strings',
                            plugin=plugin_type, command="VERSION")
    return list(supported)
