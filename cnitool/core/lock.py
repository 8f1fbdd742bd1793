"""Cross-process locks for attachments and networks (LOCK-01 OURS).

libcni does not lock; two runtimes (or two shells) adding the same attachment at once can
interleave plugin calls. We take, with ``flock``:
- a shared lock on the network for ADD/DEL/CHECK and an exclusive one for GC, because the spec's
  lifecycle rule forbids GC while an ADD or DEL of that network runs;
- an exclusive lock on the attachment, so calls on the same attachment run one after another.
Lock files live in ``<cache-dir>/locks/``, never in ``results/`` where libcni-based tools scan.
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
        try:
            make_private_dirs(self.lock_dir)  # often the first to create the cache dir
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as err:
            raise CacheError(f"cannot create lock file {path}: {err.strerror}") from None
        try:
            fcntl.flock(fd, mode)  # blocks until the holder is done
            yield
        finally:
            os.close(fd)  # closing releases the lock
