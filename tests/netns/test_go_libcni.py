"""Compatibility with the real Go libcni: either tool undoes what the other did, and both write the
same cache files and print the same JSON (CACHE-02, CLI-02, RES-04, DEL-01, CHECK-01).

test_cache_libcni.py proves that we read an entry written by hand as libcni writes it. Here the
other side is libcni itself: ``golibcni/main.go``, a small driver with the Go cnitool's command
line and environment, built once per session from Debian's libcni 1.1.2 source (offline, GOPATH
mode). Every attachment is made in a namespace of the ``lab`` fixture, so teardown DELs what a
failed test left attached and scrubs links, namespaces and iptables rules as for the other tests.

conformance.md follows libcni v1.3.0; Debian ships 1.1.2. Two changes between them show up here,
and the tests assert what each version does (found in the upstream source, containernetworking/cni):

- A spec 1.x result (``types100.Result``): 1.1.2 marshals the struct (field order
  ``cniVersion, interfaces, ips, routes, dns`` and ``"dns": {}`` even when empty); since v1.2.0
  (PR #1039, "Add Marshal function in Result/NetConf to omit empty value") its ``MarshalJSON`` goes
  through a map, so keys are sorted at every level and an empty ``dns`` is dropped. This is both
  what cnitool prints and the ``result`` libcni caches.
- ``cachedInfo`` has no ``netns`` in 1.1.2; a later release (v1.3.0 has it, with spec 1.1.0's
  GC) added ``NetNS`` (``json:"netns,omitempty"``, after ``networkName``), read back by
  ``GetCachedAttachments`` so that GC can DEL a stale attachment; we write it as v1.3.0 does.

Results of spec 0.x are struct-marshalled in every version, so there the bytes must be identical.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import netns_kernel as k

pytestmark = pytest.mark.privileged

DRIVER_SOURCE = Path(__file__).resolve().parent / "golibcni"
GOPATH = "/usr/share/gocode"  # golang-github-appc-cni-dev installs libcni here, GOPATH layout
LIBCNI_SOURCE = Path(GOPATH) / "src/github.com/containernetworking/cni/libcni"
INSTALL_HINT = "run .ci/install (it installs golang-go and golang-github-appc-cni-dev)"

# The bridge plugin refuses CNI_ARGS keys it does not know unless IgnoreUnknown is set.
CNI_ARGS = "IgnoreUnknown=1;K8S_POD_NAME=web"
ETH0_MAC = "02:42:c0:a8:00:2a"  # pinned by tuning, so both tools' ADDs report the same eth0


# --- building and running the driver -----------------------------------------------------------


def _build_driver(out_dir: Path) -> Path:
    """``go build`` offline in GOPATH mode: nothing but the standard library and Debian's libcni
    source is needed (libcni 1.1.2 imports only its own pkg/ packages besides the stdlib)."""
    go = shutil.which("go")
    if go is None:
        pytest.fail(f"the Go toolchain is missing (no `go` on PATH): {INSTALL_HINT}", pytrace=False)
    if not LIBCNI_SOURCE.is_dir():
        pytest.fail(f"Debian's libcni source is missing ({LIBCNI_SOURCE}): {INSTALL_HINT}", pytrace=False)
    binary = out_dir / "golibcni"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(out_dir),
        "GO111MODULE": "off",  # GOPATH mode: imports resolve in /usr/share/gocode, no module download
        "GOPATH": GOPATH,
        "GOCACHE": str(out_dir / "gocache"),
        "GOENV": "off",  # no user go.env can switch modules or a proxy back on
        "GOFLAGS": "",
        "CGO_ENABLED": "0",  # a static binary; no C compiler needed
    }
    done = subprocess.run([go, "build", "-o", str(binary), "."], cwd=DRIVER_SOURCE, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        pytest.fail(f"building {DRIVER_SOURCE} failed ({INSTALL_HINT} if packages are missing):\n"
                    f"{done.stdout}{done.stderr}", pytrace=False)
    return binary


@pytest.fixture(scope="session")
def golibcni_binary(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    """The driver, built once per session on first use. Lazy so that ``lab`` decides first whether
    this machine runs the tier at all (it skips without root); once it runs, a missing Go or libcni
    fails the test instead of skipping it, because a skipped compatibility test hides a failure."""
    built: list[Path] = []

    def binary() -> Path:
        if not built:
            built.append(_build_driver(tmp_path_factory.mktemp("golibcni")))
        return built[0]

    return binary


class GoLibcni:
    """The driver bound to one test's lab: same NETCONFPATH, CNI_PATH and CNI_CACHE_DIR as cnitool."""

    def __init__(self, binary: Path, lab: Any) -> None:
        self.binary = binary
        self.lab = lab

    def run(self, verb: str, network: Any, netns_path: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        # Only PATH (the plugins run iptables) and what the test sets: nothing leaks in from the shell.
        environment = {"PATH": os.environ.get("PATH", ""), **self.lab.env(**(env or {}))}
        return subprocess.run([str(self.binary), verb, network.name, netns_path], env=environment,
                              capture_output=True, text=True, timeout=120, check=False)

    def add(self, network: Any, netns_path: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        """ADD, registered with the lab first: teardown DELs it (with cnitool) if it is still cached."""
        self.lab.adopt(network, netns_path, (), env or {}, k.container_id_for(netns_path))
        done = self.run("add", network, netns_path, env)
        if done.returncode == 0:
            self.lab.note_result(json.loads(done.stdout))
        return done


@pytest.fixture
def golibcni(lab: Any, golibcni_binary: Callable[[], Path]) -> GoLibcni:
    return GoLibcni(golibcni_binary(), lab)


# --- networks and kernel state ----------------------------------------------------------------


@dataclass
class Pinned:
    """A network whose ADD gives the same answer every time: one address, a fixed eth0 MAC."""

    net: Any  # conftest.Network
    bridge: str
    address: str  # A.B.C.D/24
    host_port: int
    conf: Path  # the file the tools load (.conflist, or .conf for 0.2.0)


def pinned_network(lab: Any, version: str) -> Pinned:
    """bridge + host-local with a range of exactly one address (so both tools get it), then tuning
    pinning eth0's MAC and portmap; at 0.2.0 (no chaining) a single-plugin ``.conf`` with bridge
    alone, which libcni lifts into a list (ConfListFromConf) and caches in that form."""
    bridge, subnet = lab.bridge_name(), lab.subnet()
    ipam = lab.host_local(subnet)
    only = str(subnet[5])
    ipam["ranges"][0][0].update({"rangeStart": only, "rangeEnd": only})
    plugins: list[dict[str, Any]] = [
        {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": True, "ipam": ipam}]
    if version != "0.2.0":
        plugins.append({"type": "tuning", "mac": ETH0_MAC})
        plugins.append({"type": "portmap", "capabilities": {"portMappings": True}})
    net = lab.network(plugins, version=version)
    conf = net.path
    if version == "0.2.0":  # as test_conformance_real: registered with lab, then replaced by a .conf
        net.path.unlink()
        conf = lab.conf_dir / f"{net.name}.conf"
        conf.write_text(json.dumps({"cniVersion": version, "name": net.name, **plugins[0]}))
    return Pinned(net, bridge, f"{only}/24", random.randint(20000, 40000), conf)


def firewall_network(lab: Any) -> tuple[Any, str]:
    """bridge + host-local + firewall at 1.0.0. firewall adds per-address rules and, on DEL, finds
    them only through the addresses in ``prevResult``: their removal proves the cached result
    written by the other tool reached the plugins."""
    bridge, subnet = lab.bridge_name(), lab.subnet()
    net = lab.network([
        {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": True, "ipam": lab.host_local(subnet)},
        {"type": "firewall", "backend": "iptables"},
    ])
    return net, bridge


def firewall_rules(address: str) -> list[str]:
    return [rule for rule in k.rules("filter") if f" {address.split('/')[0]}/32 " in rule]


def cap_args(port: int) -> str:
    """portmap's mappings, plus a capability no plugin declares: libcni caches the whole map it was
    given (Go float64 numbers, HTML-escaped strings), so ours must too."""
    return json.dumps({
        "portMappings": [{"hostPort": port, "containerPort": 80, "protocol": "tcp"}],
        "bandwidth": {"ingressRate": 1000000, "ingressBurst": 1e21, "egressRate": 0.5, "note": "<a&b>"},
    })


def host_veths(result: dict[str, Any], bridge: str) -> list[str]:
    return [i["name"] for i in result.get("interfaces", []) if not i.get("sandbox") and i["name"] != bridge]


def addresses(result: dict[str, Any]) -> list[str]:
    """The container addresses of a result, 0.2.0 layout (``ip4``) or later (``ips``)."""
    if "ip4" in result:
        return [result["ip4"]["ip"]]
    return [ip["address"] for ip in result["ips"]]


def dnat_rules(lab: Any, port: int) -> list[str]:
    """portmap's entry rule for this test's network (its comment names the network)."""
    return [rule for rule in lab.our_rules("nat")
            if rule.startswith("-A CNI-HOSTPORT-DNAT ") and f"--dports {port}" in rule]


def our_chains(lab: Any) -> dict[str, set[str]]:
    """The per-attachment chains in use now (bridge's masquerade chain, portmap's CNI-DN-...)."""
    return {table: lab.our_chains(table) for table in ("nat", "filter")}


def assert_attached(ns: str, result: dict[str, Any], bridge: str) -> None:
    """The kernel agrees with the result: the address on eth0, the host veth on the bridge."""
    assert k.ipv4_addresses("eth0", netns=ns) == addresses(result)
    for veth in host_veths(result, bridge):
        assert k.link(veth)["master"] == bridge


def assert_detached(lab: Any, net: Any, bridge: str, ns: str, result: dict[str, Any],
                    chains: dict[str, set[str]]) -> None:
    """DEL-01: nothing of the attachment is left: no eth0, no veth, no port on the bridge, the
    host-local reservation released, no iptables rule for the network or its addresses, the
    per-attachment chains gone, no cache entry."""
    assert k.link("eth0", netns=ns) is None
    assert [veth for veth in host_veths(result, bridge) if k.link(veth) is not None] == []
    assert k.bridge_ports(bridge) == set()
    assert [a for a in addresses(result) if net.reservation(a).exists()] == []
    assert lab.our_rules("nat") == [] and lab.our_rules("filter") == []
    for table, made in chains.items():
        assert made & k.chains(table) == set(), (table, made)
    assert not lab.cache_entry(net, k.netns_path(ns)).exists()


# --- a: libcni adds, cnitool checks and deletes ----------------------------------------------


def test_cache_02_libcni_add_is_checked_and_deleted_by_cnitool(lab, golibcni: GoLibcni) -> None:
    """CACHE-02, CLI-02, CHECK-01, DEL-01: bridge + host-local + firewall added by libcni. Our
    ``check`` and ``del`` find libcni's entry under the same container ID and use its result as
    ``prevResult``: CHECK passes (we refuse a CHECK with no entry), and DEL removes firewall's
    per-address rules, which firewall finds only through ``prevResult``. Afterwards nothing is left."""
    net, bridge = firewall_network(lab)
    ns = lab.netns()
    path = k.netns_path(ns)

    added = golibcni.add(net, path)
    assert added.returncode == 0, added
    result = json.loads(added.stdout)
    assert_attached(ns, result, bridge)
    [address] = addresses(result)
    assert net.reservation(address).read_text().splitlines()[0] == k.container_id_for(path)
    assert firewall_rules(address), k.iptables_save("filter")
    assert lab.cache_entry(net, path).exists()  # CLI-02: the Go tool's container ID is ours
    chains = our_chains(lab)
    assert chains["nat"], "bridge's ipMasq made no chain"

    checked = lab.cnitool("check", net.name, path)
    assert (checked.returncode, checked.stdout) == (0, ""), checked

    deleted = lab.cnitool("del", net.name, path)
    assert deleted.returncode == 0, deleted
    assert firewall_rules(address) == []
    assert_detached(lab, net, bridge, ns, result, chains)


def test_cache_02_libcni_add_with_port_mappings_is_deleted_by_cnitool_from_the_cache(
        lab, golibcni: GoLibcni) -> None:
    """CACHE-02, CHECK-01, DEL-01: bridge + portmap added by libcni with ``CAP_ARGS`` port mappings
    and ``CNI_ARGS``. Our ``check`` ends as libcni's own CHECK of the same attachment does (Debian's
    portmap 1.1.1 fails every CHECK with mappings, "could not check ipv6 dnat"; the plugin's message
    must be the same). Our ``del`` without ``CAP_ARGS`` still removes the DNAT rule and chain:
    it takes the mappings from libcni's ``capabilityArgs`` (OURS: the Go cnitool needs them again)."""
    pinned = pinned_network(lab, "1.0.0")
    ns = lab.netns()
    path = k.netns_path(ns)
    env = {"CAP_ARGS": cap_args(pinned.host_port), "CNI_ARGS": CNI_ARGS}

    added = golibcni.add(pinned.net, path, env)
    assert added.returncode == 0, added
    result = json.loads(added.stdout)
    assert_attached(ns, result, pinned.bridge)
    assert len(dnat_rules(lab, pinned.host_port)) == 1, k.iptables_save("nat")
    chains = our_chains(lab)
    assert any(chain.startswith("CNI-DN-") for chain in chains["nat"]), chains

    theirs = golibcni.run("check", pinned.net, path, env)
    ours = lab.cnitool("check", pinned.net.name, path, "-o", "json", env=env)
    if theirs.returncode == 0:
        assert (ours.returncode, ours.stderr) == (0, ""), ours
    else:
        assert ours.returncode == 1, ours  # a plugin error
        error = ours.stderr_json_lines()[-1]
        message = theirs.stderr.strip().removeprefix("golibcni: ")
        # EXEC-10 (OURS): the same plugin message, wrapped to name the plugin and verb.
        assert (error["plugin"], error["msg"]) == ("portmap", f'plugin type="portmap" failed (check): {message}')

    deleted = lab.cnitool("del", pinned.net.name, path)  # no CAP_ARGS, no CNI_ARGS
    assert deleted.returncode == 0, deleted
    assert dnat_rules(lab, pinned.host_port) == []
    assert_detached(lab, pinned.net, pinned.bridge, ns, result, chains)


# --- b: cnitool adds, libcni checks and deletes ----------------------------------------------


def test_cache_02_cnitool_add_is_checked_and_deleted_by_libcni(lab, golibcni: GoLibcni) -> None:
    """CACHE-02, CLI-02, CHECK-01, DEL-01: bridge + host-local + firewall added by ``cnitool add``.
    libcni finds our entry under the Go tool's container ID and parses its result: its CHECK
    passes (with no entry libcni checks without ``prevResult`` and the plugins fail) and its DEL
    removes firewall's per-address rules (found only through ``prevResult``), the veth, the
    reservation and the entry."""
    net, bridge = firewall_network(lab)
    ns = lab.netns()
    path = k.netns_path(ns)

    added = lab.add(net, path)
    assert added.returncode == 0, added
    result = json.loads(added.stdout)
    assert_attached(ns, result, bridge)
    [address] = addresses(result)
    assert firewall_rules(address), k.iptables_save("filter")
    chains = our_chains(lab)

    checked = golibcni.run("check", net, path)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", ""), checked

    deleted = golibcni.run("del", net, path)
    assert (deleted.returncode, deleted.stderr) == (0, ""), deleted
    assert firewall_rules(address) == []
    assert_detached(lab, net, bridge, ns, result, chains)


def test_cache_02_cnitool_add_with_port_mappings_is_deleted_by_libcni(lab, golibcni: GoLibcni) -> None:
    """CACHE-02, DEL-01: bridge + tuning + portmap added by ``cnitool add`` with ``CAP_ARGS`` and
    ``CNI_ARGS``; libcni's DEL, given the same variables as a Go cnitool user gives them (libcni
    1.1.2 DELs with the caller's capability args, not the cached ones), removes the DNAT rule and
    chain, the masquerade chain, the veth, the reservation and our cache entry."""
    pinned = pinned_network(lab, "1.0.0")
    ns = lab.netns()
    path = k.netns_path(ns)
    env = {"CAP_ARGS": cap_args(pinned.host_port), "CNI_ARGS": CNI_ARGS}

    added = lab.add(pinned.net, path, env=env)
    assert added.returncode == 0, added
    result = json.loads(added.stdout)
    assert_attached(ns, result, pinned.bridge)
    assert len(dnat_rules(lab, pinned.host_port)) == 1, k.iptables_save("nat")
    chains = our_chains(lab)

    deleted = golibcni.run("del", pinned.net, path, env)
    assert (deleted.returncode, deleted.stderr) == (0, ""), deleted
    assert dnat_rules(lab, pinned.host_port) == []
    assert_detached(lab, pinned.net, pinned.bridge, ns, result, chains)


# --- c, d: the same ADD by each tool in turn ---------------------------------------------------


@dataclass
class Added:
    """One tool's ADD of the pinned attachment, taken before its own DEL removed it again."""

    stdout: str
    cache: bytes
    result: dict[str, Any]


def add_then_del(lab: Any, golibcni: GoLibcni, tool: str, pinned: Pinned, ns: str,
                 env: dict[str, str]) -> Added:
    """ADD with one tool (``go`` or ``ours``), keep its output and cache file, DEL with the same
    tool and prove the kernel is clean, so that the next ADD starts from the same state."""
    path = k.netns_path(ns)
    net = pinned.net
    added = golibcni.add(net, path, env) if tool == "go" else lab.add(net, path, env=env)
    assert added.returncode == 0, added
    result = json.loads(added.stdout)
    assert_attached(ns, result, pinned.bridge)
    assert addresses(result) == [pinned.address]
    cache = lab.cache_entry(pinned.net, path).read_bytes()
    chains = our_chains(lab)
    deleted = golibcni.run("del", net, path, env) if tool == "go" else lab.cnitool("del", net.name, path, env=env)
    assert deleted.returncode == 0, deleted
    assert_detached(lab, net, pinned.bridge, ns, result, chains)
    return Added(added.stdout, cache, result)


def without_host_veth(text: str, result: dict[str, Any], bridge: str) -> str:
    """The only values two ADDs of a pinned network may differ in: the bridge plugin's random host
    veth name and that veth's MAC (eth0's MAC is pinned, the address is the range's only one, the
    bridge keeps its MAC)."""
    [veth] = [i for i in result["interfaces"] if not i.get("sandbox") and i["name"] != bridge]
    return text.replace(veth["name"], "<veth>").replace(veth["mac"], "<veth-mac>")


def both_tools(lab: Any, golibcni: GoLibcni, version: str) -> tuple[Pinned, str, Added, Added]:
    """The pinned network at ``version`` added (and deleted) by libcni, then by us, into the same
    namespace path, so with the same container ID (CLI-02)."""
    pinned = pinned_network(lab, version)
    ns = lab.netns()
    env = {"CNI_ARGS": CNI_ARGS, "CAP_ARGS": cap_args(pinned.host_port)}
    theirs = add_then_del(lab, golibcni, "go", pinned, ns, env)
    ours = add_then_del(lab, golibcni, "ours", pinned, ns, env)
    return pinned, k.netns_path(ns), theirs, ours


@pytest.mark.parametrize("version", ["0.2.0", "0.3.1", "0.4.0", "1.0.0"])
def test_cache_02_cache_file_is_libcni_s_byte_for_byte(lab, golibcni: GoLibcni, version: str) -> None:
    """CACHE-02, CLI-02: the same attachment (with ``CNI_ARGS``, ``CAP_ARGS`` incl. an undeclared
    capability, portmap) added by libcni and by us: the cache files are the same bytes once the host
    veth's name and MAC are replaced, apart from the two post-1.1.2 changes we follow as v1.3.0
    writes them (module docstring): our ``netns`` field, and at 1.0.0 libcni 1.1.2's ``"dns":{}``
    in the result. ``config`` is the conflist's bytes, for 0.2.0 libcni's lifted list of the .conf."""
    pinned, path, theirs, ours = both_tools(lab, golibcni, version)

    go_bytes, our_bytes = theirs.cache.decode(), ours.cache.decode()
    if version != "0.2.0":  # 0.2.0 results have no interfaces: nothing differs
        go_bytes = without_host_veth(go_bytes, theirs.result, pinned.bridge)
        our_bytes = without_host_veth(our_bytes, ours.result, pinned.bridge)
    # v1.2.0+: cachedInfo.NetNS, omitempty, right after networkName.
    netns_member = f',"netns":{json.dumps(path)}'
    assert our_bytes.count(f'"networkName":{json.dumps(pinned.net.name)}{netns_member},') == 1, our_bytes
    our_bytes = our_bytes.replace(netns_member, "", 1)
    if version == "1.0.0":  # 1.1.2 struct-marshals types100.Result: an empty dns is kept
        assert go_bytes.count('"result":{"cniVersion":"1.0.0","dns":{},') == 1, go_bytes
        go_bytes = go_bytes.replace('"dns":{},', "", 1)

    assert json.loads(our_bytes) == json.loads(go_bytes)  # the same fields and values (readable diff)
    assert our_bytes == go_bytes  # and the same key order, spacing and escapes

    cached = json.loads(ours.cache)
    config = base64.b64decode(cached["config"])
    if version == "0.2.0":  # ConfListFromConf: {cniVersion, name, plugins: [the .conf]}, keys sorted
        conf = json.loads(pinned.conf.read_text())
        assert json.loads(config) == {"cniVersion": version, "name": pinned.net.name, "plugins": [conf]}
    else:
        assert config == pinned.conf.read_bytes()
    assert cached["cniArgs"] == [pair.split("=") for pair in CNI_ARGS.split(";")]


@pytest.mark.parametrize("version", ["0.2.0", "0.3.1", "0.4.0"])
def test_res_04_add_prints_libcni_s_bytes_for_spec_0_x(lab, golibcni: GoLibcni, version: str) -> None:
    """RES-04, CLI-02: piped ``cnitool add`` prints what libcni's ``Result.Print`` prints (the Go
    cnitool's output) plus a final newline, for the same attachment added by each in turn; only
    the host veth's name and MAC are replaced (0.2.0 results name no interface: nothing is)."""
    pinned, _, theirs, ours = both_tools(lab, golibcni, version)

    go_out, our_out = theirs.stdout, ours.stdout
    if version != "0.2.0":
        go_out = without_host_veth(go_out, theirs.result, pinned.bridge)
        our_out = without_host_veth(our_out, ours.result, pinned.bridge)
    assert not go_out.endswith("\n")  # Print writes none; we add one for the shell
    assert our_out == go_out + "\n"


def test_res_04_spec_1_0_0_prints_libcni_1_3_0_layout_where_1_1_2_keeps_struct_order(
        lab, golibcni: GoLibcni) -> None:
    """RES-04: at spec 1.0.0 libcni 1.1.2 prints ``types100.Result`` in struct order with
    ``"dns": {}``; v1.2.0 and later (so v1.3.0, which RES-04 follows) print it through a map: keys
    sorted at every level, the empty ``dns`` left out (PR #1039). We print v1.3.0's bytes: exactly
    1.1.2's document with its keys sorted and the empty dns removed, as Go re-marshals a map."""
    pinned, _, theirs, ours = both_tools(lab, golibcni, "1.0.0")

    go_out = without_host_veth(theirs.stdout, theirs.result, pinned.bridge)
    our_out = without_host_veth(ours.stdout, ours.result, pinned.bridge)
    document = json.loads(go_out)
    assert list(document) == ["cniVersion", "interfaces", "ips", "routes", "dns"]  # 1.1.2: struct order
    assert list(document["ips"][0]) == ["interface", "address", "gateway"]
    assert list(document["interfaces"][0]) == ["name", "mac"]
    assert document.pop("dns") == {}
    assert our_out == json.dumps(document, indent=4, sort_keys=True) + "\n"  # v1.3.0: a sorted map
