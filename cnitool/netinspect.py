"""The kernel's live view of an attachment, read with pyroute2, compared with its cached result.

``cnitool show --tree`` draws what this module returns: the namespace side (the attachment's
interface, its addresses, the namespace's routes), the host side (the interface's veth peer or
parent found by ifindex and link-netnsid, and the bridge it is enslaved to) and the differences
from the cached ADD result (an address in the cache but not on the interface, a MAC that changed,
an interface that is gone ...).

Reading and comparing are separate: ``read_snapshot`` asks the kernel and returns plain frozen
dataclasses; ``compare`` is a pure function of snapshots and a result, testable without root.

Never creates anything: pyroute2's ``IPRoute(netns=PATH)`` creates a missing namespace unless
given ``flags=0`` (verified on pyroute2 0.9.7: with ``flags=0`` a missing path raises
FileNotFoundError), and we check that the path is a namespace before opening it at all.
pyroute2 is imported inside the functions that talk to the kernel (design "Speed rules").
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from cnitool.core.result import Result

# rtnetlink constants (linux/rtnetlink.h): the routes worth showing are unicast routes outside
# the kernel's "local" table (which holds one entry per local and broadcast address).
_RTN_UNICAST = 1
_RT_TABLE_LOCAL = 255
_RT_TABLE_MAIN = 254
_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}


@dataclass(frozen=True)
class Link:
    """One network device as rtnetlink reports it."""

    index: int
    name: str
    kind: str = ""  # IFLA_INFO_KIND: "veth", "bridge", "macvlan" ...; "" for physical/loopback
    mac: str = ""
    mtu: int | None = None
    state: str = ""  # operstate: "UP", "DOWN", "UNKNOWN" ...
    master: int | None = None  # IFLA_MASTER: the bridge (or bond, vrf) this device is enslaved to
    link: int | None = None  # IFLA_LINK: the veth peer's or the parent's ifindex
    link_netnsid: int | None = None  # IFLA_LINK_NETNSID: set when ``link`` is in another namespace


@dataclass(frozen=True)
class Address:
    index: int  # the device it is on
    cidr: str  # normalised like ipaddress.ip_interface: "10.1.0.5/24", "fe80::1/64"
    scope: str = "global"


@dataclass(frozen=True)
class Route:
    dst: str  # CIDR; "0.0.0.0/0" or "::/0" for a default route
    gateway: str | None = None
    oif: int | None = None
    scope: str = "global"
    table: int = _RT_TABLE_MAIN
    metric: int | None = None


@dataclass(frozen=True)
class Snapshot:
    """Devices, addresses and routes of one network namespace."""

    links: tuple[Link, ...] = ()
    addresses: tuple[Address, ...] = ()
    routes: tuple[Route, ...] = ()

    def by_name(self, name: str) -> Link | None:
        return next((link for link in self.links if link.name == name), None)

    def by_index(self, index: int | None) -> Link | None:
        if index is None:
            return None
        return next((link for link in self.links if link.index == index), None)

    def addresses_of(self, index: int) -> tuple[Address, ...]:
        return tuple(address for address in self.addresses if address.index == index)


@dataclass(frozen=True)
class Difference:
    """One way the kernel disagrees with the cached result."""

    kind: str  # netns-missing, interface-missing, mac-mismatch, address-missing, address-not-cached,
    #            route-missing, peer-missing, peer-mismatch, not-in-bridge
    side: str  # "namespace" or "host"
    subject: str  # the interface, address or route concerned
    message: str
    cached: str | None = None
    live: str | None = None


@dataclass(frozen=True)
class InterfaceView:
    """An interface of the attachment: what the cache says and what the kernel has (``link`` None: gone)."""

    name: str
    side: str  # "namespace" or "host"
    role: str  # "interface", "veth peer", "parent", "bridge", "cached"
    link: Link | None
    cached_mac: str = ""
    addresses: tuple[Address, ...] = ()  # live
    missing_addresses: tuple[str, ...] = ()  # cached but not on the device


@dataclass(frozen=True)
class AttachmentState:
    netns: str
    ifname: str
    netns_exists: bool
    interface: InterfaceView | None  # the attachment's interface in the namespace
    others: tuple[InterfaceView, ...] = ()  # other namespace-side interfaces of the result
    routes: tuple[Route, ...] = ()  # the namespace's routes (all non-local tables)
    missing_routes: tuple[str, ...] = ()  # cached routes not in the namespace
    peer: InterfaceView | None = None  # host side: the veth peer (or the parent of a macvlan ...)
    master: InterfaceView | None = None  # host side: the bridge the peer is enslaved to
    host: tuple[InterfaceView, ...] = ()  # other host-side interfaces of the result
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with camelCase keys like the rest of cnitool's documents (``netnsExists``)."""
        return _camel(asdict(self))


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(key): _camel(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_camel(item) for item in value]
    return value


def _camel_key(key: str) -> str:
    first, *rest = key.split("_")
    return first + "".join(part.capitalize() for part in rest)


# ------------------------------------------------------------------------------------ reading


def namespace_exists(path: str) -> bool:
    from cnitool import netns

    return netns.exists(path)


def read_snapshot(netns_path: str | None = None) -> Snapshot:
    """The devices, addresses and routes of the namespace at ``netns_path`` (None: our own).

    The caller checks the namespace exists first; ``flags=0`` makes pyroute2 fail instead of
    creating it if it vanished in between.
    """
    from pyroute2 import IPRoute

    # bytes: pyroute2 encodes a str path as ASCII, which fails for a non-ASCII name (as in netns.create).
    kwargs: dict[str, Any] = {} if netns_path is None else {"netns": os.fsencode(netns_path), "flags": 0}
    with IPRoute(**kwargs) as ipr:
        links = tuple(_link(message) for message in ipr.get_links())
        addresses = tuple(address for address in (_address(m) for m in ipr.get_addr()) if address is not None)
        routes = tuple(route for route in (_route(m) for m in ipr.get_routes()) if route is not None)
    return Snapshot(links, addresses, routes)


def host_nsid_of(netns_path: str) -> int | None:
    """The id our namespace gives the one at ``netns_path`` (what a host veth's link-netnsid names)."""
    from pyroute2 import IPRoute

    try:
        fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        with IPRoute() as ipr:
            answer = ipr.get_netnsid(fd=fd)
    except Exception:  # older kernels answer nothing usable; the ifindex cross-check still holds
        return None
    finally:
        os.close(fd)
    nsid = (answer or {}).get("nsid")
    return nsid if isinstance(nsid, int) and nsid >= 0 else None


def inspect_attachment(netns_path: str, ifname: str, result: Result | None) -> AttachmentState:
    """Read the kernel (namespace side only when the namespace exists) and compare with ``result``."""
    host = read_snapshot(None)
    if not namespace_exists(netns_path):
        return compare(netns_path, ifname, result, None, host, None)
    inside = read_snapshot(netns_path)
    return compare(netns_path, ifname, result, inside, host, host_nsid_of(netns_path))


def _link(message: Any) -> Link:
    info = message.get("IFLA_LINKINFO")
    kind = info.get("IFLA_INFO_KIND") if info is not None else None
    return Link(
        index=int(message["index"]),
        name=message.get("IFLA_IFNAME") or "",
        kind=kind or "",
        mac=(message.get("IFLA_ADDRESS") or "").lower(),
        mtu=message.get("IFLA_MTU"),
        state=message.get("IFLA_OPERSTATE") or "",
        master=message.get("IFLA_MASTER"),
        link=message.get("IFLA_LINK"),
        link_netnsid=message.get("IFLA_LINK_NETNSID"),
    )


def _address(message: Any) -> Address | None:
    # IFA_LOCAL is the device's own address; IFA_ADDRESS is the peer's on point-to-point links.
    ip = message.get("IFA_LOCAL") or message.get("IFA_ADDRESS")
    if not ip:
        return None
    try:
        cidr = ipaddress.ip_interface(f"{ip}/{message['prefixlen']}").with_prefixlen
    except ValueError:
        return None
    return Address(index=int(message["index"]), cidr=cidr, scope=_scope(message["scope"]))


def _route(message: Any) -> Route | None:
    table = message.get("RTA_TABLE") or message["table"]
    if message["type"] != _RTN_UNICAST or table == _RT_TABLE_LOCAL:
        return None
    default = "0.0.0.0" if message["family"] == 2 else "::"
    dst = f"{message.get('RTA_DST') or default}/{message['dst_len']}"
    try:
        dst = str(ipaddress.ip_network(dst, strict=False))
    except ValueError:
        return None
    return Route(dst=dst, gateway=message.get("RTA_GATEWAY"), oif=message.get("RTA_OIF"),
                 scope=_scope(message["scope"]), table=int(table), metric=message.get("RTA_PRIORITY"))


def _scope(value: int) -> str:
    return _SCOPES.get(value, str(value))


# ---------------------------------------------------------------------------------- comparing


def compare(netns_path: str, ifname: str, result: Result | None, inside: Snapshot | None, host: Snapshot,
            nsid: int | None) -> AttachmentState:
    """The attachment as the kernel has it, with every difference from the cached ``result``.

    ``inside`` None means the namespace does not exist. ``nsid`` is the id our namespace gives
    the attachment's (None when unknown): with it, a host veth is the interface's peer only when
    its link-netnsid names that namespace, not merely when the ifindexes happen to match.
    """
    differences: list[Difference] = []
    cached = result.interfaces if result is not None else ()
    ns_cached = [(i, c) for i, c in enumerate(cached) if c.sandbox]
    host_cached = [(i, c) for i, c in enumerate(cached) if not c.sandbox]
    main_index = next((i for i, c in ns_cached if c.name == ifname), None)

    def cached_ips(index: int | None) -> list[str]:
        if result is None:
            return []
        found = []
        for ip in result.ips:
            # An IP without an interface index belongs to the attachment's interface.
            owner = ip.interface if ip.interface is not None else main_index
            if owner == index:
                found.append(_normal_cidr(ip.address))
        return found

    if inside is None:
        differences.append(Difference("netns-missing", "namespace", netns_path,
                                      f"namespace {netns_path} does not exist any more"))
        interface = None
        others: tuple[InterfaceView, ...] = ()
        routes: tuple[Route, ...] = ()
        missing_routes: tuple[str, ...] = ()
    else:
        interface = _view(ifname, "namespace", "interface", inside,
                          cached[main_index].mac if main_index is not None else "",
                          cached_ips(main_index), differences)
        others = tuple(_view(c.name, "namespace", "cached", inside, c.mac, cached_ips(i), differences)
                       for i, c in ns_cached if c.name != ifname)
        routes = inside.routes
        missing_routes = _missing_routes(result, inside, differences)

    # Host side: the namespace interface's veth peer (or parent), then the bridge it is in.
    peer = master = None
    ns_link = interface.link if interface is not None else None
    if ns_link is not None and ns_link.link is not None and ns_link.link_netnsid is not None:
        candidate = host.by_index(ns_link.link)
        if ns_link.kind == "veth":
            if (candidate is not None and candidate.link == ns_link.index
                    and (nsid is None or candidate.link_netnsid == nsid)):
                peer_cached = next((c for _, c in host_cached if c.name == candidate.name), None)
                peer = _view(candidate.name, "host", "veth peer", host, peer_cached.mac if peer_cached else "",
                             [], differences)
            else:
                differences.append(Difference("peer-missing", "host", ifname,
                                              f"the veth peer of {ifname} is not in this namespace"))
        elif candidate is not None:
            peer = _view(candidate.name, "host", "parent", host, "", [], differences)
    if peer is not None and peer.link is not None and peer.link.master is not None:
        bridge = host.by_index(peer.link.master)
        if bridge is not None:
            bridge_cached = next((c for _, c in host_cached if c.name == bridge.name), None)
            master = _view(bridge.name, "host", bridge.kind or "master", host,
                           bridge_cached.mac if bridge_cached else "", [], differences)

    shown = {view.name for view in (peer, master) if view is not None}
    others_host = []
    for index, item in host_cached:
        if item.name in shown:
            continue
        view = _view(item.name, "host", "cached", host, item.mac, cached_ips(index), differences)
        others_host.append(view)
        live = view.link
        if live is None or peer is None:
            continue
        if live.kind == "bridge" and (peer.link is None or peer.link.master != live.index):
            differences.append(Difference("not-in-bridge", "host", peer.name,
                                          f"{peer.name} is not enslaved to bridge {item.name} as cached",
                                          cached=item.name, live=master.name if master else None))
        elif live.kind == "veth" and peer.role == "veth peer":
            differences.append(Difference("peer-mismatch", "host", item.name,
                                          f"the cached host veth is {item.name}, but {ifname}'s peer is {peer.name}",
                                          cached=item.name, live=peer.name))
    return AttachmentState(
        netns=netns_path,
        ifname=ifname,
        netns_exists=inside is not None,
        interface=interface,
        others=others,
        routes=routes,
        missing_routes=missing_routes,
        peer=peer,
        master=master,
        host=tuple(others_host),
        differences=tuple(differences),
    )


def _view(name: str, side: str, role: str, snapshot: Snapshot, cached_mac: str, cached_cidrs: list[str],
          differences: list[Difference]) -> InterfaceView:
    link = snapshot.by_name(name)
    where = "in the namespace" if side == "namespace" else "on the host"
    if link is None:
        differences.append(Difference("interface-missing", side, name, f"{name} is cached but not {where}"))
        return InterfaceView(name, side, role, None, cached_mac, (), tuple(cached_cidrs))
    if cached_mac and link.mac and cached_mac.lower() != link.mac.lower():
        differences.append(Difference("mac-mismatch", side, name,
                                      f"{name} has MAC {link.mac}, the cache says {cached_mac.lower()}",
                                      cached=cached_mac.lower(), live=link.mac))
    live = snapshot.addresses_of(link.index)
    live_cidrs = {address.cidr for address in live}
    missing = tuple(cidr for cidr in cached_cidrs if cidr not in live_cidrs)
    for cidr in missing:
        differences.append(Difference("address-missing", side, cidr, f"{cidr} is cached but not on {name}",
                                      cached=cidr))
    if cached_cidrs or role == "interface":
        for address in live:
            if address.scope == "global" and address.cidr not in cached_cidrs:
                differences.append(Difference("address-not-cached", side, address.cidr,
                                              f"{address.cidr} is on {name} but not in the cached result",
                                              live=address.cidr))
    return InterfaceView(name, side, role, link, cached_mac.lower(), live, missing)


def _missing_routes(result: Result | None, inside: Snapshot, differences: list[Difference]) -> tuple[str, ...]:
    if result is None:
        return ()
    missing = []
    for route in result.routes:
        dst = _normal_network(route.dst)
        gw = route.gw
        present = any(live.dst == dst and (gw is None or live.gateway == _normal_ip(gw)) for live in inside.routes)
        if not present:
            text = dst + (f" via {gw}" if gw else "")
            missing.append(text)
            differences.append(Difference("route-missing", "namespace", text,
                                          f"route {text} is cached but not in the namespace", cached=text))
    return tuple(missing)


def _normal_cidr(text: str) -> str:
    try:
        return ipaddress.ip_interface(text).with_prefixlen
    except ValueError:
        return text


def _normal_network(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return text


def _normal_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text
