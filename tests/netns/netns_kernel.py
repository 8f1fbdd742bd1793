"""Kernel-state helpers for the real-namespace tier: what ``ip -j`` and ``iptables-save`` say.

The tests assert on these, not on cnitool's own output: an address is on eth0 when the kernel
says so. Everything here only looks (nothing creates a namespace as a side effect of looking):
``ip -n NAME`` fails for a missing namespace instead of creating it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shlex
import subprocess
import time
from collections.abc import Callable, Iterable

PLUGIN_DIR = "/usr/lib/cni"
NETNS_DIR = "/var/run/netns"

# Chains the reference plugins share between all attachments and never delete (portmap's,
# firewall's). They are infrastructure, not something a test made: never scrubbed.
SHARED_CHAINS = frozenset(
    {"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ", "CNI-FORWARD", "CNI-ADMIN"}
)


def run(*argv: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, input=input)


def ip_json(*args: str, netns: str | None = None) -> list[dict]:
    """``ip -j [-n NETNS] ARGS``, parsed; [] when ip prints nothing."""
    argv = ["ip", "-j", *(["-n", netns] if netns else []), *args]
    out = run(*argv).stdout
    return json.loads(out) if out.strip() else []


def netns_names() -> set[str]:
    """What ``ip netns list`` shows."""
    return {entry["name"] for entry in ip_json("netns", "list")}


def link(name: str, netns: str | None = None) -> dict | None:
    """One link's ``ip -j -d link show`` entry, or None when the kernel has no such link."""
    argv = ["ip", "-j", "-d", *(["-n", netns] if netns else []), "link", "show", "dev", name]
    done = run(*argv, check=False)
    if done.returncode != 0:
        if "does not exist" in done.stderr:
            return None
        raise AssertionError(f"{argv} failed: {done.stderr}")
    entries = json.loads(done.stdout)
    return entries[0] if entries else None


def link_names(netns: str | None = None) -> set[str]:
    return {entry["ifname"] for entry in ip_json("link", "show", netns=netns)}


def bridge_ports(bridge: str) -> set[str]:
    """The links enslaved to ``bridge``; none when there is no such bridge (yet: the plugin makes it)."""
    if link(bridge) is None:
        return set()
    return {entry["ifname"] for entry in ip_json("link", "show", "master", bridge)}


def ipv4_addresses(ifname: str, netns: str | None = None) -> list[str]:
    """The IPv4 addresses on one interface as ``A.B.C.D/LEN``."""
    found = []
    for entry in ip_json("addr", "show", "dev", ifname, netns=netns):
        for info in entry.get("addr_info", []):
            if info.get("family") == "inet":
                found.append(f"{info['local']}/{info['prefixlen']}")
    return found


def exec_namespaces_on(subnets: Iterable[str]) -> list[str]:
    """``cnitool exec``'s own namespaces (``cnitool-exec-<hex>``, named by cnitool, not by a test)
    whose eth0 has an address in one of ``subnets``: an exec that a failed test killed left them."""
    networks = [ipaddress.ip_network(subnet) for subnet in subnets]
    found = []
    for name in sorted(netns_names()):
        if name.startswith("cnitool-exec-") and link("eth0", netns=name) is not None:
            addresses = [ipaddress.ip_interface(a).ip for a in ipv4_addresses("eth0", netns=name)]
            if any(address in network for address in addresses for network in networks):
                found.append(name)
    return found


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> object:
    """The first true value of ``predicate`` (polled every 20 ms); an AssertionError naming
    ``what`` when none came within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def routes(*selector: str, netns: str | None = None) -> list[dict]:
    return ip_json("-4", "route", "show", *selector, netns=netns)


def host_routes_and_addresses() -> list[str]:
    """Every IPv4 destination and address the host uses (to pick subnets nobody is using)."""
    used = [entry["dst"] for entry in routes() if entry.get("dst") and entry["dst"] != "default"]
    for entry in ip_json("-4", "addr", "show"):
        used += [f"{info['local']}/{info['prefixlen']}" for info in entry.get("addr_info", [])]
    return used


def sysctl_in(netns: str, key: str) -> str:
    return run("ip", "netns", "exec", netns, "sysctl", "-n", key).stdout.strip()


# --- iptables ---------------------------------------------------------------------------------


def iptables_save(table: str) -> str:
    return run("iptables-save", "-t", table).stdout


def rules(table: str) -> list[str]:
    """The ``-A CHAIN ...`` lines of one table."""
    return [line for line in iptables_save(table).splitlines() if line.startswith("-A ")]


def chains(table: str) -> set[str]:
    return {line[1:].split()[0] for line in iptables_save(table).splitlines() if line.startswith(":")}


def jump_target(rule: str) -> str | None:
    words = shlex.split(rule)
    for flag in ("-j", "-g"):
        if flag in words and words.index(flag) + 1 < len(words):
            return words[words.index(flag) + 1]
    return None


def rules_mentioning(table: str, needles: Iterable[str]) -> list[str]:
    needles = [needle for needle in needles if needle]
    return [rule for rule in rules(table) if any(needle in rule for needle in needles)]


def delete_rule(table: str, rule: str) -> None:
    """Delete one ``-A CHAIN ...`` line as iptables-save printed it (quotes and all)."""
    words = shlex.split(rule)
    run("iptables", "-w", "-t", table, "-D", *words[1:], check=False)


def delete_chain(table: str, chain: str) -> None:
    if chain in SHARED_CHAINS or not chain.startswith("CNI-"):
        return
    for rule in rules(table):  # unhook it first: a chain still jumped to cannot be deleted
        if jump_target(rule) == chain:
            delete_rule(table, rule)
    run("iptables", "-w", "-t", table, "-F", chain, check=False)
    run("iptables", "-w", "-t", table, "-X", chain, check=False)


# --- CNI facts --------------------------------------------------------------------------------


def container_id_for(netns_path: str) -> str:
    """CLI-02: the Go cnitool's container ID for a netns path."""
    return "cnitool-" + hashlib.sha512(netns_path.encode()).digest()[:10].hex()


def netns_path(name: str) -> str:
    return f"{NETNS_DIR}/{name}"
