"""``cnitool exec`` and ``cnitool netns``: processes a command leaves behind, and commands that
cannot be run (a user trial's two defects).

1. ``cnitool exec NET -- sh -c 'sleep 100 & exit 0'`` left ``sleep`` running in the namespace
   after exec returned: reparented to init, it kept the namespace alive (unnamed, its veth gone).
   Before removing a namespace it created, exec now ends every process still in it (SIGTERM, a
   short grace, SIGKILL), as a container runtime ends a pod's, and says how many in one info
   line; a namespace it does not remove (an existing ``--netns``, ``--keep``) is left alone, and
   processes of other namespaces are never touched. ``netns del`` (like ``ip netns del``) removes
   the name only, and warns with the pids that keep the namespace alive.
2. ``-o json exec NET -- /nonexistent`` printed nsenter's plain-text line after setting up (and
   tearing down) the attachment. The command is now looked up first, with the PATH it will get;
   a missing one is cnitool's own error (exit 127, as a shell says "command not found"; 126 for
   one that is there but cannot be executed), a JSON object in JSON mode, and nothing is created.

Every process a test starts or makes cnitool start is recorded and killed at teardown, also when
the test fails (``strays``), before ``lab`` removes namespaces and links.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import netns_kernel as k
from netns_kernel import wait_for

pytestmark = pytest.mark.privileged

Identity = tuple[int, int]
WIDE = {"COLUMNS": "250"}  # rich wraps at 80 columns in a pipe


# --- helpers ----------------------------------------------------------------------------------


def namespace_of(pid: int) -> Identity | None:
    """(st_dev, st_ino) of a process's network namespace; None when it is gone (or a zombie)."""
    try:
        st = os.stat(f"/proc/{pid}/ns/net")
    except OSError:
        return None
    return st.st_dev, st.st_ino


def identity_of(path: str) -> Identity:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def pids_in(identity: Identity) -> list[int]:
    """Every live process whose network namespace is ``identity``."""
    return sorted(int(entry) for entry in os.listdir("/proc")
                  if entry.isdigit() and namespace_of(int(entry)) == identity)


class Strays:
    """Namespaces whose processes, and processes, a test made: SIGKILLed at teardown."""

    def __init__(self) -> None:
        self.namespaces: list[Identity] = []
        self.popens: list[subprocess.Popen[bytes]] = []

    def namespace(self, identity: Identity) -> Identity:
        self.namespaces.append(identity)
        return identity

    def start(self, *argv: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.popens.append(proc)
        return proc

    def kill_all(self) -> list[int]:
        killed = []
        for identity in self.namespaces:
            for pid in pids_in(identity):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                except ProcessLookupError:
                    pass
        for proc in self.popens:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for identity in self.namespaces:
            wait_for(lambda: not pids_in(identity), what="the stray processes to die")
        return killed


@pytest.fixture
def strays(lab) -> Iterator[Strays]:  # after lab in teardown order: processes go first
    made = Strays()
    yield made
    made.kill_all()


def exec_report(stdout: str) -> tuple[str, Identity, list[int]]:
    """What the test commands print: the namespace name, its identity, then pids (one a line)."""
    name, dev_ino, *pids = stdout.split("\n")
    dev, ino = dev_ino.split()
    return name, (int(dev), int(ino)), [int(pid) for pid in pids if pid]


# sh prints the namespace's name and identity, then starts the given background jobs (their
# stdin/stdout/stderr detached, so that cnitool's caller does not wait on the pipe) and prints
# each one's pid.
PRELUDE = 'ip netns identify; stat -L -c "%d %i" /proc/self/ns/net; '


def leave(*jobs: str) -> str:
    return PRELUDE + " ".join(f"{job} </dev/null >/dev/null 2>&1 & echo $!;" for job in jobs) + " exit 0"


def infos(stderr: str) -> list[str]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line["msg"] for line in lines if line.get("level") == "info"]


def assert_gone(lab, bridge: str, name: str) -> None:
    assert name not in k.netns_names(), f"namespace {name} is still there"
    results = lab.cache_dir / "results"
    assert not results.exists() or list(results.iterdir()) == [], "the cache entry is still there"
    assert k.bridge_ports(bridge) == set(), f"veths still on {bridge}"


# --- 1. leftovers -----------------------------------------------------------------------------


def test_exec_ends_the_processes_cmd_left_in_its_namespace(lab, strays) -> None:
    """The trial's case: ``sh -c 'sleep 100 & exit 0'``. When exec returns, no process is left in
    the namespace it created (so the kernel frees it), one info line says how many it ended, and
    a process in another namespace (started by the test with ``ip netns exec``) still runs."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    other = lab.netns()
    bystander = strays.start("ip", "netns", "exec", other, "sleep", "100")
    wait_for(lambda: namespace_of(bystander.pid) == identity_of(k.netns_path(other)), what="the bystander")

    started = time.monotonic()
    done = lab.cnitool("exec", net.name, "--", "sh", "-c", leave("sleep 100", "sleep 101"))
    name, identity, pids = exec_report(done.stdout)
    strays.namespace(identity)
    assert done.returncode == 0, done
    assert len(pids) == 2, done
    assert pids_in(identity) == [], f"left running in {name}: {pids_in(identity)}"
    assert all(namespace_of(pid) is None for pid in pids)
    assert time.monotonic() - started < 20, "sleep ended by itself instead of being ended"
    [note] = infos(done.stderr)
    assert "ended 2 processes" in note and name in note, note
    assert_gone(lab, bridge, name)
    assert bystander.poll() is None, "a process of another namespace was ended"
    assert namespace_of(bystander.pid) == identity_of(k.netns_path(other))


def test_exec_kills_a_leftover_that_ignores_sigterm(lab, strays) -> None:
    """A leftover that ignores SIGTERM gets SIGKILL after the grace; the note says so. The
    grandchildren of a leftover (a subshell with its own ``sleep``) are ended too."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    done = lab.cnitool("exec", "-o", "table", net.name, "--", "sh", "-c",
                       leave("sh -c 'trap \"\" TERM; exec sleep 100'", "sh -c 'sleep 102; true'"),
                       env=WIDE)
    name, identity, pids = exec_report(done.stdout)
    strays.namespace(identity)
    assert done.returncode == 0, done
    assert len(pids) == 2, done
    assert pids_in(identity) == [], f"left running in {name}: {pids_in(identity)}"
    [note] = [line for line in done.stderr.splitlines() if "ended" in line]
    assert "ended 3 processes" in note and "SIGKILL" in note and name in note, done.stderr
    assert_gone(lab, bridge, name)


def test_exec_with_a_new_netns_name_ends_leftovers_too(lab, strays) -> None:
    """``--netns NEW``: exec created it, so it removes it, and ends what CMD left in it first."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    name = lab.netns_name()
    done = lab.cnitool("exec", net.name, "--netns", name, "--", "sh", "-c", leave("sleep 100"))
    reported, identity, [pid] = exec_report(done.stdout)
    strays.namespace(identity)
    assert (done.returncode, reported) == (0, name), done
    assert pids_in(identity) == [] and namespace_of(pid) is None
    [note] = infos(done.stderr)
    assert "ended 1 process the command left" in note, note
    assert_gone(lab, bridge, name)


def test_exec_in_an_existing_namespace_kills_nothing(lab, strays) -> None:
    """``--netns EXISTING``: exec does not remove the namespace, so what runs in it is not exec's
    to end: the leftover keeps running there, and no note is printed."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    name = lab.netns()
    identity = strays.namespace(identity_of(k.netns_path(name)))
    done = lab.cnitool("exec", net.name, "--netns", name, "--", "sh", "-c", leave("sleep 100"))
    reported, seen, [pid] = exec_report(done.stdout)
    assert (done.returncode, reported, seen) == (0, name, identity), done
    assert namespace_of(pid) == identity, "the leftover in an existing namespace was ended"
    assert infos(done.stderr) == [], done
    assert name in k.netns_names()
    assert k.bridge_ports(bridge) == set()  # the attachment went all the same


def test_exec_keep_kills_nothing(lab, strays) -> None:
    """``--keep`` leaves namespace, attachment and the processes in it, for debugging."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    done = lab.cnitool("exec", net.name, "--keep", "--", "sh", "-c", leave("sleep 100"))
    name, identity, [pid] = exec_report(done.stdout)
    strays.namespace(identity)
    lab.namespaces.append(name)  # lab removes it at teardown
    assert done.returncode == 0, done
    assert namespace_of(pid) == identity, "--keep ended the leftover"
    assert not any("ended" in note for note in infos(done.stderr)), done.stderr
    command = infos(done.stderr)[-1].split("remove with: ", 1)[1]
    removed = lab.cnitool(*shlex.split(command)[1:])
    assert removed.returncode == 0, removed
    assert_gone(lab, bridge, name)


def test_netns_del_warns_about_processes_that_keep_the_namespace_alive(lab, strays) -> None:
    """``netns del`` removes the name like ``ip netns del`` (a namespace cnitool did not create is
    not its to empty), but says that the namespace lives on in the processes still inside, with
    their pids, instead of leaving it alive silently; the JSON document lists them too."""
    name = lab.netns()
    identity = strays.namespace(identity_of(k.netns_path(name)))
    inside = strays.start("ip", "netns", "exec", name, "sleep", "100")
    wait_for(lambda: namespace_of(inside.pid) == identity, what="the process in the namespace")

    removed = lab.cnitool("netns", "del", name, "-o", "json")
    assert removed.returncode == 0, removed
    assert name not in k.netns_names()
    document = removed.json()
    assert document["removed"] is True and document["processes"] == [inside.pid], document
    warnings = [json.loads(line) for line in removed.stderr.splitlines()]
    [warning] = [w for w in warnings if w["level"] == "warning"]
    assert str(inside.pid) in warning["msg"] and "still" in warning["msg"], warning
    assert inside.poll() is None  # not killed

    empty = lab.netns()
    quiet = lab.cnitool("netns", "del", empty, "-o", "json")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet
    assert quiet.json()["processes"] == []


def test_end_processes_counts_what_it_ended_and_spares_other_namespaces(lab, strays) -> None:
    """The adapter function on its own: it ends the processes of one namespace (those that
    exit on SIGTERM, and one that ignores it) and reports them; an empty namespace is a no-op."""
    from cnitool import netns as netns_adapter

    target, other = lab.netns(), lab.netns()
    identity = strays.namespace(identity_of(k.netns_path(target)))
    polite = strays.start("ip", "netns", "exec", target, "sleep", "100")
    stubborn = strays.start("ip", "netns", "exec", target, "sh", "-c", "trap '' TERM; exec sleep 100")
    bystander = strays.start("ip", "netns", "exec", other, "sleep", "100")
    wait_for(lambda: len(pids_in(identity)) == 2 and comm(stubborn.pid) == "sleep"
             and namespace_of(bystander.pid) == identity_of(k.netns_path(other)), what="the processes")

    ended = netns_adapter.end_processes(k.netns_path(target), grace=0.5)
    assert (ended.count, ended.killed, ended.remaining) == (2, 1, 0), ended
    assert pids_in(identity) == []
    assert polite.wait(5) == -signal.SIGTERM and stubborn.wait(5) == -signal.SIGKILL
    assert bystander.poll() is None
    assert netns_adapter.end_processes(k.netns_path(target)).count == 0


def test_end_processes_rechecks_each_pid_before_signalling_it(lab, strays, monkeypatch) -> None:
    """Races of the /proc scan: a pid that vanished before it was signalled is fine (not
    counted), and a pid that by then belongs to a process of another namespace (the scan saw an
    older process with that pid) is never signalled: each pid's namespace is checked again once a
    pidfd holds it."""
    from cnitool import netns as netns_adapter

    target, other = lab.netns(), lab.netns()
    strays.namespace(identity_of(k.netns_path(target)))
    bystander = strays.start("ip", "netns", "exec", other, "sleep", "100")
    wait_for(lambda: namespace_of(bystander.pid) == identity_of(k.netns_path(other)), what="the bystander")
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: its pid names no process now
    scans = iter([[gone.pid, bystander.pid], [gone.pid, bystander.pid]])
    monkeypatch.setattr(netns_adapter, "_pids_in", lambda identity: next(scans, []))

    ended = netns_adapter.end_processes(k.netns_path(target), grace=0.1)
    assert (ended.count, ended.killed, ended.remaining) == (0, 0, 0), ended
    time.sleep(0.2)
    assert bystander.poll() is None, "a process of another namespace was signalled"


# --- 2. a command that cannot be run ----------------------------------------------------------


@pytest.mark.parametrize("command", ["/nonexistent/command", "no-such-command-cnitool-test", "./no-such-file"])
def test_exec_of_a_missing_command_is_cnitools_error_and_sets_nothing_up(lab, command: str) -> None:
    """Exit 127 as a shell's "command not found", one JSON error object (not nsenter's text), and
    no namespace, plugin run (the bridge would be made) or cache entry."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    name = lab.netns_name()
    before = k.netns_names()
    for argv in (["exec", net.name], ["exec", net.name, "--netns", name]):
        done = lab.cnitool(*argv, "-o", "json", "--", command, "arg")
        assert done.returncode == 127, done
        assert "nsenter" not in done.stderr, done
        error = json.loads(done.stderr.splitlines()[-1])
        assert (error["level"], error["kind"]) == ("error", "command-not-found"), error
        assert command in error["msg"], error
        assert done.stdout == ""
        assert k.netns_names() == before and k.link(bridge) is None
        assert not (lab.cache_dir / "results").exists() or list((lab.cache_dir / "results").iterdir()) == []

    human = lab.cnitool("exec", net.name, "-o", "table", "--", command)
    assert human.returncode == 127, human
    assert "command not found" in human.stderr and command in human.stderr, human
    assert "nsenter" not in human.stderr, human
    assert k.netns_names() == before and k.link(bridge) is None


def test_exec_of_a_file_that_cannot_be_executed_is_126(lab, tmp_path: Path) -> None:
    """A path that exists but is no executable file (no x bit, a directory): 126, as a shell
    says "Permission denied"/"Is a directory"; nothing is set up either."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    plain = tmp_path / "script.sh"
    plain.write_text("#!/bin/sh\necho RAN\n")
    plain.chmod(0o644)
    before = k.netns_names()
    for command in (str(plain), str(tmp_path)):
        done = lab.cnitool("exec", net.name, "-o", "json", "--", command)
        assert done.returncode == 126, done
        error = json.loads(done.stderr.splitlines()[-1])
        assert error["kind"] == "command-not-executable" and command in error["msg"], error
        assert "RAN" not in done.stdout
        assert k.netns_names() == before and k.link(bridge) is None


def test_exec_looks_the_command_up_on_the_path_it_will_get(lab, tmp_path: Path) -> None:
    """The command is found with the PATH it runs with (cnitool's environment): a script in a
    directory on that PATH runs; with a PATH without it, it is not found (127, nothing set up)."""
    net, bridge, _subnet = lab.bridge_network(ipMasq=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "cnitool-test-hello"
    script.write_text("#!/bin/sh\necho hello from $(ip netns identify)\n")
    script.chmod(0o755)
    path = f"{bin_dir}:{os.environ.get('PATH', os.defpath)}"
    found = lab.cnitool("exec", net.name, "--", "cnitool-test-hello", env={"PATH": path})
    assert found.returncode == 0, found
    assert found.stdout.startswith("hello from cnitool-exec-"), found
    assert_gone(lab, bridge, found.stdout.split()[-1])

    lost = lab.cnitool("exec", net.name, "--", "cnitool-test-hello")
    assert lost.returncode == 127, lost
    assert json.loads(lost.stderr.splitlines()[-1])["kind"] == "command-not-found"


def test_netns_exec_of_a_missing_command_is_cnitools_error(lab) -> None:
    """``netns exec NS /nonexistent``: the same error (127, JSON object), not nsenter's line."""
    name = lab.netns()
    # Everything after NAME is CMD's, so -o json goes before the verb.
    done = lab.cnitool("-o", "json", "netns", "exec", name, "/nonexistent", "arg")
    assert done.returncode == 127, done
    assert "nsenter" not in done.stderr, done
    error = json.loads(done.stderr.splitlines()[-1])
    assert error["kind"] == "command-not-found" and "/nonexistent" in error["msg"], error
    human = lab.cnitool("-o", "table", "netns", "exec", name, "--", "no-such-command-cnitool-test")
    assert human.returncode == 127 and "command not found" in human.stderr, human
