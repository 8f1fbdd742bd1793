"""cnitool.netinspect.compare: the differences ``show --tree`` marks, from snapshots (no kernel).

Issue 4 `show --tree`: an address in the cache but not on the interface, a MAC mismatch, an
interface missing, a namespace gone; a host veth counts as the interface's peer only when the
ifindexes point at each other and its link-netnsid names the attachment's namespace.
"""

from __future__ import annotations

from cnitool.core.result import parse_result
from cnitool.netinspect import Address, Link, Route, Snapshot, compare

NETNS = "/var/run/netns/x"
RESULT = parse_result(
    {
        "cniVersion": "1.0.0",
        "interfaces": [
            {"name": "br0", "mac": "02:00:00:00:00:b0"},
            {"name": "veth1", "mac": "02:00:00:00:00:01"},
            {"name": "eth0", "mac": "02:00:00:00:00:e0", "sandbox": NETNS},
        ],
        "ips": [{"address": "10.9.0.2/24", "gateway": "10.9.0.1", "interface": 2}],
        "routes": [{"dst": "0.0.0.0/0"}],
    },
    default_version="1.0.0",
)


def host(master: int | None = 10, veth_link_netnsid: int | None = 3) -> Snapshot:
    return Snapshot(
        links=(
            Link(10, "br0", "bridge", "02:00:00:00:00:b0"),
            Link(11, "veth1", "veth", "02:00:00:00:00:01", master=master, link=2, link_netnsid=veth_link_netnsid),
        ),
        addresses=(Address(10, "10.9.0.1/24"),),
    )


def inside(mac: str = "02:00:00:00:00:e0", addresses: tuple[str, ...] = ("10.9.0.2/24",),
           with_default: bool = True) -> Snapshot:
    routes = [Route("10.9.0.0/24", None, 2, "link")]
    if with_default:
        routes.append(Route("0.0.0.0/0", "10.9.0.1", 2))
    return Snapshot(
        links=(Link(1, "lo"), Link(2, "eth0", "veth", mac, link=11, link_netnsid=0)),
        addresses=(*(Address(2, cidr) for cidr in addresses), Address(2, "fe80::1/64", "link")),
        routes=tuple(routes),
    )


def kinds(state) -> list[str]:
    return [difference.kind for difference in state.differences]


def test_matching_attachment_has_no_difference_and_finds_peer_and_bridge() -> None:
    state = compare(NETNS, "eth0", RESULT, inside(), host(), nsid=3)
    assert state.differences == ()
    assert state.peer is not None and state.peer.name == "veth1" and state.peer.role == "veth peer"
    assert state.master is not None and state.master.name == "br0"
    assert state.interface is not None and [a.cidr for a in state.interface.addresses] == ["10.9.0.2/24", "fe80::1/64"]


def test_address_missing_mac_mismatch_route_missing_and_extra_address() -> None:
    state = compare(NETNS, "eth0", RESULT, inside(mac="02:00:00:00:00:ff", addresses=("10.9.0.7/24",),
                                                    with_default=False), host(), nsid=3)
    assert kinds(state) == ["mac-mismatch", "address-missing", "address-not-cached", "route-missing"]
    assert state.interface is not None and state.interface.missing_addresses == ("10.9.0.2/24",)
    assert state.missing_routes == ("0.0.0.0/0",)


def test_interface_missing_in_the_namespace() -> None:
    empty = Snapshot(links=(Link(1, "lo"),))
    state = compare(NETNS, "eth0", RESULT, empty, host(), nsid=3)
    assert kinds(state)[0] == "interface-missing"
    assert state.interface is not None and state.interface.link is None
    assert state.peer is None  # nothing to follow; the cached host interfaces are still shown
    assert {view.name for view in state.host} == {"br0", "veth1"}


def test_namespace_gone() -> None:
    state = compare(NETNS, "eth0", RESULT, None, host(), nsid=None)
    assert not state.netns_exists and kinds(state)[0] == "netns-missing"


def test_peer_needs_the_right_netnsid() -> None:
    """Same ifindexes in another namespace are not our peer (link-netnsid 4, ours is 3)."""
    state = compare(NETNS, "eth0", RESULT, inside(), host(veth_link_netnsid=4), nsid=3)
    assert state.peer is None and "peer-missing" in kinds(state)


def test_veth_not_in_the_cached_bridge() -> None:
    state = compare(NETNS, "eth0", RESULT, inside(), host(master=None), nsid=3)
    assert state.master is None
    assert "not-in-bridge" in kinds(state)


def test_to_dict_is_camel_case_json() -> None:
    document = compare(NETNS, "eth0", RESULT, inside(), host(), nsid=3).to_dict()
    assert document["netnsExists"] is True and document["interface"]["cachedMac"] == "02:00:00:00:00:e0"
    assert document["peer"]["link"]["linkNetnsid"] == 3
