"""Fixtures for the real-namespace, real-plugin tier (root, plugins in /usr/lib/cni).

Every name a test makes carries this session's tag (``SESSION``), so that a parallel run of the
same tests, the README demo or another tier never collides with us, and so that the session's
leftover check can look for exactly our prefixes:

    cnt<tag>...  namespaces        cnb<tag>...  bridges
    cnv<tag>...  veths we create   cnn<tag>...  network names (in plugins' iptables comments)

``lab`` is the per-test workbench: it makes namespaces, bridges, veths, subnets, networks and
runs ``cnitool`` with a per-test ``NETCONFPATH``/``CNI_PATH``/``CNI_CACHE_DIR``; at teardown
(also when the test failed) it DELs what is still attached, removes namespaces and links, scrubs
iptables rules and chains the plugins left for its networks, then asserts that nothing is left.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import netns_kernel as k

SESSION = secrets.token_hex(2)
NS_PREFIX = f"cnt{SESSION}"
BRIDGE_PREFIX = f"cnb{SESSION}"
VETH_PREFIX = f"cnv{SESSION}"
NET_PREFIX = f"cnn{SESSION}"


@dataclass
class Made:
    """Everything this session made or saw the plugins make, for the final leftover check."""

    links: set[str] = field(default_factory=set)  # incl. host-side veths named by the plugins
    chains: set[tuple[str, str]] = field(default_factory=set)  # (table, chain) made for our networks
    subnets: set[str] = field(default_factory=set)


MADE = Made()


@dataclass
class Network:
    name: str
    path: Path  # the .conflist
    document: dict[str, Any]
    data_dir: Path | None  # host-local's dataDir, when the network uses host-local

    def reservation(self, address: str) -> Path:
        """host-local's reservation file for an address (``A.B.C.D/LEN`` or bare)."""
        assert self.data_dir is not None
        return self.data_dir / self.name / address.split("/")[0]


@dataclass
class Attached:
    network: str
    netns_path: str
    args: tuple[str, ...]
    env: dict[str, str]
    container_id: str
    ifname: str = "eth0"


class Lab:
    def __init__(self, tmp_path: Path, cache_dir: Path, conf_dir: Path, cnitool: Callable[..., Any],
                 unique: Callable[[str], str]) -> None:
        self.tmp_path = tmp_path
        self.cache_dir = cache_dir
        self.conf_dir = conf_dir
        self._cnitool = cnitool
        self._unique = unique
        self.namespaces: list[str] = []
        self.links: list[str] = []
        self.networks: list[Network] = []
        self.attached: list[Attached] = []
        self.addresses: set[str] = set()  # container IPs seen in results (firewall rules carry no comment)
        # cnitool exec names its namespaces itself: any new one at teardown is a leak of this test.
        self.exec_namespaces_before = self.exec_namespace_names()
        self.exec_namespaces_left: set[str] = set()

    # --- things to make ---------------------------------------------------------------------

    def netns(self) -> str:
        """A new named namespace (``ip netns add``); returns its name."""
        name = self.netns_name()
        k.run("ip", "netns", "add", name)
        return name

    @staticmethod
    def exec_namespace_names() -> set[str]:
        return {name for name in k.netns_names() if name.startswith("cnitool-exec-")}

    def exec_namespaces(self) -> set[str]:
        """``cnitool exec``'s own namespaces on a subnet of this session (see k.exec_namespaces_on)."""
        return set(k.exec_namespaces_on(MADE.subnets))

    def netns_name(self) -> str:
        """A fresh namespace name, not created (for cnitool to create); removed at teardown if it exists."""
        name = self._unique(NS_PREFIX)
        self.namespaces.append(name)
        return name

    def bridge_name(self) -> str:
        """A fresh bridge name for a plugin to create; deleted at teardown (DEL never deletes a bridge)."""
        name = self._unique(BRIDGE_PREFIX)
        self.links.append(name)
        MADE.links.add(name)
        return name

    def veth_pair(self) -> tuple[str, str]:
        """A host veth pair, both ends up; deleted at teardown."""
        base = self._unique(VETH_PREFIX)
        a, b = f"{base}a", f"{base}b"
        self.links.append(a)
        MADE.links.update({a, b})
        k.run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        k.run("ip", "link", "set", a, "up")
        k.run("ip", "link", "set", b, "up")
        return a, b

    def subnet(self) -> ipaddress.IPv4Network:
        """A /24 from 10.200-250.x.0 that this session has not used and the host does not route."""
        in_use = [ipaddress.ip_network(entry, strict=False) for entry in k.host_routes_and_addresses()]
        for _ in range(1000):
            candidate = ipaddress.ip_network(f"10.{random.randint(200, 250)}.{random.randint(0, 255)}.0/24")
            if str(candidate) in MADE.subnets or any(candidate.overlaps(used) for used in in_use):
                continue
            MADE.subnets.add(str(candidate))
            return candidate
        raise AssertionError("no free 10.200-250.x.0/24 subnet")

    def host_local(self, subnet: ipaddress.IPv4Network, default_route: bool = True) -> dict[str, Any]:
        """A host-local IPAM block with this test's own dataDir."""
        ipam: dict[str, Any] = {
            "type": "host-local",
            "dataDir": str(self.tmp_path / "ipam"),
            "ranges": [[{"subnet": str(subnet), "gateway": str(subnet[1])}]],
        }
        if default_route:
            ipam["routes"] = [{"dst": "0.0.0.0/0"}]
        return ipam

    def network(self, plugins: list[dict[str, Any]], version: str = "1.0.0", **extra: Any) -> Network:
        """Write a .conflist with a fresh network name into this test's conf dir."""
        name = self._unique(NET_PREFIX)
        document = {"cniVersion": version, "name": name, **extra, "plugins": plugins}
        path = self.conf_dir / f"{name}.conflist"
        path.write_text(json.dumps(document, indent=2))
        data_dir = None
        for plugin in plugins:
            ipam = plugin.get("ipam") or {}
            if ipam.get("type") == "host-local" and ipam.get("dataDir"):
                data_dir = Path(ipam["dataDir"])
        net = Network(name, path, document, data_dir)
        self.networks.append(net)
        return net

    def bridge_network(self, **bridge: Any) -> tuple[Network, str, ipaddress.IPv4Network]:
        """bridge + host-local at 1.0.0, gateway and masquerade on: the common case."""
        name, subnet = self.bridge_name(), self.subnet()
        plugin = {"type": "bridge", "bridge": name, "isGateway": True, "ipMasq": True,
                  "ipam": self.host_local(subnet), **bridge}
        return self.network([plugin]), name, subnet

    # --- running cnitool ----------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        return {"NETCONFPATH": str(self.conf_dir), "CNI_PATH": k.PLUGIN_DIR,
                "CNI_CACHE_DIR": str(self.cache_dir), **extra}

    def cnitool(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return self._cnitool(*args, env=self.env(**(env or {})))

    def add(self, network: Network | str, netns: str, *args: str, env: dict[str, str] | None = None,
            container_id: str | None = None) -> Any:
        """``cnitool add`` remembered for teardown: whatever the test does, a DEL with the same
        arguments runs at the end while the attachment is still cached."""
        name = network if isinstance(network, str) else network.name
        path = netns if netns.startswith("/") else k.netns_path(netns)
        if netns.startswith("/") is False and netns not in self.namespaces:
            self.namespaces.append(netns)
        cid_args = ("--container-id", container_id) if container_id else ()
        self.attached.append(Attached(name, path, (*args, *cid_args), env or {},
                                      container_id or k.container_id_for(path)))
        done = self.cnitool("add", name, netns, *args, *cid_args, env=env)
        if done.returncode == 0 and done.stdout.startswith("{"):
            self.note_result(json.loads(done.stdout))
        return done

    def adopt(self, network: Network, netns_path: str, args: tuple[str, ...], env: dict[str, str],
              container_id: str) -> None:
        """An attachment made without ``cnitool add`` (plugins called directly): DEL it at teardown
        with these arguments if it is still cached then."""
        self.attached.append(Attached(network.name, netns_path, args, env, container_id))

    def note_result(self, result: dict[str, Any]) -> None:
        """Remember what a result says the plugins made on the host (veths) and which IPs they used."""
        for interface in result.get("interfaces", []):
            if not interface.get("sandbox"):
                MADE.links.add(interface["name"])
        for ip in result.get("ips", []):
            self.addresses.add(ip["address"].split("/")[0])

    def cache_entry(self, network: Network | str, netns_path: str, ifname: str = "eth0",
                    container_id: str | None = None) -> Path:
        """CACHE-01: where the result of an attachment is cached."""
        name = network if isinstance(network, str) else network.name
        cid = container_id or k.container_id_for(netns_path)
        return self.cache_dir / "results" / f"{name}-{cid}-{ifname}"

    # --- iptables views of this test's networks ---------------------------------------------

    def our_rules(self, table: str) -> list[str]:
        """Rules that belong to this test: the plugins' comments name the network; firewall's
        per-address rules carry no comment, so they are recognised by the container addresses."""
        needles = [net.name for net in self.networks]  # unique random names: no false match
        needles += [f" {address}/32 " for address in self.addresses]
        return k.rules_mentioning(table, needles)

    def our_chains(self, table: str) -> set[str]:
        """The per-attachment chains our rules jump to (bridge's masquerade chain, portmap's CNI-DN-...)."""
        found = set()
        for rule in self.our_rules(table):
            target = k.jump_target(rule)
            if target and target.startswith("CNI-") and target not in k.SHARED_CHAINS:
                found.add(target)
                MADE.chains.add((table, target))
        return found

    # --- teardown -------------------------------------------------------------------------------

    def cleanup(self) -> None:
        for attachment in reversed(self.attached):
            entry = self.cache_entry(attachment.network, attachment.netns_path, attachment.ifname,
                                     attachment.container_id)
            if entry.exists():  # still attached: DEL it as a user would, so the plugins undo their work
                self._cnitool("del", attachment.network, attachment.netns_path, *attachment.args,
                              env=self.env(**attachment.env))
        for table in ("nat", "filter"):
            for chain in self.our_chains(table):
                k.delete_chain(table, chain)
            for rule in self.our_rules(table):
                k.delete_rule(table, rule)
        existing = k.netns_names()
        for name in self.namespaces:
            if name in existing:
                k.run("ip", "netns", "del", name, check=False)
        for name in self.links:
            if k.link(name) is not None:
                k.run("ip", "link", "del", name, check=False)
        self.exec_namespaces_left = self.exec_namespace_names() - self.exec_namespaces_before
        for name in self.exec_namespaces_left:
            k.run("ip", "netns", "del", name, check=False)

    def leftovers(self) -> list[str]:
        found = [f"namespace {name}" for name in set(self.namespaces) & k.netns_names()]
        found += [f"namespace {name} (made by cnitool exec; removed now)" for name in sorted(self.exec_namespaces_left)]
        found += [f"link {name}" for name in self.links if k.link(name) is not None]
        for table in ("nat", "filter"):
            found += [f"iptables -t {table} rule {rule}" for rule in self.our_rules(table)]
        return found


@pytest.fixture
def lab(tmp_path: Path, cache_dir: Path, conf_dir: Path, cnitool: Callable[..., Any],
        unique: Callable[[str], str]) -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("needs root: real network namespaces and the reference plugins")
    missing = [p for p in ("bridge", "host-local", "ptp", "loopback", "macvlan", "portmap", "firewall", "tuning")
               if not os.access(f"{k.PLUGIN_DIR}/{p}", os.X_OK)]
    assert not missing, f"reference plugins missing from {k.PLUGIN_DIR}: {missing} (run .ci/install)"
    bench = Lab(tmp_path, cache_dir, conf_dir, cnitool, unique)
    try:
        yield bench
    finally:
        bench.cleanup()
        left = bench.leftovers()
        assert not left, f"the test left these behind: {left}"


def session_leftovers() -> list[str]:
    """Anything carrying this session's prefixes, or made for it, still in the kernel."""
    found = [f"namespace {name}" for name in k.netns_names() if name.startswith(NS_PREFIX)]
    found += [f"namespace {name} (exec)" for name in k.exec_namespaces_on(MADE.subnets)]
    host_links = k.link_names()
    found += [f"link {name}" for name in host_links
              if name.startswith((BRIDGE_PREFIX, VETH_PREFIX)) or name in MADE.links]
    for table in ("nat", "filter"):
        present = k.chains(table)
        found += [f"iptables -t {table} chain {chain}" for t, chain in MADE.chains if t == table and chain in present]
        found += [f"iptables -t {table} rule {rule}" for rule in k.rules(table) if NET_PREFIX in rule]
    return found


@pytest.fixture(scope="session", autouse=True)
def no_leftovers_at_the_end() -> Iterator[None]:
    """Session-level check: after the last test, no namespace, link or iptables chain/rule of ours."""
    yield
    if os.geteuid() != 0:
        return
    left = session_leftovers()
    assert not left, f"the netns tier left these behind: {left}"


# One ICMP echo over a raw socket, for machines without iputils-ping (exit 0 = a reply came).
_PY_PING = r"""
import os, select, socket, struct, sys
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
ident = os.getpid() & 0xFFFF
body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"cnitool!"
packet = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.sendto(packet, (sys.argv[1], 0))
while select.select([sock], [], [], 2)[0]:
    data, (source, _) = sock.recvfrom(2048)
    icmp = data[(data[0] & 0x0F) * 4:]
    if source == sys.argv[1] and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
        sys.exit(0)
sys.exit(1)
"""


@pytest.fixture
def ping() -> Callable[[str, str], subprocess.CompletedProcess[str]]:
    """``ip netns exec NS ping -c1 -W2 ADDRESS`` (a raw-socket echo where ping is not installed)."""

    def run(netns: str, address: str) -> subprocess.CompletedProcess[str]:
        if shutil.which("ping"):
            return k.run("ip", "netns", "exec", netns, "ping", "-c1", "-W2", address, check=False)
        return k.run("ip", "netns", "exec", netns, sys.executable, "-c", _PY_PING, address, check=False)

    return run
