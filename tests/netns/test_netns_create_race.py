"""CLI-03 under concurrency: several ``cnitool add`` of one bare name that does not exist yet.

One process creates the namespace; the others lose that race and attach to the namespace it made
instead of failing with "already exists". Creating is two steps (an empty mount point file made
O_EXCL, then the bind mount of the new namespace on it), so a loser may find a plain file: it
waits for the namespace, and never runs a plugin against the plain file. A loser did not create
the namespace, so it never removes it; the creator, when its own add fails, keeps it too while
another attachment is in it (cached) or being made in it (another add holds it).

The plugins are fake (``#!/bin/sh``), the namespaces real. Order is proved by files the plugins
and the test write, never by durations.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import netns_kernel as k
from cnitool import netns
from cnitool.core.errors import NetnsError

pytestmark = pytest.mark.privileged

_LEAKY = ("NETCONFPATH", "CNI_PATH", "CNI_IFNAME", "CNI_ARGS", "CAP_ARGS", "CNI_CACHE_DIR",
          "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "NO_COLOR", "FORCE_COLOR")

# Refuses (exit 1) to work on anything but a network namespace, logs "ADD <ifname>", and, for the
# interface named in $HOLD_IF, says so in $TDIR/held-IFNAME and waits (bounded) for the file
# $TDIR/go-IFNAME before going on; it then fails when $FAIL_IF names the interface.
PLUGIN = (
    'cat > /dev/null\n'
    'if ! nsenter --net="$CNI_NETNS" true 2>/dev/null; then\n'
    '  echo "{\\"code\\": 3, \\"msg\\": \\"$CNI_NETNS is not a network namespace\\"}"; exit 1\n'
    'fi\n'
    '[ "$CNI_COMMAND" = ADD ] || exit 0\n'
    'echo "ADD $CNI_IFNAME" >> "$TDIR/log"\n'
    'if [ "$CNI_IFNAME" = "$HOLD_IF" ]; then\n'
    '  touch "$TDIR/held-$CNI_IFNAME"\n'
    '  i=0; while [ ! -e "$TDIR/go-$CNI_IFNAME" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\n'
    'fi\n'
    'if [ "$CNI_IFNAME" = "$FAIL_IF" ]; then echo \'{"code": 11, "msg": "told to fail"}\'; exit 1; fi\n'
    'echo \'{"cniVersion": "1.0.0", "ips": [{"address": "10.9.4.2/24"}]}\'\n'
)


class Race:
    """One test's fake-plugin network in the lab's config and cache dirs, and cnitool processes."""

    def __init__(self, lab, fake_plugins, tmp_path: Path) -> None:
        self.lab = lab
        self.record = tmp_path / "record"
        self.record.mkdir()
        fake_plugins("nsprobe", PLUGIN)
        self.plugin_dir = fake_plugins.dir
        self.network = lab.network([{"type": "nsprobe"}]).name
        self.name = lab.netns_name()  # not created; removed at teardown if it exists
        self.path = k.netns_path(self.name)

    def env(self, **extra: str) -> dict[str, str]:
        inherited = {key: value for key, value in os.environ.items() if key not in _LEAKY}
        return {**inherited, **self.lab.env(CNI_PATH=str(self.plugin_dir)), "TDIR": str(self.record), **extra}

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "cnitool", "-o", "json", *args], env=self.env(**extra),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def add(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return self.start("add", self.network, self.name, *args, **extra)

    def log(self) -> list[str]:
        path = self.record / "log"
        return sorted(path.read_text().splitlines()) if path.exists() else []

    def cache_files(self) -> list[str]:
        results = self.lab.cache_dir / "results"
        return sorted(os.listdir(results)) if results.exists() else []


@pytest.fixture
def race(lab, fake_plugins, tmp_path: Path) -> Race:
    return Race(lab, fake_plugins, tmp_path)


def finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    """Wait for every process; (exit status, stdout, stderr) each. Kills what is left on failure."""
    try:
        outputs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return [(proc.returncode, out, err) for proc, (out, err) in zip(procs, outputs)]


def last_error(stderr: str) -> dict:
    return json.loads(stderr.splitlines()[-1])


def wait_for(predicate: Callable[[], bool], within: float = 60) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_cli_03_concurrent_adds_of_a_new_bare_name_attach_once_and_refuse_the_rest(race: Race) -> None:
    """The user's report: `for i in 1 2 3 4; do cnitool -o json add NET NEW & done; wait` gave
    "already exists" (exit 3) for all but one. Now the losers wait for the attachment lock and
    get the usual refusal of a second ADD of the same attachment (exit 2)."""
    runs = finish([race.add() for _ in range(4)])

    assert sorted(status for status, _out, _err in runs) == [0, 2, 2, 2], runs
    for status, _out, err in runs:
        assert "already exists" not in err, runs
        if status == 2:
            assert last_error(err)["kind"] == "already-attached", err
    assert race.log() == ["ADD eth0"]
    assert race.name in k.netns_names()
    deleted = race.lab.cnitool("del", race.network, race.name, "--remove-netns", env={"CNI_PATH": str(race.plugin_dir)})
    assert deleted.returncode == 0, deleted
    assert race.name not in k.netns_names()


def test_cli_03_concurrent_adds_of_different_interfaces_into_a_new_bare_name_all_succeed(race: Race) -> None:
    ifnames = ["eth1", "eth2", "eth3"]
    runs = finish([race.add("-i", ifname) for ifname in ifnames])

    assert [status for status, _out, _err in runs] == [0, 0, 0], runs
    assert race.log() == [f"ADD {ifname}" for ifname in ifnames]
    assert len(race.cache_files()) == 3
    assert race.name in k.netns_names()
    for ifname in ifnames:
        deleted = race.lab.cnitool("del", race.network, race.name, "-i", ifname, env={"CNI_PATH": str(race.plugin_dir)})
        assert deleted.returncode == 0, deleted
    assert race.cache_files() == []


def test_cli_03_failed_add_keeps_the_namespace_it_created_when_another_attachment_is_in_it(race: Race) -> None:
    """A (eth1) creates the namespace and fails, but only after B (eth2) attached in it: removing
    the namespace would destroy B's working attachment, so A keeps it and says so."""
    creator = race.add("-i", "eth1", HOLD_IF="eth1", FAIL_IF="eth1")
    try:
        assert wait_for(lambda: (race.record / "held-eth1").exists()), race.log()
        joined = finish([race.add("-i", "eth2")])
    finally:
        (race.record / "go-eth1").touch()
        [(status, _out, err)] = finish([creator])

    assert joined[0][0] == 0, joined
    assert status == 1, err
    warnings = [json.loads(line)["msg"] for line in err.splitlines() if '"level": "warning"' in line]
    assert any(race.name in msg and "keep" in msg for msg in warnings), err
    assert race.name in k.netns_names()
    assert race.cache_files() == [f"{race.network}-{k.container_id_for(race.path)}-eth2"]


def test_cli_03_add_failing_on_an_unusable_cache_removes_the_namespace_it_created(race: Race, tmp_path: Path) -> None:
    """CLI-03: the cache's results/ is a file, so add fails (exit 3) before any plugin runs; the
    namespace this add created holds nothing and goes, as after any failed add (an unreadable
    cache hides no attachment of a namespace made moments ago)."""
    cache = tmp_path / "broken-cache"
    cache.mkdir()
    (cache / "results").write_text("not a directory")
    [(status, _out, err)] = finish([race.add(CNI_CACHE_DIR=str(cache))])
    assert status == 3, err
    assert last_error(err)["kind"] == "cache", err
    assert "keeping network namespace" not in err
    assert race.name not in k.netns_names()
    assert race.log() == []


def test_cli_03_failed_add_keeps_the_namespace_it_created_while_another_add_works_in_it(race: Race) -> None:
    """A (eth1) creates the namespace and fails while B (eth2), which joined it, is still
    running its plugin: A must not remove the namespace from under B, and B then succeeds."""
    creator = race.add("-i", "eth1", FAIL_IF="eth1", HOLD_IF="eth1")
    joiner: subprocess.Popen[str] | None = None
    try:
        assert wait_for(lambda: (race.record / "held-eth1").exists()), race.log()
        joiner = race.add("-i", "eth2", HOLD_IF="eth2")
        assert wait_for(lambda: (race.record / "held-eth2").exists()), race.log()
        (race.record / "go-eth1").touch()  # A fails and finishes while B's plugin still waits
        [(status, _out, err)] = finish([creator])
    finally:
        for ifname in ("eth1", "eth2"):
            (race.record / f"go-{ifname}").touch()
        joined = finish([joiner] if joiner is not None else [])
        finish([creator])

    assert status == 1, err
    assert joined and joined[0][0] == 0, joined
    assert race.name in k.netns_names()
    assert race.cache_files() == [f"{race.network}-{k.container_id_for(race.path)}-eth2"]


# --- the pieces, in-process: a mount point that is not a namespace yet, and the namespace hold ----


@pytest.fixture
def plain_mount_point(race: Race) -> Iterator[Path]:
    """An empty file at the new name's path, as a creator leaves it between its two steps."""
    os.makedirs(netns.NETNS_DIR, exist_ok=True)
    path = Path(race.path)
    path.touch()
    try:
        yield path
    finally:
        if os.path.lexists(path):
            netns.remove(race.name)  # umount (when one was mounted) and unlink


def mount_a_namespace_on(path: str) -> None:
    """The creator's second step: bind a new network namespace onto the mount point."""
    subprocess.run(["unshare", "--net", "mount", "--bind", "/proc/self/ns/net", path], check=True)


def test_cli_03_a_loser_waits_until_the_mount_point_is_a_namespace(
    race: Race, plain_mount_point: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited: list[float] = []

    def creator_mounts_meanwhile(seconds: float) -> None:
        if not waited:
            mount_a_namespace_on(race.path)
        waited.append(seconds)

    monkeypatch.setattr(netns.time, "sleep", creator_mounts_meanwhile)
    with netns.occupy(race.path, create_name=race.name) as occupancy:
        assert not occupancy.created  # another process made it: never ours to remove
        assert waited  # it did not use, nor give up on, the plain file
        assert netns.exists(race.path)
        assert os.fstat(occupancy.fd).st_ino == os.stat(race.path).st_ino


def test_cli_03_a_loser_creates_the_namespace_when_the_creator_gave_up(
    race: Race, plain_mount_point: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The creator's mount failed and it removed its mount point: the name is free again."""
    monkeypatch.setattr(netns.time, "sleep", lambda _seconds: os.unlink(race.path) if os.path.lexists(race.path) else None)
    with netns.occupy(race.path, create_name=race.name) as occupancy:
        assert occupancy.created
        assert netns.exists(race.path)


def test_cli_03_an_old_plain_mount_point_is_a_leftover_reported_at_once(
    race: Race, plain_mount_point: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody is creating it (a crashed `ip netns add` long ago): no waiting, a clear error, and
    the file is left alone (it is not ours)."""
    an_hour_ago = time.time() - 3600
    os.utime(plain_mount_point, (an_hour_ago, an_hour_ago))
    waited: list[float] = []
    monkeypatch.setattr(netns.time, "sleep", waited.append)
    with pytest.raises(NetnsError) as caught:
        netns.occupy(race.path, create_name=race.name)
    assert "is not a network namespace" in caught.value.msg
    assert caught.value.hint is not None and f"ip netns del {race.name}" in caught.value.hint
    assert waited == []
    assert plain_mount_point.exists() and not netns.exists(race.path)


def test_cli_03_a_namespace_replaced_between_open_and_lock_is_held_anew(race: Race, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hold is taken on the namespace that is at the path after the lock, not on one that was
    removed (and replaced) between our open and our flock."""
    netns.create(race.name)
    real_flock = fcntl.flock
    shared_attempts: list[int] = []

    def replace_first(fd: int, operation: int) -> None:
        if operation == fcntl.LOCK_SH:
            if not shared_attempts:
                netns.remove(race.name)
                netns.create(race.name)
            shared_attempts.append(fd)
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", replace_first)
    with netns.occupy(race.path) as occupancy:
        assert len(shared_attempts) == 2
        assert os.fstat(occupancy.fd).st_ino == os.stat(race.path).st_ino
        assert not occupancy.created


def test_cli_03_alone_only_when_no_other_add_holds_the_namespace(race: Race) -> None:
    netns.create(race.name)
    with netns.occupy(race.path) as first:
        with netns.occupy(race.path):
            assert not first.alone()
        assert first.alone()
