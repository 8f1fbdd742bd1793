"""CNI results of every spec version: one model, parsed from and written to each version's layout.

The model is the 1.1.0 result (the newest); older layouts are views of it:
0.1.0/0.2.0 ``ip4``/``ip6`` objects with their own routes, 0.3.x/0.4.0 ``ips`` with a ``version``
field, 1.x ``ips`` without it (SPEC.md "Result" of each version; libcni pkg/types/{020,040,100}).
``cni_version`` is the version the result is *in*; converting changes it and applies the
losses the reference applies (RES-02).

Parsing follows Go's encoding/json into libcni's structs: unknown keys are dropped, JSON ``null``
means "not set", a key matches a field case-insensitively, and a value of the wrong JSON type is an
error. Addresses are normalised the way Go's ``net.IP``/``net.IPNet`` print them, so that what we
print and cache is what the reference would (RES-04).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from cnitool.core import jsondecode
from cnitool.core.errors import InvalidResult, VersionError
from cnitool.core.gojson import dumps_indented, json_type, replace_lone_surrogates
from cnitool.core.version import KNOWN_VERSIONS, known_version


@dataclass(frozen=True)
class Interface:
    name: str
    mac: str = ""
    sandbox: str = ""
    mtu: int | None = None  # 1.1.0
    socket_path: str = ""  # 1.1.0 "socketPath"
    pci_id: str = ""  # 1.1.0 "pciID"


@dataclass(frozen=True)
class IPConfig:
    address: str  # CIDR, normalised as Go's net.IPNet prints it: "10.1.0.5/24"
    gateway: str | None = None  # plain IP
    interface: int | None = None  # index into Result.interfaces

    @property
    def family(self) -> int:
        """4 or 6, from the address (how 1.x → 0.4.0 derives ``version``)."""
        return _family(self.address)


@dataclass(frozen=True)
class Route:
    dst: str  # CIDR
    gw: str | None = None
    mtu: int | None = None  # 1.1.0
    advmss: int | None = None  # 1.1.0
    priority: int | None = None  # 1.1.0
    table: int | None = None  # 1.1.0
    scope: int | None = None  # 1.1.0

    @property
    def family(self) -> int:
        """4 or 6, from ``dst`` (how a down-conversion to 0.2.0 files it under ip4 or ip6)."""
        return _family(self.dst)


@dataclass(frozen=True)
class DNS:
    nameservers: tuple[str, ...] = ()
    domain: str = ""
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.nameservers or self.domain or self.search or self.options)


@dataclass(frozen=True)
class Result:
    cni_version: str
    interfaces: tuple[Interface, ...] = ()
    ips: tuple[IPConfig, ...] = ()
    routes: tuple[Route, ...] = ()
    dns: DNS = field(default_factory=DNS)


# The three layouts, by the libcni package that implements them.
_LAYOUT_020 = frozenset({"0.1.0", "0.2.0"})
_LAYOUT_040 = frozenset({"0.3.0", "0.3.1", "0.4.0"})
_LAYOUT_100 = frozenset({"1.0.0", "1.1.0"})


def _family(cidr_or_ip: str) -> int:
    # Normalised text: IPv4 (IPv4-mapped included, as Go's To4() decides) never contains ":".
    return 6 if ":" in cidr_or_ip else 4


# --------------------------------------------------------------------------------------- parsing

_Path = str
_T = TypeVar("_T")


def parse_result(data: bytes | str | Mapping[str, Any] | None, *, default_version: str) -> Result:
    """A plugin's stdout, or a cached/prevResult object, as a Result (RES-01, EXEC-06).

    A result without ``cniVersion`` (or with ``""``) is in ``default_version``, the network's
    version, as libcni's ``fixupResultVersion`` does; ``""`` as the network version means 0.1.0
    (VER-02). JSON ``null`` is an empty result.
    """
    obj = _decode(data) if isinstance(data, (bytes, str)) else data
    if obj is None:
        return Result(cni_version=_known_version(default_version or "0.1.0"))
    if not isinstance(obj, Mapping):
        raise InvalidResult(f"result must be a JSON object, not {json_type(obj)}")
    version = _get_str(obj, "cniVersion", "cniVersion") or default_version or "0.1.0"
    version = _known_version(version)
    if version in _LAYOUT_020:
        return _parse_020(obj, version)
    return _parse_ips_layout(obj, version)


def _decode(data: bytes | str) -> Any:
    # Go replaces invalid UTF-8 with U+FFFD instead of failing; Python's json would also guess
    # UTF-16/32 from bytes, which Go never does, so decode explicitly.
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        return jsondecode.loads(text, parse_constant=_reject_constant)
    except ValueError as err:
        shown = text.strip()
        shown = shown if len(shown) <= 200 else shown[:200] + "…"
        problem = f"is {err.msg} at line {err.lineno} column {err.colno}" if isinstance(
            err, jsondecode.NestingTooDeep) else f"is not valid JSON: {err}"
        raise InvalidResult(f"result {problem}", details=f"output: {shown!r}") from None


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are Python extensions; Go's decoder rejects them.
    raise ValueError(f"invalid JSON value {name}")


def _known_version(version: str) -> str:
    """The known version with a result layout that ``version`` names (``"1.0"``: ``"1.0.0"``,
    VER-02); otherwise a VersionError naming it."""
    known = known_version(version)  # garbage → "invalid version" error
    if known is None:
        raise VersionError(
            f'unsupported CNI result version "{version}"',
            details="known versions: " + ", ".join(KNOWN_VERSIONS),
        )
    return known


def _parse_020(obj: Mapping[str, Any], version: str) -> Result:
    """0.1.0/0.2.0: one ``ip4`` and one ``ip6`` object, each with its own routes (types020)."""
    ips: list[IPConfig] = []
    routes: list[Route] = []
    for key, family in (("ip4", 4), ("ip6", 6)):
        section = _get_object(obj, key, key)
        if section is None:
            continue
        address = _cidr(_required_str(section, "ip", f"{key}.ip"), f"{key}.ip")
        if _family(address) != family:
            raise InvalidResult(f'address "{address}" in {key}.ip is not an IPv{family} address')
        ips.append(IPConfig(address=address, gateway=_optional_ip(section, "gateway", f"{key}.gateway")))
        for route in _get_list(section, "routes", f"{key}.routes", _parse_route):
            # The model keeps routes top-level and files them by family when writing 0.2.0 again,
            # so a route under the wrong family would move or vanish: refuse it instead.
            if route.family != family:
                raise InvalidResult(f'route dst "{route.dst}" in {key}.routes is not an IPv{family} network')
            routes.append(route)
    return Result(cni_version=version, ips=tuple(ips), routes=tuple(routes), dns=_parse_dns(obj))


def _parse_ips_layout(obj: Mapping[str, Any], version: str) -> Result:
    """0.3.x/0.4.0 (types040, ``ips[].version``) and 1.x (types100): interfaces, ips, routes, dns."""
    is_100 = version in _LAYOUT_100
    parse_interface = _parse_interface_100 if is_100 else _parse_interface_040
    parse_ip = _parse_ip_100 if is_100 else _parse_ip_040
    return Result(
        cni_version=version,
        interfaces=_get_list(obj, "interfaces", "interfaces", parse_interface),
        ips=_get_list(obj, "ips", "ips", parse_ip),
        routes=_get_list(obj, "routes", "routes", _parse_route),
        dns=_parse_dns(obj),
    )


def _parse_interface_040(obj: Mapping[str, Any], path: _Path) -> Interface:
    # types040.Interface has only name, mac and sandbox; anything else is dropped.
    return Interface(
        name=_get_str(obj, "name", f"{path}.name"),
        mac=_get_str(obj, "mac", f"{path}.mac"),
        sandbox=_get_str(obj, "sandbox", f"{path}.sandbox"),
    )


def _parse_interface_100(obj: Mapping[str, Any], path: _Path) -> Interface:
    return replace(
        _parse_interface_040(obj, path),
        mtu=_optional_nonzero_int(obj, "mtu", f"{path}.mtu"),
        socket_path=_get_str(obj, "socketPath", f"{path}.socketPath"),
        pci_id=_get_str(obj, "pciID", f"{path}.pciID"),
    )


def _parse_ip_100(obj: Mapping[str, Any], path: _Path) -> IPConfig:
    return IPConfig(
        address=_cidr(_required_str(obj, "address", f"{path}.address"), f"{path}.address"),
        gateway=_optional_ip(obj, "gateway", f"{path}.gateway"),
        interface=_optional_int(obj, "interface", f"{path}.interface"),
    )


def _parse_ip_040(obj: Mapping[str, Any], path: _Path) -> IPConfig:
    """0.3.x/0.4.0 ips also carry ``version``; the model derives it from the address instead.

    The reference keeps whatever string it read; since ours is derived, a ``version`` that
    contradicts the address is refused rather than silently corrected. An absent one is allowed.
    """
    ip = _parse_ip_100(obj, path)
    declared = _get_str(obj, "version", f"{path}.version")
    if declared not in ("", str(ip.family)):
        raise InvalidResult(
            f'invalid IP version "{declared}" in {path}.version',
            details=f'address "{ip.address}" is IPv{ip.family}; version must be "4" or "6" and match it',
        )
    return ip


def _parse_route(obj: Mapping[str, Any], path: _Path) -> Route:
    # types.Route is shared by every layout, so 1.1.0's route fields are read in all of them.
    return Route(
        dst=_cidr(_required_str(obj, "dst", f"{path}.dst"), f"{path}.dst"),
        gw=_optional_ip(obj, "gw", f"{path}.gw"),
        mtu=_optional_nonzero_int(obj, "mtu", f"{path}.mtu"),
        advmss=_optional_nonzero_int(obj, "advmss", f"{path}.advmss"),
        priority=_optional_nonzero_int(obj, "priority", f"{path}.priority"),
        # Pointers in Go: 0 is a value here, not "unset".
        table=_optional_int(obj, "table", f"{path}.table"),
        scope=_optional_int(obj, "scope", f"{path}.scope"),
    )


def _parse_dns(obj: Mapping[str, Any]) -> DNS:
    section = _get_object(obj, "dns", "dns")
    if section is None:
        return DNS()
    return DNS(
        nameservers=_get_str_list(section, "nameservers", "dns.nameservers"),
        domain=_get_str(section, "domain", "dns.domain"),
        search=_get_str_list(section, "search", "dns.search"),
        options=_get_str_list(section, "options", "dns.options"),
    )


# ------------------------------------------------------------------------- typed field access


def _lookup(obj: Mapping[str, Any], name: str) -> Any:
    """The value Go's decoder would put into the field ``name``, or None.

    encoding/json matches object keys to struct fields case-insensitively and the last matching
    key wins; ``null`` leaves the field at its zero value.
    """
    folded = name.casefold()
    matches = [key for key in obj if key.casefold() == folded]
    return obj[matches[-1]] if matches else None


def _wrong_type(path: _Path, wanted: str, value: Any) -> InvalidResult:
    return InvalidResult(f"result field {path} must be {wanted}, not {json_type(value)}")


def _as_str(value: Any, path: _Path) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _wrong_type(path, "a string", value)
    # Go decodes an unpaired \ud800 escape to U+FFFD; Python keeps it and could not print it.
    return replace_lone_surrogates(value)


def _get_str(obj: Mapping[str, Any], name: str, path: _Path) -> str:
    return _as_str(_lookup(obj, name), path)


def _required_str(obj: Mapping[str, Any], name: str, path: _Path) -> str:
    # Go would leave a missing address as a nil IPNet and print "<nil>"; refuse it instead.
    value = _get_str(obj, name, path)
    if value == "":
        raise InvalidResult(f"result field {path} is missing")
    return value


def _optional_int(obj: Mapping[str, Any], name: str, path: _Path) -> int | None:
    value = _lookup(obj, name)
    if value is None:
        return None
    # Go's int fields take integral JSON numbers only ("1.5" and "1e3" are errors there too).
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(path, "an integer", value)
    return value


def _optional_nonzero_int(obj: Mapping[str, Any], name: str, path: _Path) -> int | None:
    # Plain Go ints with omitempty: 0 is indistinguishable from "not set" and never printed.
    return _optional_int(obj, name, path) or None


def _get_object(obj: Mapping[str, Any], name: str, path: _Path) -> Mapping[str, Any] | None:
    value = _lookup(obj, name)
    if value is not None and not isinstance(value, Mapping):
        raise _wrong_type(path, "an object", value)
    return value


def _get_items(obj: Mapping[str, Any], name: str, path: _Path) -> list[Any]:
    value = _lookup(obj, name)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise _wrong_type(path, "an array", value)
    return list(value)


def _get_list(
    obj: Mapping[str, Any], name: str, path: _Path, parse: Callable[[Mapping[str, Any], _Path], _T]
) -> tuple[_T, ...]:
    parsed: list[_T] = []
    for index, item in enumerate(_get_items(obj, name, path)):
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            raise _wrong_type(item_path, "an object", item)
        parsed.append(parse(item, item_path))
    return tuple(parsed)


def _get_str_list(obj: Mapping[str, Any], name: str, path: _Path) -> tuple[str, ...]:
    return tuple(_as_str(item, f"{path}[{i}]") for i, item in enumerate(_get_items(obj, name, path)))


# ------------------------------------------------------------------------------- addresses

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(text: str) -> _IPAddress | None:
    """An address as Go's ``net.ParseIP`` accepts it (no zone, no surrounding space), or None."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _ip_text(ip: _IPAddress) -> str:
    # net.IP.String() writes an IPv4-mapped IPv6 address as plain IPv4.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _cidr(text: str, path: _Path) -> str:
    """``text`` as Go's ``types.ParseCIDR`` + ``IPNet.String()`` give it back.

    Host bits are kept ("10.1.0.5/24"), IPv6 is compressed (RFC 5952), and an IPv4-mapped address
    prints as IPv4 with the last 32 bits of its mask (Go's networkNumberAndMask).
    """
    address, slash, prefix = text.partition("/")
    ip = _ip(address)
    if not slash or ip is None or not (prefix.isascii() and prefix.isdigit()) or int(prefix) > ip.max_prefixlen:
        raise InvalidResult(f'invalid CIDR address "{text}" in {path}')
    bits = int(prefix)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        bits = max(bits - 96, 0)
    return f"{_ip_text(ip)}/{bits}"


def _optional_ip(obj: Mapping[str, Any], name: str, path: _Path) -> str | None:
    # net.IP's UnmarshalText: "" (like null) means no address.
    text = _get_str(obj, name, path)
    if text == "":
        return None
    ip = _ip(text)
    if ip is None:
        raise InvalidResult(f'invalid IP address "{text}" in {path}')
    return _ip_text(ip)


# ------------------------------------------------------------------------------ conversion


def convert_result(result: Result, to_version: str) -> Result:
    """``result`` in ``to_version``, losing what the reference loses (RES-02, libcni convert).

    The model is already flat, so going up only changes the version; going down to 0.3.x/0.4.0
    drops the 1.1.0 interface fields (types040.Interface lacks them; routes are the shared
    types.Route and keep theirs); going down to 0.1.0/0.2.0 keeps the first address of each
    family and the routes of those families, with only ``dst`` and ``gw``.
    """
    try:
        target = known_version(to_version)
    except VersionError:
        target = None
    if target is None or result.cni_version not in KNOWN_VERSIONS:
        raise VersionError(f"no converter for CNI result version {result.cni_version} to {to_version}")
    to_version = target  # a network at "1.0" gets a 1.0.0 result (VER-02)
    if to_version == result.cni_version:
        return result
    if to_version in _LAYOUT_020 and result.cni_version not in _LAYOUT_020:
        return _down_to_020(result, to_version)
    if to_version in _LAYOUT_040 and result.cni_version in _LAYOUT_100:
        interfaces = tuple(Interface(name=i.name, mac=i.mac, sandbox=i.sandbox) for i in result.interfaces)
        return replace(result, cni_version=to_version, interfaces=interfaces)
    return replace(result, cni_version=to_version)


def _down_to_020(result: Result, to_version: str) -> Result:
    """types040 convertTo02x: 0.2.0 holds one address per family (SPEC 0.2.0 "Result")."""
    first: dict[int, IPConfig] = {}
    for ip in result.ips:
        first.setdefault(ip.family, IPConfig(address=ip.address, gateway=ip.gateway))
    if not first:
        raise VersionError(
            "cannot convert: no valid IP addresses",
            details=f"a {to_version} result needs an IPv4 or IPv6 address; the {result.cni_version} result has none",
        )
    routes = tuple(Route(dst=r.dst, gw=r.gw) for r in result.routes if r.family in first)
    ips = tuple(first[family] for family in (4, 6) if family in first)
    return Result(cni_version=to_version, ips=ips, routes=routes, dns=result.dns)


# --------------------------------------------------------------------------------- writing

Wire = dict[str, Any]


def result_to_wire(result: Result) -> Wire:
    """The result as the reference marshals it, as a JSON-able dict in the result's own layout.

    Key order is the one the reference writes (RES-04): struct field order for 0.x, sorted keys at
    every level for 1.x (types100 marshals through a map). Used for printing, for ``prevResult``
    in request configs and for the cache.
    """
    if result.cni_version in _LAYOUT_020:
        return _wire_020(result)
    if result.cni_version in _LAYOUT_040:
        return _wire_040(result)
    return _wire_100(result)


def result_to_json(result: Result) -> str:
    """What the reference prints: ``json.MarshalIndent(r, "", "    ")``, no trailing newline."""
    return dumps_indented(result_to_wire(result))


def _omit_empty(pairs: dict[str, Any]) -> Wire:
    """Go's ``omitempty``: drop None, "", 0-valued plain ints (callers pass None) and empty lists."""
    return {key: value for key, value in pairs.items() if value not in (None, "", [], ())}


def _wire_dns(dns: DNS) -> Wire:
    return _omit_empty(
        {
            "nameservers": list(dns.nameservers),
            "domain": dns.domain,
            "search": list(dns.search),
            "options": list(dns.options),
        }
    )


def _wire_route(route: Route) -> Wire:
    # types.Route's JSON: mtu/advmss/priority are ints with omitempty, table/scope are pointers
    # (so an explicit 0 is written).
    wire = _omit_empty(
        {
            "dst": route.dst,
            "gw": route.gw,
            "mtu": route.mtu or None,
            "advmss": route.advmss or None,
            "priority": route.priority or None,
        }
    )
    if route.table is not None:
        wire["table"] = route.table
    if route.scope is not None:
        wire["scope"] = route.scope
    return wire


def _wire_020(result: Result) -> Wire:
    """types020.Result: cniVersion, ip4 {ip, gateway, routes}, ip6, dns (always written)."""
    wire: Wire = {"cniVersion": result.cni_version}
    for family in (4, 6):
        ip = next((ip for ip in result.ips if ip.family == family), None)
        if ip is None:
            continue
        routes = [_wire_route(r) for r in result.routes if r.family == family]
        wire[f"ip{family}"] = _omit_empty({"ip": ip.address, "gateway": ip.gateway, "routes": routes})
    wire["dns"] = _wire_dns(result.dns)
    return wire


def _wire_interface_040(interface: Interface) -> Wire:
    # "name" has no omitempty in either Go struct.
    return {"name": interface.name, **_omit_empty({"mac": interface.mac, "sandbox": interface.sandbox})}


def _wire_interface_100(interface: Interface) -> Wire:
    extra = {"mtu": interface.mtu or None, "socketPath": interface.socket_path, "pciID": interface.pci_id}
    return _sorted({**_wire_interface_040(interface), **_omit_empty(extra)})


def _wire_ip_100(ip: IPConfig) -> Wire:
    # The ipConfig JSON struct: interface (a pointer: index 0 is written), address, gateway.
    return _omit_empty({"interface": ip.interface, "address": ip.address, "gateway": ip.gateway})


def _wire_040(result: Result) -> Wire:
    """types040.Result: cniVersion, interfaces, ips {version, interface, address, gateway}, routes, dns."""
    wire = _omit_empty(
        {
            "cniVersion": result.cni_version,
            "interfaces": [_wire_interface_040(i) for i in result.interfaces],
            "ips": [{"version": str(ip.family), **_wire_ip_100(ip)} for ip in result.ips],
            "routes": [_wire_route(r) for r in result.routes],
        }
    )
    wire["dns"] = _wire_dns(result.dns)  # a struct: never omitted
    return wire


def _wire_100(result: Result) -> Wire:
    """types100.Result: marshalled through a map, so keys are sorted and an empty ``dns`` is dropped."""
    wire = _omit_empty(
        {
            "cniVersion": result.cni_version,
            "interfaces": [_wire_interface_100(i) for i in result.interfaces],
            "ips": [_sorted(_wire_ip_100(ip)) for ip in result.ips],
            "routes": [_sorted(_wire_route(r)) for r in result.routes],
            "dns": _sorted(_wire_dns(result.dns)) or None,
        }
    )
    return _sorted(wire)


def _sorted(wire: Wire) -> Wire:
    """Go writes a map's keys in sorted order."""
    return dict(sorted(wire.items()))
