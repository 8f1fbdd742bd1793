"""Cross-process locks for attachments and networks (LOCK-01 OURS).

libcni does not lock; two runtimes (or two shells) adding the same attachment at once can
interleave plugin calls. We take, with ``flock``:
- a shared lock on the network for ADD/DEL/CHECK and an exclusive one for GC, because the spec's
  lifecycle rule forbids GC while an ADD or DEL of that network runs;
- an exclusive lock on the attachment, so calls on the same attachment run one after another.
Lock files live in ``<cache-dir>/locks/``, never in ``results/`` where libcni-based tools scan.

A lock file exists only while somebody holds or waits for it: the last holder removes it, or one
file per attachment ever tried would pile up without limit. Removing is safe only under an
exclusive lock (a shared holder upgrades without waiting, and leaves the file to the others when
it cannot), and only together with a check on every acquisition: a process that opened the file
just before it was removed gets its lock on the removed inode, which excludes nobody, while a
newcomer locks a new file at the same path. So after each flock the inode held is compared with
the one at the path, and on a mismatch the lock is taken again.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from cnitool.core.cache import make_private_dirs
from cnitool.core.errors import CacheError

LOCKS_SUBDIR = "locks"


class Locks:
    def __init__(self, cache_dir: str) -> None:
        self.lock_dir = os.path.join(cache_dir, LOCKS_SUBDIR)

    @contextmanager
    def attachment(self, network: str, container_id: str, ifname: str) -> Iterator[None]:
        """Held for ADD, DEL and CHECK of one attachment."""
        with self._flock(f"network-{network}", fcntl.LOCK_SH):
            with self._flock(f"attachment-{network}-{container_id}-{ifname}", fcntl.LOCK_EX):
                yield

    @contextmanager
    def network_exclusive(self, network: str) -> Iterator[None]:
        """Held for GC of a network: no ADD or DEL on it runs meanwhile."""
        with self._flock(f"network-{network}", fcntl.LOCK_EX):
            yield

    @contextmanager
    def _flock(self, name: str, mode: int) -> Iterator[None]:
        path = os.path.join(self.lock_dir, name + ".lock")
        fd = self._acquire(path, mode)
        try:
            yield
        finally:
            try:
                _remove_if_last(fd, path, mode)
            finally:
                os.close(fd)  # closing releases the lock

    def _acquire(self, path: str, mode: int) -> int:
        """A descriptor holding ``mode`` on the file that is at ``path`` now (see the module doc)."""
        while True:
            fd = self._open(path)
            try:
                fcntl.flock(fd, mode)  # blocks until the holder is done
                if _is_at(fd, path):
                    return fd
            except BaseException:  # Ctrl-C while waiting, or the path cannot be examined
                os.close(fd)
                raise
            os.close(fd)  # locked a removed file: it protects nothing

    def _open(self, path: str) -> int:
        try:
            make_private_dirs(self.lock_dir)  # often the first to create the cache dir
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as err:
            raise CacheError(f"cannot create lock file {path}: {err.strerror}") from None


def _is_at(fd: int, path: str) -> bool:
    """Whether the file open as ``fd`` is still the one at ``path`` (not removed, not replaced)."""
    held = os.fstat(fd)
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False
    except OSError as err:
        raise CacheError(f"cannot examine lock file {path}: {err.strerror}") from None
    return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)


def _remove_if_last(fd: int, path: str, mode: int) -> None:
    """Remove the lock file when nobody else holds it, while we hold it exclusively.

    A shared holder tries to upgrade without waiting; while another shared holder is there the
    upgrade fails and the file stays for that one to remove. A failed upgrade drops our shared
    lock (flock(2) converts by unlocking first), which is fine: we are leaving. Processes that
    merely wait (GC for the network, a second ADD for the attachment) hold nothing: they get the
    removed file and take the lock again (``_acquire``).
    """
    if mode == fcntl.LOCK_SH:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
    try:
        os.unlink(path)
    except OSError:
        pass  # removed by hand meanwhile; any other failure leaves a file that only costs space
