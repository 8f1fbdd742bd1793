"""Robustness through the command line with real processes: timeouts, rollback, locking.

EXEC-09 (timeout kills the plugin and its children; exit 4; rollback still runs), ADD-02 (rollback
order and prevResult; --no-rollback), LOCK-01 (same attachment serialised, different attachments
in parallel, GC waits for an ADD of its network).

The plugins are small ``#!/bin/sh`` scripts; they record what happened into files under ``$TDIR``
(passed through the environment, which plugins inherit, EXEC-03). Concurrency is proved by the
order of the events the plugins themselves append to one log, never by measured durations.
``add`` needs a real network namespace (CLI-03), hence root.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from plugin_env import live_group_members, process_gone, wait_for

from cnitool import netns

pytestmark = pytest.mark.privileged

_LEAKY = ("NETCONFPATH", "CNI_PATH", "CNI_IFNAME", "CNI_ARGS", "CAP_ARGS", "CNI_CACHE_DIR",
          "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "NO_COLOR", "FORCE_COLOR")

R1 = {"cniVersion": "1.0.0", "ips": [{"address": "10.9.0.1/24"}]}
R2 = {
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "eth0", "mac": "02:00:00:00:00:02", "sandbox": "/x"}],
    "ips": [{"address": "10.9.0.2/24", "gateway": "10.9.0.254", "interface": 0}],
}
R_LOCK = {"cniVersion": "1.0.0", "ips": [{"address": "10.9.1.2/24"}]}

# Every recording plugin starts like this: stdin saved per plugin/verb/container, one log line.
RECORD = (
    'me=$(basename "$0")\n'
    'cat > "$TDIR/$me-$CNI_COMMAND-$CNI_CONTAINERID.json"\n'
    'echo "$me $CNI_COMMAND $CNI_CONTAINERID" >> "$TDIR/log"\n'
)


def answer(result: dict) -> str:
    """sh: print ``result`` as the ADD answer; other verbs print nothing."""
    return f"if [ \"$CNI_COMMAND\" = ADD ]; then echo '{json.dumps(result)}'; fi\n"


class World:
    """One test's config dir, plugin dir, cache dir, record dir and namespace, and a CLI runner."""

    def __init__(self, tmp_path: Path, fake_plugins, netns_path: str) -> None:
        self.conf_dir = tmp_path / "net.d"
        self.conf_dir.mkdir(exist_ok=True)
        self.cache_dir = tmp_path / "cache"
        self.record_dir = tmp_path / "rec"
        self.record_dir.mkdir()
        self.plugin = fake_plugins
        self.netns = netns_path

    def network(self, plugins: list[str], *, name: str = "robust", version: str = "1.0.0") -> str:
        document = {"cniVersion": version, "name": name, "plugins": [{"type": p} for p in plugins]}
        (self.conf_dir / f"{name}.conflist").write_text(json.dumps(document))
        return name

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in _LEAKY}
        env["TDIR"] = str(self.record_dir)
        return env

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "cnitool", "--conf-dir", str(self.conf_dir), "--cni-path", str(self.plugin.dir),
                "--cache-dir", str(self.cache_dir), "-o", "json", *args]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args), env=self.env(), capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*args), env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def signalled(self, *args: str, steps: list[tuple[str, int]], timeout: float = 30) -> tuple[int, str]:
        """Run cnitool; for each (mark, signal), wait for the plugins to touch ``mark`` in the
        record dir, then send the signal. Its exit status and stderr; killed if it outlives the test."""
        proc = self.start(*args)
        try:
            for mark, signum in steps:
                assert wait_for(lambda: (self.record_dir / mark).exists(), within=20), f"{mark} never appeared"
                proc.send_signal(signum)
            _stdout, stderr = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return proc.returncode, stderr

    def log(self) -> list[str]:
        path = self.record_dir / "log"
        return path.read_text().splitlines() if path.exists() else []

    def stdin_of(self, plugin: str, command: str, container_id: str) -> dict:
        return json.loads((self.record_dir / f"{plugin}-{command}-{container_id}.json").read_text())

    def cache_files(self) -> list[str]:
        results = self.cache_dir / "results"
        return sorted(os.listdir(results)) if results.exists() else []


@pytest.fixture
def netns_path(unique: Callable[[str], str]) -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root: cnitool add requires a real network namespace")
    name = unique("cnitrob")
    path = netns.create(name)
    try:
        yield path
    finally:
        if os.path.lexists(path):
            netns.remove(name)


@pytest.fixture
def world(tmp_path: Path, fake_plugins, netns_path: str) -> World:
    return World(tmp_path, fake_plugins, netns_path)


def error_line(proc: subprocess.CompletedProcess[str]) -> dict:
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.get("level") == "error"]
    assert errors, proc
    return errors[-1]


# ----------------------------------------------------------------------------------------- EXEC-09


def test_exec_09_timeout_exit_4_names_plugin_and_verb_and_rollback_runs(world: World) -> None:
    world.plugin("first", RECORD + answer(R1))
    world.plugin("slow", RECORD + 'if [ "$CNI_COMMAND" = ADD ]; then sleep 60; fi\n')
    net = world.network(["first", "slow"])

    proc = world.run("--timeout", "1", "add", net, world.netns, "--container-id", "c1")

    assert proc.returncode == 4, proc
    error = error_line(proc)
    assert error["plugin"] == "slow" and error["command"] == "ADD"
    assert 'plugin type="slow"' in error["msg"] and "timed out" in error["msg"] and "(add)" in error["msg"]
    # ADD-02: the timed-out plugin counts as started: both get DEL, in reverse order.
    assert world.log() == ["first ADD c1", "slow ADD c1", "slow DEL c1", "first DEL c1"]
    assert world.stdin_of("slow", "DEL", "c1")["prevResult"] == R1
    assert world.cache_files() == []
    assert proc.stdout == ""


def test_exec_09_timeout_on_del_says_delete(world: World) -> None:
    world.plugin("slowdel", RECORD + answer(R1) + 'if [ "$CNI_COMMAND" = DEL ]; then sleep 60; fi\n')
    net = world.network(["slowdel"])
    assert world.run("add", net, world.netns, "--container-id", "c1").returncode == 0

    proc = world.run("--timeout", "1", "del", net, world.netns, "--container-id", "c1")

    assert proc.returncode == 4, proc
    error = error_line(proc)
    assert (error["plugin"], error["command"]) == ("slowdel", "DEL")
    assert 'plugin type="slowdel"' in error["msg"] and "(delete)" in error["msg"]
    assert world.cache_files() == [f"{net}-c1-eth0"]  # CACHE-04: kept when DEL fails


def test_exec_09_no_process_survives_a_timeout(world: World) -> None:
    """The plugin forks a child that would run for 5 minutes; after the timeout neither is alive."""
    world.plugin(
        "forker",
        RECORD
        + 'if [ "$CNI_COMMAND" = ADD ]; then\n'
        + '  sleep 300 &\n'
        + '  echo $! > "$TDIR/child.pid"\n'
        + '  echo $$ > "$TDIR/plugin.pid"\n'
        + '  sleep 300\n'
        + 'fi\n',
    )
    net = world.network(["forker"])
    child_pid = plugin_pid = None
    try:
        proc = world.run("--timeout", "1", "add", net, world.netns, "--container-id", "c1")
        child_pid = int((world.record_dir / "child.pid").read_text())
        plugin_pid = int((world.record_dir / "plugin.pid").read_text())
        assert proc.returncode == 4, proc
        assert wait_for(lambda: process_gone(child_pid), 3), f"child {child_pid} of the timed-out plugin survived"
        assert wait_for(lambda: process_gone(plugin_pid), 3), f"plugin {plugin_pid} survived"
        # The plugin led its own process group (EXEC-09): nothing of it is left, its own sleep included.
        assert wait_for(lambda: not live_group_members(plugin_pid), 3), live_group_members(plugin_pid)
        assert world.log() == ["forker ADD c1", "forker DEL c1"]
    finally:  # leave nothing behind even when the assertions failed
        if plugin_pid is not None:
            for pid in live_group_members(plugin_pid):
                os.kill(pid, 9)
        if child_pid is not None and not process_gone(child_pid):
            os.kill(child_pid, 9)


# ------------------------------------------------------------------------------------------ ADD-02


def chain_with_failing_third(world: World) -> str:
    world.plugin("p1", RECORD + answer(R1))
    world.plugin("p2", RECORD + answer(R2))
    world.plugin(
        "p3",
        RECORD + 'if [ "$CNI_COMMAND" = ADD ]; then echo \'{"code": 7, "msg": "p3 refuses"}\'; exit 1; fi\n',
    )
    return world.network(["p1", "p2", "p3"])


def test_add_02_rollback_in_reverse_order_with_the_last_good_result(world: World) -> None:
    net = chain_with_failing_third(world)

    proc = world.run("add", net, world.netns, "--container-id", "c1")

    assert proc.returncode == 1, proc
    assert error_line(proc)["msg"] == 'plugin type="p3" failed (add): p3 refuses'
    assert world.log() == ["p1 ADD c1", "p2 ADD c1", "p3 ADD c1", "p3 DEL c1", "p2 DEL c1", "p1 DEL c1"]
    assert "prevResult" not in world.stdin_of("p1", "ADD", "c1")
    assert world.stdin_of("p2", "ADD", "c1")["prevResult"] == R1
    assert world.stdin_of("p3", "ADD", "c1")["prevResult"] == R2
    for plugin in ("p3", "p2", "p1"):
        request = world.stdin_of(plugin, "DEL", "c1")
        assert request["prevResult"] == R2, plugin  # the last good result, for every DEL
        assert (request["type"], request["name"], request["cniVersion"]) == (plugin, net, "1.0.0")
    assert world.cache_files() == []


def test_add_02_first_plugin_failing_rolls_back_itself_without_prev_result(world: World) -> None:
    world.plugin("bad", RECORD + 'if [ "$CNI_COMMAND" = ADD ]; then echo \'{"code": 11, "msg": "no"}\'; exit 1; fi\n')
    world.plugin("never", RECORD + answer(R1))
    net = world.network(["bad", "never"])

    proc = world.run("add", net, world.netns, "--container-id", "c1")

    assert proc.returncode == 1, proc
    assert world.log() == ["bad ADD c1", "bad DEL c1"]
    assert "prevResult" not in world.stdin_of("bad", "DEL", "c1")


def test_add_02_plugin_not_found_is_not_rolled_back(world: World) -> None:
    world.plugin("p1", RECORD + answer(R1))
    net = world.network(["p1", "missing"])

    proc = world.run("add", net, world.netns, "--container-id", "c1")

    assert proc.returncode == 3, proc
    assert 'failed to find plugin "missing"' in error_line(proc)["msg"]
    assert world.log() == ["p1 ADD c1", "p1 DEL c1"]
    assert world.stdin_of("p1", "DEL", "c1")["prevResult"] == R1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["ctrl-c", "sigterm", "sighup"])
def test_add_02_interrupted_add_rolls_back_and_removes_the_namespace_it_created(world: World, unique, signum) -> None:
    """ADD-02, CLI-03, CLI-05: Ctrl-C (or the SIGTERM of a CI timeout, the SIGHUP of a closed
    terminal) while the second plugin runs: that plugin is killed, both get DEL in reverse order,
    no cache entry is written, and the namespace cnitool created is removed; exit 128 + signal."""
    world.plugin("p1", RECORD + answer(R1))
    world.plugin("hang", RECORD + 'if [ "$CNI_COMMAND" = ADD ]; then touch "$TDIR/hanging"; sleep 60; fi\n')
    net = world.network(["p1", "hang"])
    name = unique("cnitint")
    try:
        status, stderr = world.signalled("add", net, name, "--container-id", "c1", steps=[("hanging", signum)])
    finally:
        if os.path.lexists(f"/var/run/netns/{name}"):
            netns.remove(name)
    assert status == 128 + signum, stderr
    lines = [json.loads(line) for line in stderr.splitlines()]  # CLI-05: JSON lines only, no blank line
    assert lines[-1]["kind"] == "interrupted", lines
    assert world.log() == ["p1 ADD c1", "hang ADD c1", "hang DEL c1", "p1 DEL c1"]
    assert world.stdin_of("hang", "DEL", "c1")["prevResult"] == R1
    assert world.cache_files() == []
    assert not os.path.lexists(f"/var/run/netns/{name}")


def test_add_02_interrupted_add_reports_what_the_rollback_could_not_undo(world: World) -> None:
    """ADD-02, CLI-05: SIGTERM while the second plugin runs; the first plugin's rollback DEL fails,
    and the interrupted error line says so (the user must learn that something was left behind)."""
    world.plugin("p1", RECORD + answer(R1) + 'if [ "$CNI_COMMAND" = DEL ]; then echo \'{"code": 5, "msg": "p1 stuck"}\'; exit 1; fi\n')
    world.plugin("hang", RECORD + 'if [ "$CNI_COMMAND" = ADD ]; then touch "$TDIR/hanging"; sleep 60; fi\n')
    net = world.network(["p1", "hang"])
    status, stderr = world.signalled("add", net, world.netns, "--container-id", "c1",
                                     steps=[("hanging", signal.SIGTERM)])
    assert status == 128 + signal.SIGTERM, stderr
    error = json.loads(stderr.splitlines()[-1])
    assert (error["level"], error["kind"]) == ("error", "interrupted"), error
    assert error["rollback_errors"] == ['plugin type="p1" failed (delete): p1 stuck']
    assert world.log() == ["p1 ADD c1", "hang ADD c1", "hang DEL c1", "p1 DEL c1"]


def test_add_02_interrupt_during_a_hung_add_stops_it_at_once_in_exec(world: World, unique) -> None:
    """ADD-02, EXEC-09, exec: Ctrl-C while a plugin hangs in ADD (a 100 s --timeout) kills it at
    once, as for add: the chain is rolled back (its DEL runs), the namespace exec created is
    removed, CMD never runs, exit 130; the user is told that the rollback runs."""
    world.plugin("hang", RECORD + 'if [ "$CNI_COMMAND" = ADD ]; then touch "$TDIR/hanging"; sleep 60; fi\n')
    net = world.network(["hang"])
    name = unique("cnitexh")
    try:
        # Within 60 s, well before the 100 s timeout: exec killed the hung plugin instead of waiting.
        status, stderr = world.signalled("--timeout", "100", "exec", net, "--netns", name, "--",
                                         "touch", str(world.record_dir / "cmd-ran"),
                                         steps=[("hanging", signal.SIGINT)], timeout=60)
    finally:
        if os.path.lexists(f"/var/run/netns/{name}"):
            netns.remove(name)
    assert status == 130, stderr
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert any(line.get("level") == "info" and line["msg"].startswith("interrupted: rolling back the ADD")
               for line in lines), lines
    assert lines[-1]["kind"] == "interrupted" and lines[-1]["rollback_errors"] == []
    container_id = world.log()[0].split()[-1]  # derived from the namespace exec made (CLI-02)
    assert world.log() == [f"hang ADD {container_id}", f"hang DEL {container_id}"]
    assert not (world.record_dir / "cmd-ran").exists()
    assert not os.path.lexists(f"/var/run/netns/{name}")
    assert world.cache_files() == []


def test_add_02_rollback_after_an_interrupt_gives_a_hung_del_10_seconds(world: World) -> None:
    """ADD-02, EXEC-09: after Ctrl-C the rollback's DEL of a plugin that hangs there too is killed
    after 10 s, not after the whole --timeout (here 100 s), and that is reported."""
    world.plugin("hang", RECORD + 'touch "$TDIR/hanging-$CNI_COMMAND"; sleep 60\n')
    net = world.network(["hang"])
    status, stderr = world.signalled("--timeout", "100", "add", net, world.netns, "--container-id", "c1",
                                     steps=[("hanging-ADD", signal.SIGINT)], timeout=60)
    assert status == 130, stderr
    error = json.loads(stderr.splitlines()[-1])
    assert error["rollback_errors"] == ['plugin type="hang" timed out after 10s (delete)']
    assert world.log() == ["hang ADD c1", "hang DEL c1"]


def test_add_02_second_interrupt_stops_the_rollback_and_says_what_was_not_undone(world: World) -> None:
    """ADD-02, CLI-05: Ctrl-C while p2 hangs in ADD starts the rollback; p2 hangs in DEL too and a
    second Ctrl-C stops it. The error says which DELs did not finish (p2, and p1 not run)."""
    world.plugin("p1", RECORD + answer(R1))
    world.plugin("hang", RECORD + 'touch "$TDIR/hanging-$CNI_COMMAND"; sleep 60\n')
    net = world.network(["p1", "hang"])
    status, stderr = world.signalled("add", net, world.netns, "--container-id", "c1",
                                     steps=[("hanging-ADD", signal.SIGINT), ("hanging-DEL", signal.SIGINT)])
    assert status == 130, stderr
    error = json.loads(stderr.splitlines()[-1])
    assert error["rollback_errors"] == [
        'rollback interrupted: DEL did not finish for plugin type="hang", plugin type="p1"'], error
    assert world.log() == ["p1 ADD c1", "hang ADD c1", "hang DEL c1"]


def test_add_ignored_sighup_stays_ignored(world: World) -> None:
    """CLI-05: under ``nohup`` (SIGHUP ignored when cnitool starts) a closed terminal does not
    interrupt the ADD; Ctrl-C still does (exit 130)."""
    world.plugin("hang", RECORD + 'if [ "$CNI_COMMAND" = ADD ]; then touch "$TDIR/hanging"; sleep 60; fi\n')
    net = world.network(["hang"])
    proc = subprocess.Popen(world.argv("add", net, world.netns, "--container-id", "c1"), env=world.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    try:
        assert wait_for(lambda: (world.record_dir / "hanging").exists(), within=20), proc
        proc.send_signal(signal.SIGHUP)
        assert not wait_for(lambda: proc.poll() is not None, within=1), proc.communicate()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert world.log() == ["hang ADD c1", "hang DEL c1"]


def test_add_02_no_rollback_keeps_the_half_built_state(world: World) -> None:
    net = chain_with_failing_third(world)

    proc = world.run("add", "--no-rollback", net, world.netns, "--container-id", "c1")

    assert proc.returncode == 1, proc
    assert world.log() == ["p1 ADD c1", "p2 ADD c1", "p3 ADD c1"]
    assert world.cache_files() == []  # CACHE-03: only a successful chain is cached


def test_add_02_rollback_failure_is_reported_with_the_add_failure(world: World) -> None:
    world.plugin("p1", RECORD + answer(R1) + 'if [ "$CNI_COMMAND" = DEL ]; then echo \'{"code": 5, "msg": "p1 stuck"}\'; exit 1; fi\n')
    world.plugin("p2", RECORD + 'if [ "$CNI_COMMAND" = ADD ]; then echo \'{"code": 7, "msg": "p2 refuses"}\'; exit 1; fi\n')
    net = world.network(["p1", "p2"])

    proc = world.run("add", net, world.netns, "--container-id", "c1")

    assert proc.returncode == 1, proc
    error = error_line(proc)
    assert error["msg"] == 'plugin type="p2" failed (add): p2 refuses'
    assert error["rollback_errors"] == ['plugin type="p1" failed (delete): p1 stuck']
    assert world.log() == ["p1 ADD c1", "p2 ADD c1", "p2 DEL c1", "p1 DEL c1"]


# ----------------------------------------------------------------------------------------- LOCK-01

# ADD appends "start", and the first ADD to start waits (up to $WAIT s) for a second "start" in the
# log before appending "end". Parallel calls: start start end end, fast. Serialised calls: the first
# waits in vain, then start end start end. No duration is measured.
BARRIER = (
    'if [ "$CNI_COMMAND" = ADD ]; then\n'
    '  echo "start $CNI_CONTAINERID $CNI_IFNAME" >> "$TDIR/events"\n'
    '  if [ "$(grep -c ^start "$TDIR/events")" = 1 ]; then\n'
    '    i=0\n'
    '    while [ "$(grep -c ^start "$TDIR/events")" -lt 2 ] && [ $i -lt $((WAIT * 20)) ]; do sleep 0.05; i=$((i+1)); done\n'
    '  fi\n'
    '  echo "end $CNI_CONTAINERID $CNI_IFNAME" >> "$TDIR/events"\n'
    f"  echo '{json.dumps(R_LOCK)}'\n"
    'fi\n'
)


def events(world: World) -> list[str]:
    return [line.split()[0] for line in (world.record_dir / "events").read_text().splitlines()]


def run_pair(world: World, first: list[str], second: list[str]) -> None:
    procs = [world.start(*first), world.start(*second)]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, (out, err)


def test_lock_01_same_attachment_is_serialised(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two concurrent adds of one attachment: the second waits for the first, then finds it added
    and is refused (a second ADD without DEL) without running any plugin. Without the lock both
    would run the plugin at once (start start end end) and both succeed."""
    monkeypatch.setenv("WAIT", "3")
    world.plugin("barrier", BARRIER)
    net = world.network(["barrier"])
    args = ["add", net, world.netns, "--container-id", "same"]

    procs = [world.start(*args), world.start(*args)]
    outputs = [proc.communicate(timeout=60) for proc in procs]

    assert sorted(proc.returncode for proc in procs) == [0, 2], outputs
    refused = next(err for proc, (_out, err) in zip(procs, outputs) if proc.returncode == 2)
    assert json.loads(refused.splitlines()[-1])["kind"] == "already-attached"
    assert events(world) == ["start", "end"]
    assert world.cache_files() == [f"{net}-same-eth0"]


def test_lock_01_different_attachments_run_in_parallel(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAIT", "10")  # a serialised run would take 10 s and fail the assertion
    world.plugin("barrier", BARRIER)
    net = world.network(["barrier"])

    run_pair(world, ["add", net, world.netns, "--container-id", "one"],
             ["add", net, world.netns, "--container-id", "two"])

    assert events(world) == ["start", "start", "end", "end"]
    assert world.cache_files() == [f"{net}-one-eth0", f"{net}-two-eth0"]


def test_lock_01_gc_waits_for_an_add_in_flight_on_its_network(world: World) -> None:
    """GC of a network takes its lock exclusively: a GC started while an ADD of that network is in
    flight runs after the ADD finished, so its valid set (sent to the plugin's GC) has the new
    attachment and the plugin does not collect it. The fake plugin keeps one state file per
    container, and its GC removes every state file not in the valid set, as host-local would."""
    world.plugin(
        "stateful",
        'if [ "$CNI_COMMAND" = ADD ]; then\n'
        '  echo "add-start $CNI_CONTAINERID" >> "$TDIR/log"\n'
        '  touch "$TDIR/state-$CNI_CONTAINERID"\n'
        '  sleep 2\n'
        '  echo "add-end $CNI_CONTAINERID" >> "$TDIR/log"\n'
        f"  echo '{json.dumps({**R_LOCK, 'cniVersion': '1.1.0'})}'\n"
        'elif [ "$CNI_COMMAND" = GC ]; then\n'
        '  cat > "$TDIR/gc-stdin.json"\n'
        '  echo "gc" >> "$TDIR/log"\n'
        '  for f in "$TDIR"/state-*; do\n'
        '    [ -e "$f" ] || continue\n'
        '    id=${f##*/state-}\n'
        '    grep -q "\\"containerID\\":\\"$id\\"" "$TDIR/gc-stdin.json" || rm -f "$f"\n'
        '  done\n'
        'elif [ "$CNI_COMMAND" = DEL ]; then\n'
        '  echo "del $CNI_CONTAINERID" >> "$TDIR/log"\n'
        'fi\n',
    )
    net = world.network(["stateful"], version="1.1.0")

    adding = world.start("add", net, world.netns, "--container-id", "new")
    try:
        assert wait_for(lambda: "add-start new" in world.log(), 20), world.log()
        gc = world.run("gc", net)
    finally:
        out, err = adding.communicate(timeout=60)
    assert adding.returncode == 0, (out, err)
    assert gc.returncode == 0, gc

    assert world.log() == ["add-start new", "add-end new", "gc"]
    assert json.loads((world.record_dir / "gc-stdin.json").read_text())["cni.dev/valid-attachments"] == [
        {"containerID": "new", "ifname": "eth0"}
    ]
    assert (world.record_dir / "state-new").exists()
    assert world.cache_files() == [f"{net}-new-eth0"]
    assert json.loads(gc.stdout)["kept"] == [{"containerID": "new", "ifname": "eth0"}]
