"""Cache compatibility with libcni (CACHE-02): an attachment made by someone else (here: the
plugins called directly, as a libcni-based runtime would) and cached in libcni's cniCacheV1 form
is checked and deleted by our ``cnitool``, with the cached result as ``prevResult``."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
from typing import Any

import pytest

import netns_kernel as k

CNI_ARGS = "IgnoreUnknown=1;K8S_POD_NAME=web"


def call_plugin(plugin: dict[str, Any], command: str, network: dict[str, Any], container_id: str,
                netns_path: str, prev_result: dict | None = None) -> dict:
    """Run a reference plugin as libcni does: request config on stdin, CNI_* in the environment."""
    request = {**plugin, "cniVersion": network["cniVersion"], "name": network["name"]}
    if prev_result is not None:
        request["prevResult"] = prev_result
    env = {**os.environ, "CNI_COMMAND": command, "CNI_CONTAINERID": container_id, "CNI_NETNS": netns_path,
           "CNI_IFNAME": "eth0", "CNI_ARGS": CNI_ARGS, "CNI_PATH": k.PLUGIN_DIR}
    done = subprocess.run([f"{k.PLUGIN_DIR}/{plugin['type']}"], input=json.dumps(request).encode(), env=env,
                          capture_output=True, check=False)
    assert done.returncode == 0, (plugin["type"], command, done.stdout, done.stderr)
    return json.loads(done.stdout) if done.stdout.strip() else {}


def sorted_deep(value: Any) -> Any:
    """Go marshals a map[string]interface{} with its keys sorted, at every level."""
    return json.loads(json.dumps(value, sort_keys=True))


@pytest.mark.privileged
def test_cache_02_del_consumes_an_entry_written_as_libcni_writes_it(lab) -> None:
    """CACHE-02, CACHE-04, DEL-01, CHECK-01, REQ-03: bridge + host-local + firewall added by calling
    the plugins directly, cached by hand exactly as libcni's cniCacheV1 (struct field order, compact,
    base64 ``config`` of the conflist bytes, ``cniArgs`` pairs, the final result with sorted keys).

    Our ``check`` accepts it; our ``del`` sends its result as ``prevResult``: the firewall plugin
    removes its per-address CNI-FORWARD rules only for the IPs in ``prevResult``, so their removal
    proves the cached result reached the plugins. host-local releases the address, the host veth
    and the masquerade chain go, and the entry is removed.
    """
    bridge, subnet = lab.bridge_name(), lab.subnet()
    net = lab.network([
        {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": True, "ipam": lab.host_local(subnet)},
        {"type": "firewall", "backend": "iptables"},
    ])
    ns = lab.netns()
    path = k.netns_path(ns)
    container_id = secrets.token_hex(32)  # a runtime's ID, not one cnitool would derive
    cid_args = ("--container-id", container_id)
    env = {"CNI_ARGS": CNI_ARGS}
    lab.adopt(net, path, cid_args, env, container_id)  # teardown DELs it if the test leaves it

    # ADD, as libcni would run the chain.
    first = call_plugin(net.document["plugins"][0], "ADD", net.document, container_id, path)
    lab.note_result(first)
    final = call_plugin(net.document["plugins"][1], "ADD", net.document, container_id, path, prev_result=first)
    lab.note_result(final)
    address = final["ips"][0]["address"]
    ip = address.split("/")[0]
    assert k.ipv4_addresses("eth0", netns=ns) == [address]
    forward = [r for r in k.rules("filter") if r.startswith("-A CNI-FORWARD ") and f" {ip}/32 " in r]
    assert len(forward) == 2, forward
    assert net.reservation(address).exists()

    # The entry, byte for byte as libcni's json.Marshal(cachedInfo) writes it.
    entry = lab.cache_entry(net, path, container_id=container_id)
    entry.parent.mkdir(mode=0o700, parents=True)
    document = {
        "kind": "cniCacheV1",
        "containerId": container_id,
        "config": base64.b64encode(net.path.read_bytes()).decode(),
        "ifName": "eth0",
        "networkName": net.name,
        "netns": path,
        "cniArgs": [pair.split("=", 1) for pair in CNI_ARGS.split(";")],
        "result": sorted_deep(final),
    }
    entry.write_text(json.dumps(document, separators=(",", ":")))
    entry.chmod(0o600)

    checked = lab.cnitool("check", net.name, path, *cid_args, env=env)
    assert checked.returncode == 0, checked
    assert entry.exists()

    deleted = lab.cnitool("del", net.name, path, *cid_args, env=env)
    assert deleted.returncode == 0, deleted
    assert [r for r in k.rules("filter") if f" {ip}/32 " in r] == []  # firewall got prevResult
    assert not net.reservation(address).exists()  # host-local released it
    assert k.link("eth0", netns=ns) is None
    [veth] = [i["name"] for i in final["interfaces"] if not i.get("sandbox") and i["name"] != bridge]
    assert k.link(veth) is None
    assert lab.our_rules("nat") == []
    assert not entry.exists()
