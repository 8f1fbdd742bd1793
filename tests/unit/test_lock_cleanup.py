"""LOCK-01: lock files go away when nobody needs them, and mutual exclusion survives that.

A lock file is removed by the process that holds it last, while it holds it exclusively; a
process that locked a file somebody removed meanwhile (it opened it just before) sees, by
comparing the inode it holds with the one at the path, that its lock protects nothing and starts
again. These tests drive core with the fake runner; tests/plugins/test_lock_cleanup_stress.py
proves the same with real processes.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnitool.core.api import Cni
from cnitool.core.errors import PluginFailed
from cnitool.core.lock import Locks
from cnitool.core.runner import PluginInvocation
from unit_fakes import FakeRunner, fail, make_network, make_runtime, ok

RUNTIME = make_runtime(container_id="c1", ifname="eth0")
ATTACHMENT_LOCK = "attachment-net1-c1-eth0.lock"
NETWORK_LOCK = "network-net1.lock"


def lock_files(cache_dir: Path) -> list[str]:
    locks = cache_dir / "locks"
    return sorted(os.listdir(locks)) if locks.exists() else []


def held_by_someone(path: Path, mode: int = fcntl.LOCK_EX) -> bool:
    """Whether another open file description holds a lock on ``path`` that conflicts with ``mode``."""
    fd = os.open(path, os.O_RDWR)  # a separate open file description, like another process
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_lock_01_add_and_del_leave_no_lock_file(cni: Cni, cache_dir: Path) -> None:
    network = make_network()
    cni.add(network, RUNTIME)
    assert lock_files(cache_dir) == []
    cni.delete(network, RUNTIME)
    assert lock_files(cache_dir) == []


def test_lock_01_failed_add_leaves_no_lock_file(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    runner.script("bridge", "ADD", fail({"code": 11, "msg": "no"}))
    with pytest.raises(PluginFailed):
        cni.add(make_network(), RUNTIME)
    assert lock_files(cache_dir) == []


def test_lock_01_check_leaves_no_lock_file(cni: Cni, cache_dir: Path) -> None:
    network = make_network()
    cni.add(network, RUNTIME)
    cni.check(network, RUNTIME)
    assert lock_files(cache_dir) == []


def test_lock_01_lock_files_exist_and_are_held_while_plugins_run(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """While a plugin runs, the attachment's file is held exclusively and the network's shared
    (GC could not start); both live under locks/, and results/ holds no lock file."""
    seen: list[tuple[list[str], bool, bool, bool]] = []

    def probe(invocation: PluginInvocation):
        locks = cache_dir / "locks"
        results = cache_dir / "results"
        seen.append((
            lock_files(cache_dir),
            held_by_someone(locks / ATTACHMENT_LOCK),
            held_by_someone(locks / NETWORK_LOCK),  # GC's exclusive lock: refused
            held_by_someone(locks / NETWORK_LOCK, fcntl.LOCK_SH),  # another attachment's: allowed
        ))
        assert not results.exists() or not [n for n in os.listdir(results) if n.endswith(".lock")]
        return ok({"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.1/24"}]})

    runner.script("bridge", "ADD", probe)
    cni.add(make_network(), RUNTIME)
    assert seen == [([ATTACHMENT_LOCK, NETWORK_LOCK], True, True, False)]


def test_lock_01_network_lock_file_stays_while_another_attachment_holds_it(cache_dir: Path) -> None:
    """Shared holders: the last one out removes the network's file. One that finishes while
    another still holds it leaves the file, and that holder's lock still keeps GC out."""
    locks = Locks(str(cache_dir))
    with locks.attachment("net1", "c1", "eth0"):
        with locks.attachment("net1", "c2", "eth0"):
            pass
        assert lock_files(cache_dir) == [ATTACHMENT_LOCK, NETWORK_LOCK]
        assert held_by_someone(cache_dir / "locks" / NETWORK_LOCK)
    assert lock_files(cache_dir) == []


def test_lock_01_gc_lock_leaves_no_lock_file(cache_dir: Path) -> None:
    locks = Locks(str(cache_dir))
    with locks.network_exclusive("net1"):
        assert lock_files(cache_dir) == [NETWORK_LOCK]
    assert lock_files(cache_dir) == []


@pytest.fixture
def intruder() -> Iterator[list[int]]:
    """Descriptors the simulated other process holds; closed afterwards whatever happened."""
    fds: list[int] = []
    yield fds
    for fd in fds:  # what the test did not release (it pops what it closes: fd numbers get reused)
        os.close(fd)


def test_lock_01_lock_on_a_removed_file_is_retaken_on_the_new_one(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, intruder: list[int]
) -> None:
    """The classic race, made deterministic: between our open and our flock, the holder removes
    the file and releases it, and a third process creates a new file at the path and locks it.
    Our flock then succeeds at once, on the removed inode. Without the inode re-check we would
    enter the critical section together with the third process; with it we start again and wait
    on the new file until the third process releases it."""
    real_flock = fcntl.flock
    path = cache_dir / "locks" / ATTACHMENT_LOCK
    events: list[str] = []
    new_inode: list[int] = []

    def racing_flock(fd: int, operation: int) -> None:
        if operation == fcntl.LOCK_EX and not events:  # our first attachment lock attempt
            os.unlink(path)  # the holder removed it (and released: nobody holds the old inode)
            third = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            intruder.append(third)
            new_inode.append(os.fstat(third).st_ino)
            real_flock(third, fcntl.LOCK_EX)
            events.append("third process holds the new file")
        elif operation == fcntl.LOCK_EX and len(events) == 1:  # our retry, on the new file
            try:
                real_flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                events.append("retry got the new file while the third process held it")
            except BlockingIOError:
                events.append("retry waits for the third process")
            os.close(intruder.pop(0))  # the third process is done
            events.append("third process released")
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", racing_flock)
    with Locks(str(cache_dir)).attachment("net1", "c1", "eth0"):
        events.append("entered")
        inside = os.stat(path).st_ino
    assert events == ["third process holds the new file", "retry waits for the third process",
                      "third process released", "entered"]
    assert [inside] == new_inode  # we held the file that is at the path, not the removed one
