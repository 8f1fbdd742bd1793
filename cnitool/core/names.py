"""Validation of the names that become plugin inputs and cache file paths (VAL-01 … VAL-05).

libcni validates these only on ADD (``ValidateContainerID``, ``ValidateNetworkName``,
``ValidateInterfaceName``); we validate on every verb because the same values build paths under
the cache directory, and a network named ``../x`` must never make DEL touch a file elsewhere.
"""

from __future__ import annotations

import re

from cnitool.core.errors import ConfigError, UsageError

# SPEC.md "Parameters": container ID and network name must match this pattern.
_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")

# Linux IFNAMSIZ is 16 including the terminating NUL.
_MAX_IFNAME_BYTES = 15


def _check_name(value: str, *, missing: str, invalid: str, noun: str, code: int) -> None:
    """``value`` is non-empty and matches _NAME_PATTERN; the messages are libcni's (``invalid`` is
    followed by the quoted value) and the hint names the thing as ``noun``."""
    if value == "":
        raise UsageError(missing, code=code)
    if not _NAME_PATTERN.fullmatch(value):
        raise UsageError(
            f'{invalid} "{value}"',
            code=code,
            hint=f"{noun} starts with a letter or digit and contains only letters, digits, '_', '.' and '-'",
        )


def validate_container_id(container_id: str) -> None:
    """VAL-01."""
    _check_name(
        container_id,
        missing="missing containerID",
        invalid="invalid characters in containerID",
        noun="a container ID",
        code=4,
    )


def validate_network_name(name: str) -> None:
    """VAL-02."""
    _check_name(
        name,
        missing="missing network name",
        invalid="invalid characters found in network name",
        noun="a network name",
        code=7,
    )


def validate_interface_name(ifname: str) -> None:
    """VAL-03: the kernel's rules for a link name (dev_valid_name)."""
    if ifname == "":
        raise UsageError("interface name is empty", code=4)
    if len(ifname.encode()) > _MAX_IFNAME_BYTES:
        raise UsageError(f'interface name "{ifname}" is too long: at most {_MAX_IFNAME_BYTES} bytes', code=4)
    if ifname in (".", ".."):
        raise UsageError(f'interface name "{ifname}" is not allowed', code=4)
    for char in ifname:
        if char in "/:" or char.isspace():
            raise UsageError(f'interface name "{ifname}" contains an invalid character {char!r}', code=4)


def validate_plugin_type(plugin_type: str) -> None:
    """VAL-04: a plugin type is a file name inside the plugin dirs, never a path (CVE-2021-20206)."""
    if plugin_type in ("", ".", "..") or "/" in plugin_type or "\\" in plugin_type:
        raise ConfigError(f'invalid plugin type "{plugin_type}": it must be a plain file name', code=7)


def validate_attachment(network: str, container_id: str, ifname: str) -> None:
    """Everything that identifies an attachment, checked before any plugin runs (VAL-05)."""
    validate_network_name(network)
    validate_container_id(container_id)
    validate_interface_name(ifname)
