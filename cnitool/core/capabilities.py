"""Shortcuts for the well-known capability arguments (CONVENTIONS.md "Well-known Capabilities", REQ-07).

``--port 8080:80/tcp`` is easier to type than ``CAP_ARGS='{"portMappings":[...]}'`` and is
validated before any plugin runs, so a typo is a usage error rather than a plugin's cryptic one.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from cnitool.core.errors import UsageError

_PORT = re.compile(r"(?P<host>\d+):(?P<container>\d+)(?:/(?P<proto>[A-Za-z]+))?(?:@(?P<ip>.+))?")
_MAC = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}")
_PROTOCOLS = ("tcp", "udp", "sctp")
_BANDWIDTH_KEYS = ("ingressRate", "ingressBurst", "egressRate", "egressBurst")


def port_mapping(text: str) -> dict[str, Any]:
    """``HOST:CONTAINER[/PROTO][@HOSTIP]`` → a ``portMappings`` entry."""
    match = _PORT.fullmatch(text)
    if not match:
        raise UsageError(f'invalid --port "{text}": expected HOST:CONTAINER[/PROTO][@HOSTIP], e.g. 8080:80/tcp')
    mapping: dict[str, Any] = {
        "hostPort": _port_number(match["host"], text),
        "containerPort": _port_number(match["container"], text),
        "protocol": (match["proto"] or "tcp").lower(),
    }
    if mapping["protocol"] not in _PROTOCOLS:
        raise UsageError(f'invalid --port "{text}": protocol must be one of {", ".join(_PROTOCOLS)}')
    if match["ip"]:
        mapping["hostIP"] = _ip(match["ip"].strip("[]"), f'--port "{text}"')
    return mapping


def ip_request(text: str) -> str:
    """An ``ips`` entry: an address, with or without prefix length."""
    try:
        return str(ipaddress.ip_interface(text)) if "/" in text else str(ipaddress.ip_address(text))
    except ValueError:
        raise UsageError(f'invalid --ip "{text}": expected an IP address, optionally with /PREFIX') from None


def mac_address(text: str) -> str:
    if not _MAC.fullmatch(text):
        raise UsageError(f'invalid --mac "{text}": expected six colon-separated hex bytes, e.g. 02:42:ac:11:00:02')
    return text.lower()


def bandwidth(text: str) -> dict[str, int]:
    """``ingressRate=N,egressRate=N,...`` (bits per second and bits) → the ``bandwidth`` capability."""
    limits: dict[str, int] = {}
    for pair in filter(None, text.split(",")):
        key, sep, value = pair.partition("=")
        if not sep or key not in _BANDWIDTH_KEYS or not value.isdigit():
            raise UsageError(f'invalid --bandwidth "{text}": expected KEY=INTEGER pairs with KEY one of {", ".join(_BANDWIDTH_KEYS)}')
        limits[key] = int(value)
    if not limits:
        raise UsageError("invalid --bandwidth: no limits given")
    return limits


def shortcut_capabilities(
    *, ports: Sequence[str] = (), ips: Sequence[str] = (), mac: str | None = None,
    bandwidth_spec: str | None = None, dns_servers: Sequence[str] = (),
) -> dict[str, Any]:
    """The capability args the shortcut options stand for; only the ones given appear."""
    capabilities: dict[str, Any] = {}
    if ports:
        capabilities["portMappings"] = [port_mapping(port) for port in ports]
    if ips:
        capabilities["ips"] = [ip_request(ip) for ip in ips]
    if mac is not None:
        capabilities["mac"] = mac_address(mac)
    if bandwidth_spec is not None:
        capabilities["bandwidth"] = bandwidth(bandwidth_spec)
    if dns_servers:
        capabilities["dns"] = {"servers": [_ip(server, "--dns") for server in dns_servers]}
    return capabilities


def _port_number(text: str, whole: str) -> int:
    number = int(text)
    if not 1 <= number <= 65535:
        raise UsageError(f'invalid --port "{whole}": port {number} is not between 1 and 65535')
    return number


def _ip(text: str, where: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise UsageError(f'invalid {where}: "{text}" is not an IP address') from None
