"""``cnitool exec``, ``cnitool show`` (``--all``, ``--tree``) and ``cnitool netns`` against real
namespaces and the real bridge + host-local plugins (issue 4: the ``exec``, ``show`` and ``netns``
commands, and the tests it asks for: exec — CMD sees the address, namespace and attachment gone
afterwards, also after CMD fails and after SIGINT; ``show --tree`` against a real bridge).

Each test uses the ``lab`` fixture (conftest.py): its own bridge name, /24 subnet, host-local
dataDir, config dir and cache dir, and removes what it made at teardown, also on failure. The
networks run with ``ipMasq: false``, so no iptables chain is made. The assertions are on the
kernel (``ip``), the cache directory and host-local's reservations, not only on our output.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import netns_kernel as k
from netns_kernel import wait_for

EXEC_NAME = re.compile(r"^cnitool-exec-[0-9a-f]{8}$")
WIDE = {"COLUMNS": "250"}  # rich wraps at 80 columns in a pipe; tree lines are longer

pytestmark = pytest.mark.privileged


# --- helpers ----------------------------------------------------------------------------------


def cached_entries(lab) -> list[Path]:
    """The cache entries, without the cache writer's temp file of an entry being written."""
    results = lab.cache_dir / "results"
    return sorted(p for p in results.iterdir() if not p.name.startswith(".tmp-")) if results.exists() else []


def reservations(net) -> list[str]:
    """host-local's reservation files (one per allocated address) for this network."""
    directory = net.data_dir / net.name
    if not directory.exists():
        return []
    names = []
    for path in directory.iterdir():
        try:
            ipaddress.ip_address(path.name)
        except ValueError:
            continue  # "lock", "last_reserved_ip.0"
        names.append(path.name)
    return names


def assert_nothing_left(lab, net, bridge: str, netns_name: str) -> None:
    """The exec attachment is gone: namespace, cache entry, host veth, host-local reservation."""
    assert netns_name not in k.netns_names(), f"namespace {netns_name} is still there"
    results = lab.cache_dir / "results"
    assert not results.exists() or list(results.iterdir()) == [], "the cache entry (or a temp file) is still there"
    assert k.bridge_ports(bridge) == set(), f"veths still on {bridge}: {k.bridge_ports(bridge)}"
    assert reservations(net) == [], f"host-local still reserves {reservations(net)}"


@pytest.fixture
def exec_namespaces(lab) -> Iterator[list[str]]:
    """Names of ``cnitool-exec-*`` namespaces a test saw cnitool create; removed at teardown if a
    failing test left them (a named --netns comes from ``lab.netns_name()`` and is lab's)."""
    seen: list[str] = []
    before = lab.exec_namespaces()
    yield seen
    for name in seen:
        if name in k.netns_names():
            k.run("ip", "netns", "del", name, check=False)
    # One the test never saw: an exec it killed before learning the name. Removed, and an error.
    unseen = lab.exec_namespaces() - before
    for name in unseen:
        k.run("ip", "netns", "del", name, check=False)
    assert not unseen, f"exec namespaces left behind: {sorted(unseen)}"


def subprocess_env(lab, **extra: str) -> dict[str, str]:
    leaky = ("NETCONFPATH", "CNI_PATH", "CNI_IFNAME", "CNI_ARGS", "CAP_ARGS", "CNI_CACHE_DIR", "NO_COLOR", "FORCE_COLOR")
    env = {key: value for key, value in os.environ.items() if key not in leaky}
    env.update(lab.env(**extra))
    return env


# --- exec -------------------------------------------------------------------------------------


def test_exec_cmd_sees_its_address_then_everything_is_gone(lab, exec_namespaces, cnitool) -> None:
    """Issue 4 `exec`: a temporary namespace ``cnitool-exec-<hex>`` is added to the network, CMD
    runs inside it with stdin/stdout passed through and sees the subnet address on eth0; then DEL
    and the namespace removal leave nothing (DEL-01, CACHE-04: cache entry gone; host veth and
    host-local reservation gone). In JSON mode (a pipe) stdout is CMD's alone."""
    net, bridge, subnet = lab.bridge_network(ipMasq=False)

    done = lab.cnitool("exec", net.name, "--", "sh", "-c", "ip netns identify; ip -o -4 addr show eth0")
    assert done.returncode == 0, done
    name, addr_line, *rest = done.stdout.splitlines()
    exec_namespaces.append(name)
    assert EXEC_NAME.match(name), done.stdout
    address = addr_line.split()[3]
    assert ipaddress.ip_interface(address).network == subnet and address.endswith("/24"), addr_line
    assert rest == []
    assert done.stderr == "", done  # JSON mode: nothing of ours on stdout, no diagnostics
    assert_nothing_left(lab, net, bridge, name)

    # stdin passes through: `cat` copies what we fed cnitool.
    done_with_input = cnitool("exec", net.name, "--", "cat", env=lab.env(), input="hello through stdin\n")
    assert (done_with_input.returncode, done_with_input.stdout) == (0, "hello through stdin\n"), done_with_input
    assert cached_entries(lab) == [] and k.bridge_ports(bridge) == set()


def test_exec_terminal_mode_prints_a_summary_on_stderr_only(lab) -> None:
    """Issue 4 `exec` output rule: on a terminal (``-o table``) one summary line goes to stderr,
    stdout stays CMD's; ``--netns NEW`` names the namespace, which is created and removed."""
    net, bridge, subnet = lab.bridge_network(ipMasq=False)
    name = lab.netns_name()

    done = lab.cnitool("exec", net.name, "--netns", name, "-o", "table", "--", "ip", "netns", "identify", env=WIDE)
    assert done.returncode == 0, done
    assert done.stdout == f"{name}\n", done
    [summary] = done.stderr.splitlines()
    assert name in summary and net.name in summary and str(subnet)[:-5] in summary, summary
    assert_nothing_left(lab, net, bridge, name)


def test_exec_failing_cmd_exit_status_propagated_and_cleaned_up(lab, exec_namespaces) -> None:
    """Issue 4 `exec`: the exit status is CMD's (``exit 7`` → 7, killed by SIGKILL → 137), and
    the namespace and attachment are gone afterwards anyway."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)

    done = lab.cnitool("exec", net.name, "--", "sh", "-c", "ip netns identify; exit 7")
    exec_namespaces.append(done.stdout.strip())
    assert done.returncode == 7, done
    assert EXEC_NAME.match(done.stdout.strip()), done
    assert_nothing_left(lab, net, bridge, done.stdout.strip())

    killed = lab.cnitool("exec", net.name, "--", "sh", "-c", "ip netns identify; kill -9 $$")
    exec_namespaces.append(killed.stdout.strip())
    assert killed.returncode == 128 + signal.SIGKILL, killed
    assert_nothing_left(lab, net, bridge, killed.stdout.strip())

    missing = lab.cnitool("exec", net.name, "--", "/nonexistent/command")
    assert missing.returncode == 127, missing  # "command not found", as a shell says it
    assert cached_entries(lab) == [] and k.bridge_ports(bridge) == set()


def test_exec_failed_add_removes_the_namespace_and_exits_with_cnitools_status(lab) -> None:
    """Issue 4 `exec` + CLI-05, ADD-02: when ADD fails (a plugin that is not installed: exit 3),
    CMD does not run, the exit status is cnitool's and the new namespace is removed."""
    net = lab.network([{"type": "no-such-plugin-here"}])
    name = lab.netns_name()
    done = lab.cnitool("exec", net.name, "--netns", name, "--", "sh", "-c", "echo CMD-RAN")
    assert done.returncode == 3, done
    assert "CMD-RAN" not in done.stdout
    assert json.loads(done.stderr.splitlines()[-1])["kind"] == "plugin-not-found"
    assert name not in k.netns_names()


@pytest.mark.parametrize(
    ("signum", "moment"),
    [(signal.SIGINT, "cmd"), (signal.SIGINT, "add"), (signal.SIGTERM, "cmd"), (signal.SIGHUP, "cmd")],
    ids=["sigint-while-cmd-runs", "sigint-as-namespace-appears", "sigterm-while-cmd-runs", "sighup-while-cmd-runs"],
)
def test_exec_signal_cleans_up_and_exits_128_plus_signal(lab, exec_namespaces, signum: int, moment: str) -> None:
    """Issue 4 `exec` (Ctrl-C) + CLI-05 (130 interrupted): a SIGINT (or SIGTERM) sent to cnitool
    while ``sleep 30`` runs is passed on to it; one arriving as the namespace appears stops the
    set-up (ADD rolled back, or not started) and CMD never runs. Either way nothing is left, and
    the exit status is 128+signal (130 for SIGINT) well before sleep would have ended."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    name = lab.netns_name() if moment == "add" else None
    argv = [sys.executable, "-m", "cnitool", "exec", net.name, *(["--netns", name] if name else []),
            "--", "sleep", "30"]
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=subprocess_env(lab), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if moment == "add":
            wait_for(lambda: name in os.listdir(k.NETNS_DIR), what="the namespace")
        else:
            [entry] = wait_for(lambda: cached_entries(lab), what="the cache entry")
            name = os.path.basename(json.loads(entry.read_text())["netns"])
            exec_namespaces.append(name)
            wait_for(lambda: subprocess.run(["pgrep", "-P", str(proc.pid), "-x", "sleep"],
                                            capture_output=True).returncode == 0, what="sleep to start")
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum, (proc.returncode, stdout, stderr)
    assert time.monotonic() - started < 25, "cnitool waited for sleep instead of passing the signal on"
    assert name is not None
    assert_nothing_left(lab, net, bridge, name)


def test_exec_keep_leaves_attachment_and_says_how_to_remove_it(lab, exec_namespaces) -> None:
    """Issue 4 `exec --keep`: namespace and attachment stay (for debugging) and stderr says how
    to remove them; running that command (``cnitool del ... --remove-netns``) removes both."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    done = lab.cnitool("exec", net.name, "--keep", "--", "ip", "netns", "identify")
    assert done.returncode == 0, done
    name = done.stdout.strip()
    exec_namespaces.append(name)
    assert name in k.netns_names()
    [entry] = cached_entries(lab)
    assert len(k.bridge_ports(bridge)) == 1
    note = json.loads(done.stderr.splitlines()[-1])  # JSON mode: a JSON line (CLI-05)
    assert note["level"] == "info"
    command = note["msg"].split("remove with: ", 1)[1]
    assert command.startswith("cnitool ") and "--remove-netns" in command, command
    argv = shlex.split(command)[1:]
    removed = lab.cnitool(*argv)
    assert removed.returncode == 0, removed
    assert_nothing_left(lab, net, bridge, name)
    assert not entry.exists()


def test_exec_existing_netns_is_used_and_kept(lab) -> None:
    """Issue 4 `exec --netns NAME`: an existing namespace (made by ``ip netns add``) is used and
    not removed; only the attachment is undone. A second exec on an interface already attached
    is refused before anything runs (exit 2)."""
    net, bridge, subnet = lab.bridge_network(ipMasq=False)
    name = lab.netns()
    done = lab.cnitool("exec", net.name, "--netns", name, "--", "ip", "-o", "-4", "addr", "show", "eth0")
    assert done.returncode == 0, done
    assert str(subnet.network_address)[:-1] in done.stdout, done
    assert name in k.netns_names()
    assert k.link("eth0", netns=name) is None  # the veth went with DEL
    assert cached_entries(lab) == [] and k.bridge_ports(bridge) == set() and reservations(net) == []

    attached = lab.add(net, name)
    assert attached.returncode == 0, attached
    refused = lab.cnitool("exec", net.name, "--netns", name, "--", "true")
    assert refused.returncode == 2, refused
    assert len(cached_entries(lab)) == 1 and k.link("eth0", netns=name) is not None  # untouched


# --- show -------------------------------------------------------------------------------------


def test_show_tree_draws_the_live_bridge_attachment_and_marks_differences(lab) -> None:
    """Issue 4 `show --tree` against a real bridge attachment: the tree, read from the kernel
    with pyroute2, names the bridge, the host veth, eth0 and its address, and says the kernel
    matches the cache; after the address is deleted inside the namespace and eth0's MAC changed,
    the tree marks both differences (table and JSON)."""
    net, bridge, subnet = lab.bridge_network(ipMasq=False)
    ns = lab.netns()
    added = lab.add(net, ns)
    assert added.returncode == 0, added
    result = json.loads(added.stdout)
    [veth] = [i["name"] for i in result["interfaces"] if not i.get("sandbox") and i["name"] != bridge]
    [ip] = result["ips"]
    address = ip["address"]

    tree = lab.cnitool("show", net.name, ns, "--tree", "-o", "table", env=WIDE)
    assert tree.returncode == 0, tree
    for needle in (bridge, veth, "eth0", address, f"via {subnet[1]}"):
        assert needle in tree.stdout, (needle, tree.stdout)
    assert "matches the cached result" in tree.stdout and "✗" not in tree.stdout, tree.stdout
    live = lab.cnitool("show", net.name, ns, "--tree", "-o", "json").json()
    assert live[0]["differences"] == []
    assert live[0]["live"]["peer"]["name"] == veth and live[0]["live"]["master"]["name"] == bridge

    k.run("ip", "-n", ns, "addr", "del", address, "dev", "eth0")
    k.run("ip", "-n", ns, "link", "set", "eth0", "address", "02:00:00:c0:ff:ee")
    tree = lab.cnitool("show", net.name, ns, "--tree", "-o", "table", env=WIDE)
    assert tree.returncode == 0, tree
    marked = [line for line in tree.stdout.splitlines() if "✗" in line]
    assert any(address in line and "not on eth0" in line for line in marked), tree.stdout
    assert any("02:00:00:c0:ff:ee" in line for line in marked), tree.stdout
    kinds = {d["kind"] for d in lab.cnitool("show", net.name, ns, "--tree", "-o", "json").json()[0]["differences"]}
    assert {"address-missing", "mac-mismatch"} <= kinds


def test_show_tree_of_a_namespace_with_a_non_ascii_name(lab) -> None:
    """Issue 4 `show --tree`: a namespace name that is not ASCII (cnitool creates and attaches
    it like any other) is read from the kernel too; pyroute2 took a str path as ASCII (exit 70)."""
    net, _bridge, _subnet = lab.bridge_network(ipMasq=False)
    name = lab.netns_name() + "ü"
    added = lab.add(net, name)
    assert added.returncode == 0, added
    address = json.loads(added.stdout)["ips"][0]["address"]
    for argv in (["show", net.name, name, "--tree"], ["show", "--all", "--tree"]):
        tree = lab.cnitool(*argv, "-o", "table", env=WIDE)
        assert tree.returncode == 0, tree
        assert address in tree.stdout and "matches the cached result" in tree.stdout, tree.stdout


def test_show_all_json_lists_the_attachment_and_a_gone_namespace(lab) -> None:
    """Issue 4 `show` / `show --all` (CACHE-01, CACHE-02): JSON is a list of entries with the
    container ID (CLI-02), ifname, network, namespace and whether it exists, args, capability
    args and the result in its cached layout; once the namespace is deleted behind cnitool's
    back, ``netnsExists`` is false and ``--tree`` reports it without recreating it."""
    net, _bridge, _subnet = lab.bridge_network(ipMasq=False)
    ns = lab.netns()
    path = k.netns_path(ns)
    added = lab.add(net, ns, "--arg", "IgnoreUnknown=1", "--cap", 'portMappings=[]')
    assert added.returncode == 0, added

    everything = lab.cnitool("show", "--all", "-o", "json")
    assert everything.returncode == 0, everything
    [entry] = [e for e in everything.json() if e["network"] == net.name]
    assert entry["containerId"] == k.container_id_for(path)
    assert (entry["ifName"], entry["netns"], entry["netnsExists"]) == ("eth0", path, True)
    assert entry["cniArgs"] == [["IgnoreUnknown", "1"]]
    assert entry["capabilityArgs"] == {"portMappings": []}
    assert entry["result"] == json.loads(added.stdout)  # 1.0.0 layout as cached
    assert entry["cacheFile"] == str(lab.cache_entry(net, path))
    assert lab.cnitool("show", net.name, ns, "-o", "json").json() == [entry]

    table = lab.cnitool("show", net.name, ns, "-o", "table", env=WIDE)
    assert table.returncode == 0 and entry["containerId"] in table.stdout and "(exists)" in table.stdout, table

    nobody = lab.cnitool("show", net.name, "/var/run/netns/no-such-ns-here", "-o", "json")
    assert nobody.returncode == 3, nobody

    k.run("ip", "netns", "del", ns)
    gone = lab.cnitool("show", net.name, path, "-o", "json").json()
    assert gone[0]["netnsExists"] is False
    tree = lab.cnitool("show", net.name, path, "--tree", "-o", "json")
    assert tree.returncode == 0, tree
    assert [d["kind"] for d in tree.json()[0]["differences"]][:1] == ["netns-missing"]
    assert ns not in k.netns_names() and not os.path.lexists(path)  # inspecting never creates


# --- netns ------------------------------------------------------------------------------------


def test_netns_add_list_exec_del_round_trip_with_ip_netns(lab) -> None:
    """Issue 4 `netns add|del|list|exec` (CLI-03): ``cnitool netns add`` is visible to ``ip
    netns list``; ``list`` shows it with its cached attachment (network, ifname, address) and
    also shows namespaces made by ``ip netns add``; ``netns exec`` runs inside it with CMD's exit
    status; ``netns del`` removes it from ``ip netns list``; exec in a missing one fails (exit 3)
    without creating it."""
    net, _bridge, subnet = lab.bridge_network(ipMasq=False)
    name = lab.netns_name()
    other = lab.netns()  # made by `ip netns add`

    made = lab.cnitool("netns", "add", name, "-o", "json")
    assert made.returncode == 0, made
    assert made.json() == {"name": name, "path": k.netns_path(name), "created": True}
    assert name in k.netns_names()
    assert lab.cnitool("netns", "add", name).returncode == 3  # exists already, like ip netns add

    added = lab.add(net, name)
    assert added.returncode == 0, added
    address = json.loads(added.stdout)["ips"][0]["address"]

    listing = lab.cnitool("netns", "list", "-o", "json")
    assert listing.returncode == 0, listing
    by_name = {entry["name"]: entry for entry in listing.json()}
    assert by_name[name]["valid"] is True
    assert by_name[name]["attachments"] == [
        {"network": net.name, "containerId": k.container_id_for(k.netns_path(name)), "ifName": "eth0", "ips": [address]}
    ]
    assert by_name[other]["attachments"] == []
    table = lab.cnitool("netns", "list", "-o", "table", env=WIDE)
    assert any(name in line and net.name in line and address in line for line in table.stdout.splitlines()), table

    inside = lab.cnitool("netns", "exec", name, "--", "ip", "-o", "-4", "addr", "show", "eth0")
    assert inside.returncode == 0 and address in inside.stdout, inside
    assert ipaddress.ip_interface(address).network == subnet
    assert lab.cnitool("netns", "exec", name, "--", "sh", "-c", "exit 5").returncode == 5
    # Like `ip netns exec`: without `--`, CMD's options are CMD's, not ours.
    bare = lab.cnitool("netns", "exec", name, "ip", "-o", "-4", "addr", "show", "eth0")
    assert bare.returncode == 0 and address in bare.stdout, bare

    deleted = lab.cnitool("del", net.name, name)
    assert deleted.returncode == 0, deleted
    removed = lab.cnitool("netns", "del", name, "-o", "json")
    assert removed.returncode == 0, removed
    assert removed.json()["removed"] is True
    assert name not in k.netns_names()

    missing = lab.cnitool("netns", "exec", name, "--", "true")
    assert missing.returncode == 3, missing
    assert name not in k.netns_names() and not os.path.lexists(k.netns_path(name))


def test_exec_undoes_the_attachment_when_the_command_cannot_be_run(lab, exec_namespaces, monkeypatch) -> None:
    """Issue 4 `exec`: when running CMD fails after the ADD (here: entering the namespace raises),
    the attachment is deleted and the namespace removed all the same, and the error is reported."""
    from cnitool import netns as netns_adapter
    from cnitool.cli import main
    from cnitool.cli.app import App
    from cnitool.core.errors import NetnsError

    def cannot_enter(path: str, argv: object) -> object:
        exec_namespaces.append(os.path.basename(path))
        raise NetnsError(f"cannot run the command in {path}")

    monkeypatch.setattr(netns_adapter, "run_foreground", cannot_enter)
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    out, err = io.StringIO(), io.StringIO()
    status = main(["exec", "-o", "json", net.name, "--", "true"], app=App(stdout=out, stderr=err, environ=subprocess_env(lab)))
    assert status == 3, err.getvalue()
    assert json.loads(err.getvalue().splitlines()[-1])["msg"].startswith("cannot run the command in ")
    [name] = exec_namespaces
    assert_nothing_left(lab, net, bridge, name)


def test_exec_without_nsenter_sets_nothing_up(lab) -> None:
    """Issue 4 `exec`: nsenter (util-linux) runs CMD in the namespace; without it exec says so
    (exit 3) before it creates a namespace or runs a plugin."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    before = set(k.netns_names())
    env = subprocess_env(lab)
    env["PATH"] = "/nonexistent"
    done = subprocess.run([sys.executable, "-m", "cnitool", "exec", "-o", "json", net.name, "--", "true"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done
    assert "nsenter not found" in json.loads(done.stderr.splitlines()[-1])["msg"]
    assert set(k.netns_names()) == before
    assert k.link(bridge) is None  # the bridge plugin never ran
