"""cnitool add/check/del with the real reference plugins (/usr/lib/cni) in real namespaces.

Every test drives the command line as a user would (``NETCONFPATH``, ``CNI_PATH``,
``CNI_CACHE_DIR``, ``CAP_ARGS``) and asserts on the kernel's state: addresses and routes inside
the namespace (``ip -n NS -j``), links on the host, iptables rules, host-local's reservation
files, the cache. The ``lab`` fixture (conftest.py) gives each test its own names, subnet, data
dir and cache dir and removes everything afterwards, also when the test fails.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import stat
from pathlib import Path

import pytest

import netns_kernel as k

REPO = Path(__file__).resolve().parents[2]


def only_ip(result: dict) -> tuple[str, dict]:
    """The single address of a result and the interface it names."""
    [ip] = result["ips"]
    return ip["address"], result["interfaces"][ip["interface"]]


def host_veths(result: dict, bridge: str | None = None) -> list[str]:
    return [i["name"] for i in result["interfaces"] if not i.get("sandbox") and i["name"] != bridge]


# --- bridge + host-local ---------------------------------------------------------------------


@pytest.mark.privileged
def test_add_01_bridge_host_local_address_on_eth0_cache_check_and_del(lab) -> None:
    """ADD-01, DEL-01, CHECK-01, CACHE-01, CACHE-02, CACHE-04, CLI-01, CLI-02, CLI-04, RES-04.

    bridge + host-local at 1.0.0 into a namespace made with ``ip netns add``: the address the
    piped JSON reports is really on eth0 inside the namespace with the reported MAC, the default
    route is there, the cache entry exists (0600 in a 0700 dir, libcni's fields) until DEL; DEL
    removes the host veth, host-local's reservation, the masquerade chain and the cache entry.
    """
    net, bridge, subnet = lab.bridge_network()
    ns = lab.netns()
    path = k.netns_path(ns)

    added = lab.add(net, path)
    assert added.returncode == 0, added
    result = json.loads(added.stdout)  # piped: the reference JSON (CLI-04)
    assert added.stdout.endswith("}\n") and added.stdout.startswith('{\n    "cniVersion": "1.0.0",'), added.stdout
    assert result["cniVersion"] == "1.0.0"
    address, eth0 = only_ip(result)
    assert eth0["name"] == "eth0" and eth0["sandbox"] == path
    assert address in {f"{host}/24" for host in list(subnet.hosts())[1:]}  # .1 is the gateway

    # The kernel agrees with the result.
    assert k.ipv4_addresses("eth0", netns=ns) == [address]
    assert k.link("eth0", netns=ns)["address"] == eth0["mac"]
    defaults = k.routes("default", netns=ns)
    assert [(r.get("gateway"), r.get("dev")) for r in defaults] == [(str(subnet[1]), "eth0")]
    [veth] = host_veths(result, bridge)
    assert k.link(veth)["master"] == bridge
    assert k.ipv4_addresses(bridge) == [f"{subnet[1]}/24"]  # isGateway
    assert lab.our_chains("nat"), k.iptables_save("nat")  # ipMasq's per-attachment chain

    # host-local reserved the address for this container.
    cid = k.container_id_for(path)
    reservation = net.reservation(address)
    assert reservation.read_text().splitlines()[0] == cid

    # CACHE-01/02: the entry, as libcni writes it.
    entry = lab.cache_entry(net, path)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    cached = json.loads(entry.read_text())
    assert list(cached) == ["kind", "containerId", "config", "ifName", "networkName", "netns", "result"]
    assert cached["kind"] == "cniCacheV1" and cached["containerId"] == cid
    assert (cached["ifName"], cached["networkName"], cached["netns"]) == ("eth0", net.name, path)
    assert base64.b64decode(cached["config"]) == net.path.read_bytes()
    assert cached["result"] == result

    # CHECK-01: passes while everything is as the plugins left it.
    checked = lab.cnitool("check", net.name, path)
    assert (checked.returncode, checked.stdout) == (0, ""), checked

    deleted = lab.cnitool("del", net.name, path)
    assert (deleted.returncode, deleted.stdout) == (0, ""), deleted  # JSON mode: nothing on stdout
    assert k.link(veth) is None
    assert k.link("eth0", netns=ns) is None
    assert not reservation.exists()
    assert not entry.exists()
    assert lab.our_rules("nat") == []
    assert k.link(bridge) is not None  # the reference bridge plugin never deletes the bridge; lab does

    # DEL-01: a repeated DEL (nothing cached, nothing attached) succeeds.
    again = lab.cnitool("del", net.name, path)
    assert again.returncode == 0, again


@pytest.mark.privileged
def test_cli_04_table_output_shows_the_address(lab) -> None:
    """CLI-04: ``-o table`` prints tables a person reads; the kernel's address is in them."""
    net, bridge, _ = lab.bridge_network()
    ns = lab.netns()
    added = lab.add(net, k.netns_path(ns), "-o", "table")
    assert added.returncode == 0, added
    [address] = k.ipv4_addresses("eth0", netns=ns)
    assert address in added.stdout
    assert "eth0" in added.stdout and bridge in added.stdout
    assert k.link("eth0", netns=ns)["address"] in added.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(added.stdout)


# --- bare-name namespaces ----------------------------------------------------------------------


@pytest.mark.privileged
def test_cli_03_bare_name_is_created_and_del_remove_netns_removes_it(lab) -> None:
    """CLI-03, ADD-01, DEL-01: ``add NET name`` creates /var/run/netns/name (visible to ``ip netns``),
    attaches it; ``del --remove-netns`` detaches and removes it."""
    net, bridge, _ = lab.bridge_network()
    ns = lab.netns_name()
    assert ns not in k.netns_names()

    added = lab.add(net, ns)
    assert added.returncode == 0, added
    assert ns in k.netns_names()
    address, _ = only_ip(json.loads(added.stdout))
    assert k.ipv4_addresses("eth0", netns=ns) == [address]
    # The container ID is the one for the path the name stands for (CLI-02).
    assert lab.cache_entry(net, k.netns_path(ns)).exists()

    deleted = lab.cnitool("del", net.name, ns, "--remove-netns")
    assert deleted.returncode == 0, deleted
    assert ns not in k.netns_names()
    assert not os.path.lexists(k.netns_path(ns))
    assert k.bridge_ports(bridge) == set()
    assert not net.reservation(address).exists()


@pytest.mark.privileged
def test_add_02_failed_add_with_bare_name_leaves_no_namespace(lab) -> None:
    """ADD-02, CLI-03: the chain fails at its second plugin (tuning, unknown sysctl): the bridge
    attachment is rolled back (no port on the bridge, the address released, no masquerade rule),
    no cache entry is written, and the namespace cnitool created for the bare name is gone."""
    bridge, subnet = lab.bridge_name(), lab.subnet()
    ipam = lab.host_local(subnet)
    net = lab.network([
        {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": True, "ipam": ipam},
        {"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.no_such_knob": "1"}},
    ])
    ns = lab.netns_name()

    added = lab.add(net, ns, "-o", "json")
    assert added.returncode == 1, added
    error = added.stderr_json_lines()[-1]
    assert error["plugin"] == "tuning" and error["command"] == "ADD", error
    assert 'plugin type="tuning" failed (add)' in error["msg"]
    assert ns not in k.netns_names()
    assert not os.path.lexists(k.netns_path(ns))
    assert k.link(bridge) is not None  # proves bridge ran: the failure came after it
    assert k.bridge_ports(bridge) == set()
    assert list((Path(ipam["dataDir"]) / net.name).glob("10.*")) == []
    assert lab.our_rules("nat") == []
    assert not (lab.cache_dir / "results").exists() or list((lab.cache_dir / "results").iterdir()) == []


@pytest.mark.privileged
def test_add_02_failed_add_on_an_existing_bare_name_keeps_the_namespace(lab) -> None:
    """ADD-02, CLI-03: only a namespace cnitool created is removed when the add fails; one that
    existed (``ip netns add``) stays, emptied by the rollback."""
    bridge, subnet = lab.bridge_name(), lab.subnet()
    net = lab.network([
        {"type": "bridge", "bridge": bridge, "ipam": lab.host_local(subnet)},
        {"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.no_such_knob": "1"}},
    ])
    ns = lab.netns()
    added = lab.add(net, ns)
    assert added.returncode == 1, added
    assert ns in k.netns_names()
    assert k.link_names(netns=ns) == {"lo"}
    assert k.bridge_ports(bridge) == set()


@pytest.mark.privileged
def test_del_01_namespace_already_gone_is_not_an_error(lab) -> None:
    """DEL-01, CACHE-04: the namespace was removed behind our back (its veth went with it); DEL
    still succeeds, host-local releases the address and the cache entry is removed."""
    net, bridge, _ = lab.bridge_network(ipMasq=False)
    ns = lab.netns()
    added = lab.add(net, ns)
    assert added.returncode == 0, added
    address, _ = only_ip(json.loads(added.stdout))
    k.run("ip", "netns", "del", ns)

    deleted = lab.cnitool("del", net.name, ns)
    assert deleted.returncode == 0, deleted
    assert not net.reservation(address).exists()
    assert not lab.cache_entry(net, k.netns_path(ns)).exists()
    assert k.bridge_ports(bridge) == set()


# --- other plugins -----------------------------------------------------------------------------


@pytest.mark.privileged
def test_add_01_ptp_host_local(lab) -> None:
    """ADD-01, DEL-01, CHECK-01: ptp + host-local: the address is on eth0 in the namespace, the host
    has a veth with a /32 route to it, the namespace routes via the gateway; DEL removes the veth,
    the host route and the reservation."""
    subnet = lab.subnet()
    net = lab.network([{"type": "ptp", "ipMasq": False, "ipam": lab.host_local(subnet)}])
    ns = lab.netns()
    path = k.netns_path(ns)

    added = lab.add(net, path)
    assert added.returncode == 0, added
    result = json.loads(added.stdout)
    address, eth0 = only_ip(result)
    assert eth0["name"] == "eth0"
    assert k.ipv4_addresses("eth0", netns=ns) == [address]
    assert k.link("eth0", netns=ns)["address"] == eth0["mac"]
    [veth] = host_veths(result)
    assert k.link(veth)["linkinfo"]["info_kind"] == "veth"
    bare = address.split("/")[0]
    assert [r.get("dev") for r in k.routes(bare)] == [veth]
    assert [r.get("dev") for r in k.routes("default", netns=ns)] == ["eth0"]

    checked = lab.cnitool("check", net.name, path)
    assert checked.returncode == 0, checked

    deleted = lab.cnitool("del", net.name, path)
    assert deleted.returncode == 0, deleted
    assert k.link(veth) is None
    assert k.routes(bare) == []
    assert not net.reservation(address).exists()
    assert not lab.cache_entry(net, path).exists()


@pytest.mark.privileged
def test_add_01_loopback_brings_lo_up(lab) -> None:
    """ADD-01, DEL-01: the loopback plugin sets lo UP inside the namespace (down in a new one),
    and DEL sets it down again."""
    net = lab.network([{"type": "loopback"}])
    ns = lab.netns()
    path = k.netns_path(ns)
    assert "UP" not in k.link("lo", netns=ns)["flags"]

    added = lab.add(net, path, "-i", "lo")
    assert added.returncode == 0, added
    lo = k.link("lo", netns=ns)
    assert "UP" in lo["flags"], lo
    assert k.ipv4_addresses("lo", netns=ns) == ["127.0.0.1/8"]
    result = json.loads(added.stdout)
    assert [i["name"] for i in result["interfaces"]] == ["lo"]
    assert lab.cache_entry(net, path, "lo").exists()

    deleted = lab.cnitool("del", net.name, path, "-i", "lo")
    assert deleted.returncode == 0, deleted
    assert "UP" not in k.link("lo", netns=ns)["flags"]
    assert not lab.cache_entry(net, path, "lo").exists()


@pytest.mark.privileged
def test_add_01_macvlan_on_a_veth_master(lab) -> None:
    """ADD-01, DEL-01, CHECK-01: macvlan (bridge mode) on a host veth made for this test: eth0 in
    the namespace is a macvlan with the result's address and MAC; DEL removes it."""
    master, _peer = lab.veth_pair()
    subnet = lab.subnet()
    net = lab.network([{"type": "macvlan", "master": master, "mode": "bridge",
                        "ipam": lab.host_local(subnet, default_route=False)}])
    ns = lab.netns()
    path = k.netns_path(ns)

    added = lab.add(net, path)
    assert added.returncode == 0, added
    address, eth0 = only_ip(json.loads(added.stdout))
    link = k.link("eth0", netns=ns)
    assert link["linkinfo"]["info_kind"] == "macvlan"
    assert link["linkinfo"]["info_data"]["mode"] == "bridge"
    assert link["address"] == eth0["mac"]
    assert k.ipv4_addresses("eth0", netns=ns) == [address]

    checked = lab.cnitool("check", net.name, path)
    assert checked.returncode == 0, checked

    deleted = lab.cnitool("del", net.name, path)
    assert deleted.returncode == 0, deleted
    assert k.link("eth0", netns=ns) is None
    assert k.link_names(netns=ns) == {"lo"}
    assert not net.reservation(address).exists()
    assert k.link(master) is not None  # the master is ours, untouched


# --- portmap -------------------------------------------------------------------------------------


def portmap_network(lab):
    bridge, subnet = lab.bridge_name(), lab.subnet()
    net = lab.network([
        {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": True, "ipam": lab.host_local(subnet)},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ])
    return net


def dnat_rules(port: int) -> list[str]:
    return [rule for rule in k.rules("nat") if f"--dport {port} " in rule and "-j DNAT" in rule]


@pytest.mark.privileged
def test_req_02_portmap_dnat_rule_exists_after_add_and_is_gone_after_del(lab) -> None:
    """REQ-02, REQ-07, CLI-01, ADD-01, DEL-01: ``CAP_ARGS`` port mappings reach portmap as
    runtimeConfig; the DNAT rule is in iptables' nat table after add, gone (with its CNI-DN chain)
    after a DEL given the same CAP_ARGS."""
    net = portmap_network(lab)
    ns = lab.netns()
    path = k.netns_path(ns)
    host_port, container_port = random.randint(20000, 60000), 8080
    caps = {"CAP_ARGS": json.dumps({"portMappings": [
        {"hostPort": host_port, "containerPort": container_port, "protocol": "tcp"}]})}

    added = lab.add(net, path, env=caps)
    assert added.returncode == 0, added
    address, _ = only_ip(json.loads(added.stdout))
    [dnat] = dnat_rules(host_port)
    assert dnat.startswith("-A CNI-DN-")
    assert f"--to-destination {address.split('/')[0]}:{container_port}" in dnat
    dn_chain = dnat.split()[1]
    assert any(k.jump_target(rule) == dn_chain for rule in lab.our_rules("nat"))  # hooked, commented with our name
    cached = json.loads(lab.cache_entry(net, path).read_text())
    assert cached["capabilityArgs"] == json.loads(caps["CAP_ARGS"])

    deleted = lab.cnitool("del", net.name, path, env=caps)
    assert deleted.returncode == 0, deleted
    assert dnat_rules(host_port) == []
    assert dn_chain not in k.chains("nat")
    assert lab.our_rules("nat") == []


@pytest.mark.privileged
def test_del_01_without_cap_args_uses_the_cached_port_mappings(lab) -> None:
    """DEL-01 (OURS): ``cnitool del`` given no capability args uses those cached at ADD, so
    portmap removes its DNAT rule (the reference passes nothing and leaves the rule behind)."""
    net = portmap_network(lab)
    path = k.netns_path(lab.netns())
    host_port = random.randint(20000, 60000)
    added = lab.add(net, path, "--port", f"{host_port}:80")
    assert added.returncode == 0, added
    assert len(dnat_rules(host_port)) == 1

    deleted = lab.cnitool("del", net.name, path)
    assert deleted.returncode == 0, deleted
    assert dnat_rules(host_port) == []
    assert lab.our_rules("nat") == []


@pytest.mark.privileged
def test_check_01_portmap_check_failure_is_reported_with_plugin_and_verb(lab) -> None:
    """CHECK-01, EXEC-07, EXEC-10, CLI-05: Debian's portmap 1.1.1 fails CHECK whenever port
    mappings were given ("could not check ipv6 dnat: ... not found in iptables table nat"; fixed in
    later upstream releases). We do not hide it: exit 1 and the plugin's own message, wrapped as
    ``plugin type="portmap" failed (check)``, in JSON and in the human panel. The same attachment
    checked without port mappings passes."""
    net = portmap_network(lab)
    ns = lab.netns()
    path = k.netns_path(ns)
    caps = {"CAP_ARGS": json.dumps({"portMappings": [
        {"hostPort": random.randint(20000, 60000), "containerPort": 80, "protocol": "tcp"}]})}
    added = lab.add(net, path, env=caps)
    assert added.returncode == 0, added
    plugin_message = re.compile(r"could not check ipv6 dnat: chain CNI-DN-\w+ not found in iptables table nat")

    as_json = lab.cnitool("check", "-o", "json", net.name, path, env=caps)
    assert as_json.returncode == 1, as_json
    assert as_json.stdout == ""
    error = as_json.stderr_json_lines()[-1]
    assert (error["level"], error["plugin"], error["command"]) == ("error", "portmap", "CHECK"), error
    assert error["msg"].startswith('plugin type="portmap" failed (check): ')
    assert plugin_message.search(error["msg"]), error

    as_table = lab.cnitool("check", "-o", "table", net.name, path, env=caps)
    assert as_table.returncode == 1, as_table
    panel = " ".join(as_table.stderr.replace("│", " ").split())  # the panel's rows, unwrapped
    assert "Plugin portmap" in panel and "Verb CHECK" in panel, as_table.stderr
    assert 'plugin type="portmap" failed (check): ' in panel, as_table.stderr
    assert plugin_message.search(panel), as_table.stderr

    # The same network, an attachment added without port mappings: CHECK passes.
    other = k.netns_path(lab.netns())
    assert lab.add(net, other).returncode == 0
    without = lab.cnitool("check", net.name, other)
    assert without.returncode == 0, without

    # CHECK given no capability args uses those cached at ADD, as a runtime would pass them again:
    # the port-mapped attachment fails the same way (OURS, like del).
    cached = lab.cnitool("check", "-o", "json", net.name, path)
    assert cached.returncode == 1, cached
    assert plugin_message.search(cached.stderr_json_lines()[-1]["msg"]), cached


# --- two attachments -------------------------------------------------------------------------------


@pytest.mark.privileged
def test_add_01_two_attachments_on_one_bridge_reach_each_other(lab, ping) -> None:
    """ADD-01, CLI-02, DEL-01: two namespaces on one bridge get two addresses and two container
    IDs (from their paths) and can ping each other; deleting one leaves the other attached."""
    net, bridge, _ = lab.bridge_network()
    a, b = lab.netns(), lab.netns()
    added_a = lab.add(net, k.netns_path(a))
    added_b = lab.add(net, k.netns_path(b))
    assert added_a.returncode == 0 and added_b.returncode == 0, (added_a, added_b)
    address_a, _ = only_ip(json.loads(added_a.stdout))
    address_b, _ = only_ip(json.loads(added_b.stdout))
    assert address_a != address_b
    assert len(k.bridge_ports(bridge)) == 2

    to_b = ping(a, address_b.split("/")[0])
    assert to_b.returncode == 0, to_b
    to_a = ping(b, address_a.split("/")[0])
    assert to_a.returncode == 0, to_a

    deleted = lab.cnitool("del", net.name, k.netns_path(a))
    assert deleted.returncode == 0, deleted
    assert k.link("eth0", netns=a) is None
    assert k.ipv4_addresses("eth0", netns=b) == [address_b]
    assert lab.cache_entry(net, k.netns_path(b)).exists()
    assert len(k.bridge_ports(bridge)) == 1


# --- refusals before any plugin runs -------------------------------------------------------------------


@pytest.mark.privileged
def test_check_01_check_when_not_added_exits_3(lab) -> None:
    """CHECK-01 (OURS), CLI-03: CHECK of an attachment that was never added is "not added", exit 3,
    and no plugin ran (the bridge was not created); CHECK on a bare name that does not exist is
    exit 3 and does not create it."""
    net, bridge, _ = lab.bridge_network()
    ns = lab.netns()
    checked = lab.cnitool("check", "-o", "json", net.name, k.netns_path(ns))
    assert checked.returncode == 3, checked
    assert checked.stderr_json_lines()[-1]["level"] == "error"
    assert k.link(bridge) is None
    assert k.link_names(netns=ns) == {"lo"}

    missing = lab.netns_name()  # check never creates a bare-name namespace (CLI-03)
    checked = lab.cnitool("check", net.name, missing)
    assert checked.returncode == 3, checked
    assert missing not in k.netns_names()


@pytest.mark.privileged
def test_cli_03_add_on_a_missing_path_exits_3_before_any_plugin(lab) -> None:
    """CLI-03: ``add`` on /var/run/netns/doesnotexist (a path, not a bare name: never created) is
    exit 3 naming the path, and no plugin ran: no bridge, no reservation, no cache entry."""
    net, bridge, _ = lab.bridge_network()
    path = "/var/run/netns/doesnotexist"
    assert not os.path.lexists(path)
    added = lab.add(net, path, "-o", "json")
    assert added.returncode == 3, added
    assert path in added.stderr_json_lines()[-1]["msg"]
    assert not os.path.lexists(path)
    assert k.link(bridge) is None
    assert net.data_dir is not None and not net.data_dir.exists()
    assert not (lab.cache_dir / "results").exists()


@pytest.mark.privileged
@pytest.mark.parametrize("host_ns", ["/proc/1/ns/net", "/proc/self/ns/net"])
def test_cli_03_add_on_the_host_namespace_exits_3(lab, host_ns: str) -> None:
    """CLI-03: the host's own namespace is refused with exit 3 before any plugin runs."""
    net, bridge, _ = lab.bridge_network()
    added = lab.add(net, host_ns, "-o", "json")
    assert added.returncode == 3, added
    assert host_ns in added.stderr_json_lines()[-1]["msg"]
    assert k.link(bridge) is None
    assert "eth0" in k.link_names()  # untouched
    assert not (lab.cache_dir / "results").exists()


# --- the example network ---------------------------------------------------------------------------------


@pytest.mark.privileged
def test_demo_conflist_add_check_del_end_to_end(lab) -> None:
    """ADD-01, CHECK-01, DEL-01, CLI-03: examples/demo.conflist (bridge + host-local, portmap,
    firewall, tuning) works end to end. Copied with this test's own bridge, subnet and data dir so
    it never collides with a README demo run; everything else as shipped."""
    document = json.loads((REPO / "examples" / "demo.conflist").read_text())
    bridge, subnet = lab.bridge_name(), lab.subnet()
    plugins = document["plugins"]
    assert [p["type"] for p in plugins] == ["bridge", "portmap", "firewall", "tuning"]
    plugins[0]["bridge"] = bridge
    plugins[0]["ipam"]["ranges"] = [[{"subnet": str(subnet), "gateway": str(subnet[1])}]]
    plugins[0]["ipam"]["dataDir"] = str(lab.tmp_path / "ipam")
    net = lab.network(plugins, version=document["cniVersion"])
    ns = lab.netns_name()

    added = lab.add(net, ns)
    assert added.returncode == 0, added
    address, _ = only_ip(json.loads(added.stdout))
    assert k.ipv4_addresses("eth0", netns=ns) == [address]
    assert k.sysctl_in(ns, "net.ipv4.conf.eth0.rp_filter") == "2"  # tuning ran
    ip = address.split("/")[0]
    forward = [r for r in k.rules("filter") if r.startswith("-A CNI-FORWARD ") and f" {ip}/32 " in r]
    assert len(forward) == 2, forward  # firewall ran: in and out for this address

    table = lab.cnitool("check", "-o", "table", net.name, ns)
    assert table.returncode == 0, table
    assert net.name in table.stdout

    deleted = lab.cnitool("del", net.name, ns, "--remove-netns")
    assert deleted.returncode == 0, deleted
    assert ns not in k.netns_names()
    assert [r for r in k.rules("filter") if f" {ip}/32 " in r] == []
    assert lab.our_rules("nat") == []
    assert k.bridge_ports(bridge) == set()
    assert not net.reservation(address).exists()


# --- an older spec version -----------------------------------------------------------------------------


@pytest.mark.privileged
def test_check_01_version_0_3_1_bridge_with_cni_ifname(lab) -> None:
    """CHECK-01, CACHE-04, CLI-01, RES-04, DEL-01: the same plugins at cniVersion 0.3.1, interface
    name from ``CNI_IFNAME``: the address is on net1, the printed result has the 0.3.x layout
    (``version`` per IP, ``dns: {}``), CHECK is refused with exit 2 naming the version before any
    plugin runs, and DEL (which sends no prevResult below 0.4.0) still removes the cache entry."""
    bridge, subnet = lab.bridge_name(), lab.subnet()
    net = lab.network([{"type": "bridge", "bridge": bridge, "isGateway": True, "ipam": lab.host_local(subnet)}],
                      version="0.3.1")
    ns = lab.netns()
    path = k.netns_path(ns)
    env = {"CNI_IFNAME": "net1"}

    added = lab.add(net, path, env=env)
    assert added.returncode == 0, added
    result = json.loads(added.stdout)
    assert list(result) == ["cniVersion", "interfaces", "ips", "routes", "dns"]
    assert result["cniVersion"] == "0.3.1" and result["dns"] == {}
    [ip] = result["ips"]
    assert ip["version"] == "4"
    assert k.ipv4_addresses("net1", netns=ns) == [ip["address"]]
    assert k.link("eth0", netns=ns) is None
    entry = lab.cache_entry(net, path, "net1")
    assert entry.exists()

    checked = lab.cnitool("check", "-o", "json", net.name, path, env=env)
    assert checked.returncode == 2, checked
    assert 'configuration version "0.3.1" does not support the CHECK command' in checked.stderr_json_lines()[-1]["msg"]

    deleted = lab.cnitool("del", net.name, path, env=env)
    assert deleted.returncode == 0, deleted
    assert k.link("net1", netns=ns) is None
    assert not net.reservation(ip["address"]).exists()
    assert not entry.exists()


@pytest.mark.privileged
def test_add_02_second_add_of_an_attachment_is_refused_and_the_first_keeps_working(lab) -> None:
    """SPEC "Attachment lifecycle" (no second ADD without DEL), ADD-02: a second ``add`` of the same
    attachment, under the same path or another path of the same namespace, or of another network
    on the same interface, is refused (exit 2) before any plugin runs, so the rollback never
    tears down the working interface."""
    net, _bridge, _subnet = lab.bridge_network()
    ns = lab.netns()
    path = k.netns_path(ns)
    first = lab.add(net, path)
    assert first.returncode == 0, first
    address, _ = only_ip(json.loads(first.stdout))

    again = lab.cnitool("add", "-o", "json", net.name, path)
    assert again.returncode == 2, again
    assert json.loads(again.stderr.splitlines()[-1])["kind"] == "already-attached"
    other_path = lab.cnitool("add", "-o", "json", net.name, f"/run/netns/{ns}")  # another container ID
    assert other_path.returncode == 2, other_path
    assert "already attached" in json.loads(other_path.stderr.splitlines()[-1])["msg"]
    # Another network on the same interface: bridge would fail (eth0 exists) and the rollback DEL
    # with CNI_IFNAME=eth0 would delete the first network's eth0.
    net2, bridge2, _subnet2 = lab.bridge_network()
    other_net = lab.cnitool("add", "-o", "json", net2.name, path)
    assert other_net.returncode == 2, other_net
    assert f'already attached to network "{net.name}"' in json.loads(other_net.stderr.splitlines()[-1])["msg"]
    assert k.link(bridge2) is None  # no plugin ran

    assert k.ipv4_addresses("eth0", netns=ns) == [address]
    assert lab.cnitool("check", net.name, path).returncode == 0
