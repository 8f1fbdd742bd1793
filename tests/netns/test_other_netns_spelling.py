"""``del`` and ``check`` of a namespace written another way than at ADD (OURS, beside CLI-02).

The container ID is derived from the netns path as written, as the Go tool does, so
``/run/netns/x`` and ``/var/run/netns/x`` (the same namespace: /var/run is a link to /run) give
two IDs. ``add`` already refuses the second spelling; ``del`` under it used to DEL with an ID no
plugin knew, say "nothing was cached" and exit 0, leaving the veth, host-local's address and the
cache entry behind.
"""

from __future__ import annotations

import json

import pytest

import netns_kernel as k

pytestmark = pytest.mark.privileged


def reservations(net) -> list[str]:
    directory = net.data_dir / net.name
    return sorted(p.name for p in directory.iterdir() if p.name[0].isdigit()) if directory.exists() else []


def test_del_01_del_under_another_path_removes_the_attachment_added_under_the_first(lab) -> None:
    """DEL-01, CLI-02, CHECK-01: added as /var/run/netns/X, checked and deleted as /run/netns/X:
    both act on the attachment cached for the first spelling (a note on stderr says so); after
    the DEL the host veth is gone, host-local released the address and the entry is gone."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    ns = lab.netns()
    added_as, given_as = f"/var/run/netns/{ns}", f"/run/netns/{ns}"
    assert k.container_id_for(added_as) != k.container_id_for(given_as)
    added = lab.add(net, added_as, "-o", "json")
    assert added.returncode == 0, added
    assert len(k.bridge_ports(bridge)) == 1 and len(reservations(net)) == 1
    entry = lab.cache_entry(net, added_as)
    assert entry.exists()

    checked = lab.cnitool("check", "-o", "json", net.name, given_as)
    assert checked.returncode == 0, checked
    note = json.loads(checked.stderr.splitlines()[0])
    assert note["level"] == "info" and k.container_id_for(added_as) in note["msg"], note

    deleted = lab.cnitool("del", "-o", "table", net.name, given_as)
    assert deleted.returncode == 0, deleted
    assert f"added with the namespace given as {added_as}" in deleted.stderr, deleted
    assert deleted.stdout.startswith("Deleted eth0"), deleted
    assert k.bridge_ports(bridge) == set()
    assert reservations(net) == []
    assert not entry.exists()
    assert k.link("eth0", netns=ns) is None


def test_cli_02_explicit_container_id_is_taken_as_given(lab) -> None:
    """CLI-02: with --container-id the user says which attachment is meant; nothing is looked up.
    No attachment is cached under that ID, and eth0 there belongs to the cached one: DEL is
    refused (exit 2) before any plugin runs, as bridge would delete that eth0 whatever the ID."""
    net, _bridge, _subnet = lab.bridge_network(ipMasq=False)
    ns = lab.netns()
    added_as = f"/var/run/netns/{ns}"
    assert lab.add(net, added_as, "-o", "json").returncode == 0
    deleted = lab.cnitool("del", "-o", "json", net.name, f"/run/netns/{ns}", "--container-id", "other-id")
    assert deleted.returncode == 2, deleted
    assert json.loads(deleted.stderr.splitlines()[-1])["kind"] == "interface-in-use"
    assert lab.cache_entry(net, added_as).exists()
    assert len(reservations(net)) == 1
    assert k.link("eth0", netns=ns) is not None


def test_cli_02_a_runtimes_attachment_in_the_namespace_is_never_taken_over(lab) -> None:
    """CLI-02: an attachment made in the namespace under a runtime's own container ID (as
    containerd would, sharing the cache) is not the one a plain ``del`` means: it is not adopted,
    and the DEL under the derived ID is refused (it would remove the runtime's eth0); the
    runtime's interface, entry and address stay. Deleting it by its container ID works."""
    net, _bridge, _subnet = lab.bridge_network(ipMasq=False)
    ns = lab.netns()
    path = f"/var/run/netns/{ns}"
    assert lab.add(net, path, "-o", "json", container_id="pod-from-containerd").returncode == 0
    deleted = lab.cnitool("del", "-o", "json", net.name, ns)
    assert deleted.returncode == 2, deleted
    assert "using the attachment" not in deleted.stderr
    error = json.loads(deleted.stderr.splitlines()[-1])
    assert error["kind"] == "interface-in-use" and "--container-id pod-from-containerd" in error["hint"], error
    assert lab.cache_entry(net, path, container_id="pod-from-containerd").exists()
    assert len(reservations(net)) == 1
    assert k.link("eth0", netns=ns) is not None
    deleted = lab.cnitool("del", "-o", "json", net.name, ns, "--container-id", "pod-from-containerd")
    assert deleted.returncode == 0, deleted
    assert reservations(net) == [] and k.link("eth0", netns=ns) is None


def test_del_01_del_of_another_network_never_added_leaves_the_attachment_alone(lab) -> None:
    """DEL-01 OURS: `del OTHER NS` where only NET was added (a typo in the network name): refused
    (exit 2) naming the attachment that has eth0 there; NET's interface and address stay. A DEL
    with nothing cached and nobody's interface at stake still runs and succeeds (best effort)."""
    net, _bridge, _subnet = lab.bridge_network(ipMasq=False)
    other, _other_bridge, _other_subnet = lab.bridge_network(ipMasq=False)
    ns = lab.netns()
    assert lab.add(net, ns, "-o", "json").returncode == 0
    deleted = lab.cnitool("del", "-o", "json", other.name, ns)
    assert deleted.returncode == 2, deleted
    assert f'network "{net.name}"' in json.loads(deleted.stderr.splitlines()[-1])["msg"]
    assert k.link("eth0", netns=ns) is not None and len(reservations(net)) == 1
    assert lab.cnitool("check", "-o", "json", net.name, ns).returncode == 0
    spare = lab.cnitool("del", "-o", "json", other.name, ns, "-i", "eth1")
    assert spare.returncode == 0, spare
