"""Network namespaces: resolve a NETNS argument, check it, create, remove, run a command inside.

Import discipline (design "Speed rules"): resolving and checking use the standard library only,
so ``cnitool add -o json /var/run/netns/x`` never imports pyroute2; only ``create`` and ``remove``
import it, inside the function. Nothing here ever creates a namespace as a side effect of
looking at one (pyroute2's ``IPRoute(netns=…)``/``NetNS``/``setns`` would, unless ``flags=0``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from cnitool.core.errors import NetnsError, UsageError

NETNS_DIR = "/var/run/netns"  # where `ip netns` keeps its named namespaces (bind mounts)

# ioctl(2) NS_GET_NSTYPE (linux/nsfs.h, Linux >= 4.11) answers the CLONE_NEW* type of an nsfs file.
_NS_GET_NSTYPE = 0xB703
_CLONE_NEWNET = 0x40000000
# Namespaces we refuse to configure: PID 1's (the host's) and our own, which is where the plugins
# run (EXEC-04). PID 1's may be unreadable (a sandbox, hidepid); our own always is readable.
_HOST_NAMESPACES = ("/proc/1/ns/net", "/proc/self/ns/net")
# A mount point under NETNS_DIR that is still a plain file this long after it was made is a
# leftover, not a namespace another process is about to bind there (that takes milliseconds).
_SETTLE_SECONDS = 5.0
_POLL_SECONDS = 0.01


class NetnsExists(NetnsError):
    """``create`` of a name that is taken: by a namespace, or by a mount point being set up."""


def is_bare_name(arg: str) -> bool:
    """CLI-03: an argument without ``/`` names a namespace under NETNS_DIR (``.``/``..`` are paths)."""
    return arg not in ("", ".", "..") and "/" not in arg


def resolve(arg: str, cwd: str | None = None) -> str:
    """CLI-03: the absolute path a NETNS argument means.

    A bare name → ``/var/run/netns/NAME``. Anything else is made absolute like Go's
    ``filepath.Abs`` (the Go cnitool hashes that path into the container ID, CLI-02, so it must be
    the same string): joined to the working directory, then lexically cleaned; symlinks are not
    resolved. ``cwd`` None means the working directory as Go's ``os.Getwd`` reports it.
    """
    if arg == "":
        raise UsageError(
            "the network namespace argument is empty", hint="give a name (ns1) or a path (/var/run/netns/ns1)"
        )
    if arg in (".", ".."):  # a directory, never a namespace: say so in the user's words
        raise UsageError(f'"{arg}" is not a network namespace name or path',
                         hint="give a name (ns1) or the path of a namespace (/var/run/netns/ns1, ./ns1)")
    if is_bare_name(arg):
        return f"{NETNS_DIR}/{arg}"
    if arg.startswith("/"):
        return _go_clean(arg)
    return _go_clean(f"{_go_getwd() if cwd is None else cwd}/{arg}")


def _go_getwd() -> str:
    """Go's ``os.Getwd``: ``$PWD`` when it is absolute and names ".", else the kernel's answer.

    Keeping the logical path through a symlinked directory matters: it is what the Go tool hashes.
    """
    pwd = os.environ.get("PWD", "")
    if pwd.startswith("/"):
        try:
            if os.path.samefile(pwd, "."):
                return pwd
        except OSError:
            pass
    return os.getcwd()


def _go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` for an absolute path.

    Not ``os.path.normpath``: POSIX lets that keep a leading ``//``, Go does not.
    """
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue  # ".." at the root stays at the root
        parts.append(part)
    return "/" + "/".join(parts)


def check_netns(path: str) -> None:
    """CLI-03: refuse, before any plugin runs, a path that is no usable network namespace.

    Raises NetnsError (exit 3) when the path does not exist, cannot be opened, is not a network
    namespace (a plain file, a stale ``ip netns`` mount point, another kind of namespace), or is
    the host's namespace: PID 1's or our own, which the plugins run in (EXEC-04).
    """
    _refuse_host(path, _netns_identity(path))


def refuse_host_namespace(path: str) -> None:
    """For DEL, which goes ahead when the namespace is gone (best effort), and CHECK, before it
    looks at the cache: refuse the host's own namespace, where a DEL would delete host interfaces
    (``-i eth0``: the host's eth0), and a namespace we may not open."""
    try:
        identity = _netns_identity(path)
    except NetnsError as err:
        if isinstance(err.__cause__, PermissionError):
            raise  # it exists but cannot be told apart from the host's (PID 1's, in a container)
        return
    _refuse_host(path, identity)


def _refuse_host(path: str, identity: tuple[int, int]) -> None:
    if identity in _host_identities():
        raise NetnsError(
            f'network namespace "{path}" is the host\'s network namespace; refusing to configure it',
            hint=(
                "plugins run in cnitool's own namespace and would rewire it; use a separate one, "
                "e.g. a bare name that `cnitool add` creates"
            ),
        )


def exists(path: str) -> bool:
    """Whether ``path`` is a network namespace (the host's included); a leftover empty file is not."""
    try:
        _netns_identity(path)
    except NetnsError:
        return False
    return True


def _netns_identity(path: str) -> tuple[int, int]:
    """(st_dev, st_ino) of the network namespace at ``path``, or NetnsError saying what it is instead."""
    fd = _open_netns(path)
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    return st.st_dev, st.st_ino


def _open_netns(path: str) -> int:
    """A read-only descriptor of the network namespace at ``path``, or NetnsError saying what it is instead.

    Checked with NS_GET_NSTYPE on the open descriptor rather than by file-system magic, which
    Python's statvfs does not expose. Only regular files are opened: nsfs files are, and opening
    a FIFO or a device could block or have side effects.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise NetnsError(f'network namespace "{path}" does not exist') from None
    except OSError as err:
        raise NetnsError(f'cannot access network namespace "{path}": {err.strerror}') from err
    if not stat.S_ISREG(st.st_mode):
        raise NetnsError(f'"{path}" is not a network namespace')
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as err:
        raise NetnsError(f'cannot open network namespace "{path}": {err.strerror}') from err
    try:
        ns_type = fcntl.ioctl(fd, _NS_GET_NSTYPE)
    except OSError:
        ns_type = None  # ENOTTY: not an nsfs file, e.g. a mount point whose namespace is gone
    if ns_type != _CLONE_NEWNET:
        os.close(fd)
        raise NetnsError(f'"{path}" is not a network namespace', hint=_not_netns_hint(path, ns_type))
    return fd


def _not_netns_hint(path: str, ns_type: int | None) -> str | None:
    if ns_type is not None:
        return "it is another kind of namespace; a process's network namespace is /proc/PID/ns/net"
    if os.path.dirname(path) == NETNS_DIR:
        name = os.path.basename(path)
        return f"an empty file here is a leftover of a removed namespace; `ip netns del {name}` clears it"
    return None


def _host_identities() -> set[tuple[int, int]]:
    identities = set()
    for path in _HOST_NAMESPACES:
        try:
            st = os.stat(path)
        except OSError:
            continue  # PID 1's is unreadable in some sandboxes; our own still counts
        identities.add((st.st_dev, st.st_ino))
    return identities


def list_names() -> list[str]:
    """The names ``ip netns list`` shows, sorted (no namespace is opened, nothing is imported)."""
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def create(name: str) -> str:
    """Create a named namespace visible to ``ip netns`` (a bind mount under NETNS_DIR); return its path.

    Like ``ip netns add``: an existing name is an error, and a failed attempt leaves no mount point.
    pyroute2 forks to unshare: call this outside any rich live display (threads + fork).
    """
    if not is_bare_name(name) or "\0" in name:
        raise UsageError(
            f'invalid network namespace name "{name}"', hint='a name is not empty, not "." or "..", and has no "/"'
        )
    from pyroute2 import netns as pyroute2_netns

    path = f"{NETNS_DIR}/{name}"
    try:
        # bytes: pyroute2 encodes a str path as ASCII, which would refuse a non-ASCII name.
        pyroute2_netns.create(os.fsencode(path))
    except FileExistsError:
        raise NetnsExists(f'network namespace "{name}" already exists ({path})') from None
    except OSError as err:
        _remove_stale_mount_point(path)
        raise NetnsError(f'cannot create network namespace "{name}": {err.strerror or err}') from err
    return path


def _remove_stale_mount_point(path: str) -> None:
    """Drop the empty file a half-done create left (it was made O_EXCL, so it is ours)."""
    if os.path.lexists(path) and not exists(path):
        os.unlink(path)


class Occupancy:
    """A shared ``flock`` on a namespace, held by an add from before its first plugin to its end.

    A failed add removes a namespace it created, but others may have joined it meanwhile (CLI-03:
    several adds of one new bare name). ``alone`` tells whether any other cnitool add holds the
    namespace now; the lock is on the nsfs file, so every path of one namespace shares it.
    """

    def __init__(self, path: str, fd: int, created: bool) -> None:
        self.path = path
        self.fd = fd
        self.created = created  # by this process: only then is it ours to remove

    def alone(self) -> bool:
        """Take the namespace exclusively if no other add holds it; False when one does.

        After True no other add can start in it until ``close``. A False answer also drops our
        shared hold (flock(2) converts by unlocking first): call this only when the add is over.
        """
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> Occupancy:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def occupy(path: str, *, create_name: str | None = None) -> Occupancy:
    """Hold the namespace at ``path`` for an add; with ``create_name``, create it when missing (CLI-03).

    Another process may be creating the same name: pyroute2, like ``ip netns add``, first makes
    the mount point (an empty file, O_EXCL) and then binds the new namespace onto it. Losing that
    race is not an error: the namespace that appears is used (and is not ours). A plain file
    is waited for while it is young; if it disappears (its creator failed and cleaned up), the
    name is created again. The hold is re-taken when the namespace at the path changed between
    our open and our lock (it was removed, maybe re-created), like the lock files of core.lock.
    """
    while True:
        created = False
        if create_name is not None and not os.path.lexists(path):
            try:
                create(create_name)
                created = True
            except NetnsExists:
                pass  # another process's namespace, maybe not mounted yet
        try:
            fd = _open_netns(path)
            if _hold(fd, path):
                return Occupancy(path, fd, created)
        except NetnsError:
            if created:
                remove(path)
                raise
            if create_name is None or not _being_created(path):
                raise
            time.sleep(_POLL_SECONDS)
        except BaseException:  # Ctrl-C or SIGTERM before the caller could take charge of what we made
            if created:
                remove(path)
            raise


def _being_created(path: str) -> bool:
    """Missing (a creator gave up: try again), or a plain file made moments ago (its creator is
    about to mount a namespace on it)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return True
    return stat.S_ISREG(st.st_mode) and 0 <= time.time() - st.st_mtime < _SETTLE_SECONDS


def _hold(fd: int, path: str) -> bool:
    """Share-lock ``fd``; True when it is still the namespace at ``path``, else close it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        held, current = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        os.close(fd)
        return False
    except BaseException:
        os.close(fd)
        raise
    if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
        return True
    os.close(fd)
    return False


def is_named(path: str) -> bool:
    """True for a namespace path directly under NETNS_DIR, the only kind ``remove`` may delete."""
    return os.path.realpath(os.path.dirname(path)) == os.path.realpath(NETNS_DIR)


def remove(name_or_path: str) -> None:
    """Delete a namespace made by ``create`` or ``ip netns add``, like ``ip netns del``.

    Only entries directly under NETNS_DIR: unmounting ``/proc/PID/ns/net`` or a file elsewhere is
    not ours to do. The namespace itself lives on while a process is still in it.
    """
    path = resolve(name_or_path)
    if not is_named(path):
        raise NetnsError(f'"{path}" is not under {NETNS_DIR}; only named namespaces can be removed')
    if not os.path.lexists(path):
        raise NetnsError(f'network namespace "{path}" does not exist')
    from pyroute2 import netns as pyroute2_netns

    try:
        pyroute2_netns.remove(os.fsencode(path))  # umount2(MNT_DETACH) + unlink
    except OSError as err:
        raise NetnsError(f'cannot remove network namespace "{path}": {err.strerror or err}') from err


def run_in(
    path: str,
    argv: Sequence[str],
    *,
    input: bytes | None = None,
    capture_output: bool = False,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` inside the network namespace at ``path`` (like ``ip netns exec``, network only).

    Uses util-linux ``nsenter --net=PATH``: it does the setns(2) in the child, which a
    ``preexec_fn`` could only do unsafely in a threaded process. Unlike ``ip netns exec`` it does
    not remount /sys or bind /etc/netns/NAME; tools that ask the kernel over netlink (``ip``,
    ``ss``) see the namespace. stdin/stdout/stderr are ours unless ``input``/``capture_output``.
    """
    _netns_identity(path)  # a clear error instead of nsenter's, and never a stray namespace
    nsenter = shutil.which("nsenter")
    if nsenter is None:
        raise NetnsError("cannot enter a network namespace: nsenter not found", hint="install util-linux")
    return subprocess.run(
        [nsenter, f"--net={path}", "--", *argv],
        input=input,
        capture_output=capture_output,
        timeout=timeout,
        check=False,
    )


# -- running a command in the foreground (cnitool exec, cnitool netns exec) ------------------------

_SI_KERNEL = 0x80  # siginfo si_code of a signal the kernel sent itself, e.g. the terminal's Ctrl-C
_KILL_AFTER = 3  # the third signal kills a command that ignores the first two


@dataclass(frozen=True)
class Foreground:
    """How a foreground command ended."""

    status: int  # its exit status; 128+N when signal N killed it, as a shell reports it
    signals: tuple[int, ...] = ()  # SIGINT/SIGTERM/SIGHUP we received while it ran


def nsenter_path() -> str:
    """util-linux's nsenter, which runs a command in a namespace (asked before anything is set up)."""
    nsenter = shutil.which("nsenter")
    if nsenter is None:
        raise NetnsError("cannot enter a network namespace: nsenter not found", hint="install util-linux")
    return nsenter


class CommandNotFound(NetnsError):
    """CMD of ``exec``/``netns exec`` is not there: exit 127, as a shell's "command not found"."""

    kind = "command-not-found"
    exit_code = 127  # type: ignore[assignment]  # CMD's status space, not one of ExitCode's


class CommandNotExecutable(NetnsError):
    """CMD is there but cannot be executed (no x bit, a directory): exit 126, as a shell's."""

    kind = "command-not-executable"
    exit_code = 126  # type: ignore[assignment]


def find_command(name: str, search_path: str | None = None) -> str:
    """Where CMD is, found as nsenter's execvp will find it, before anything is set up.

    The namespace shares our file system, so the lookup here is the one nsenter makes: a name
    with a ``/`` is that file (relative to the working directory), a bare name is searched on
    ``search_path``, by default the PATH CMD gets (our environment's; glibc's default path when
    it is unset). Raises CommandNotFound (127) or CommandNotExecutable (126, a file that is there
    without the x bit, or a directory), so that a typo is cnitool's own error, a JSON object with
    ``-o json``, instead of nsenter's text line after a whole ADD and DEL.
    """
    if search_path is None:
        search_path = os.environ.get("PATH")
    if search_path is None:
        try:
            search_path = os.confstr("CS_PATH") or os.defpath
        except (AttributeError, ValueError):
            search_path = os.defpath
    found = shutil.which(name, path=search_path) if name else None
    if found is not None:
        return found
    if "/" in name:
        if os.path.isdir(name):
            raise CommandNotExecutable(f'cannot run "{name}": it is a directory')
        if os.path.exists(name):
            raise CommandNotExecutable(f'cannot run "{name}": permission denied (the file is not executable)',
                                       hint=f"chmod +x {name}, or run it through its interpreter (sh {name})")
        raise CommandNotFound(f'cannot run "{name}": command not found (no such file)')
    for directory in search_path.split(os.pathsep):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):  # a shell, like execvp, reports EACCES for it rather than ENOENT
            raise CommandNotExecutable(f'cannot run "{name}": permission denied ({candidate} is not executable)')
    raise CommandNotFound(f'cannot run "{name}": command not found', hint=f"not on PATH ({search_path})")


def run_foreground(path: str, argv: Sequence[str]) -> Foreground:
    """Run ``argv`` inside the namespace at ``path`` with our stdin/stdout/stderr, until it ends.

    Signals, as a shell treats its foreground job: the terminal's Ctrl-C reaches the command
    directly (same process group), so it is not sent again; a SIGINT, SIGTERM or SIGHUP sent to
    cnitool alone (``kill``, a CI runner's timeout) is passed on to the command. cnitool itself does not
    die of them, so that the caller can still clean up; the third one kills the command. The
    origin is told apart by ``si_code`` (SI_KERNEL for the terminal's), read with sigtimedwait.
    A signal ignored when we started stays ignored for the command, as the shell decided.
    """
    import signal
    import sys

    _netns_identity(path)
    nsenter = nsenter_path()
    find_command(argv[0])
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.getsignal(sig) for sig in watched}
    early: list[int] = []  # arrived before they were blocked: the origin is unknown, pass them on

    def record(signum: int, _frame: object) -> None:
        early.append(signum)

    # A Python handler, unlike SIG_IGN, is reset to the default by exec: the command gets SIG_DFL.
    for sig in watched:
        if previous[sig] is not signal.SIG_IGN:
            signal.signal(sig, record)
    received: list[int] = []
    child: subprocess.Popen[bytes] | None = None
    waited = {*watched, signal.SIGCHLD}
    old_mask: set[signal.Signals] | None = None
    try:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        try:
            child = subprocess.Popen([nsenter, f"--net={path}", "--", *argv])
        except OSError as err:
            raise NetnsError(f"cannot run {argv[0]!r} in {path}: {err.strerror or err}") from err
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, waited)

        def pass_on(signum: int, to_child: bool) -> None:
            received.append(signum)
            assert child is not None
            if len(received) >= _KILL_AFTER:
                child.kill()
            elif to_child:
                child.send_signal(signum)

        while True:
            while early:
                pass_on(early.pop(0), True)
            if child.poll() is not None:
                break
            info = signal.sigtimedwait(waited, 0.5)
            if info is not None and info.si_signo in watched:
                pass_on(info.si_signo, info.si_code != _SI_KERNEL)
    finally:
        if old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)  # pending ones go to ``record`` now
        for sig in watched:
            if previous[sig] is not None and signal.getsignal(sig) is record:
                signal.signal(sig, previous[sig])
        if child is not None and child.poll() is None:  # only when something above failed
            child.kill()
            child.wait()
    received.extend(early)
    status = child.returncode
    return Foreground(status if status >= 0 else 128 - status, tuple(received))


# -- the processes in a namespace (what exec ends before removing its own) ------------------------

END_GRACE_SECONDS = 2.0  # between SIGTERM and SIGKILL
_KILL_WAIT_SECONDS = 5.0  # after SIGKILL: a process in uninterruptible sleep takes its time
_END_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Ended:
    """What ``end_processes`` did."""

    count: int  # processes it signalled that are gone from the namespace now
    killed: int  # of those, how many got SIGKILL (still there after the grace)
    remaining: int  # still in the namespace when it gave up waiting (0 normally)


def processes_in(path: str) -> list[int]:
    """The pids of the processes in the network namespace at ``path``, sorted.

    A process is in a namespace when its ``/proc/PID/ns/net`` is that namespace (same st_dev
    and st_ino); zombies have none any more, and our own process is never listed.
    """
    return _pids_in(_netns_identity(path))


def _pids_in(identity: tuple[int, int]) -> list[int]:
    own = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == own:
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:  # gone meanwhile, or a zombie
            continue
        if (st.st_dev, st.st_ino) == identity:
            found.append(int(entry))
    return sorted(found)


def end_processes(path: str, *, grace: float = END_GRACE_SECONDS) -> Ended:
    """End every process in the namespace at ``path``, as a container runtime ends a pod's.

    SIGTERM (and SIGCONT, so that a stopped one can act on it) to each, then up to ``grace``
    seconds for them to exit, then SIGKILL to those still there; processes that appear meanwhile
    (forked by one being ended) get the same. Each is held by a pidfd opened before its namespace
    is checked again, so a pid that exits and is reused by a process of another namespace is
    never signalled; pids that vanish meanwhile are simply gone. Only for a namespace the caller
    is about to remove and nobody else uses: ``cnitool exec``'s own.
    """
    import signal

    identity = _netns_identity(path)
    held: dict[int, _Held] = {}  # pid -> each process signalled that may still be there
    ended: list[_Held] = []  # every process signalled
    kill_from = time.monotonic() + grace
    give_up_at: float | None = None
    remaining: list[int] = []
    try:
        while True:
            pids = _pids_in(identity)
            if not pids:
                break
            now = time.monotonic()
            if give_up_at is None and now >= kill_from:
                give_up_at = now + _KILL_WAIT_SECONDS
            elif give_up_at is not None and now >= give_up_at:
                remaining = pids
                break
            for pid in pids:
                process = held.get(pid)
                if process is not None and not _pidfd_signal(process.fd, 0):  # ours ended; the pid is new
                    os.close(held.pop(pid).fd)
                    process = None
                if process is None:
                    fd = _pidfd_in(pid, identity)
                    if fd is None:
                        continue
                    process = held[pid] = _Held(pid, fd)
                    ended.append(process)
                    if give_up_at is None:
                        _pidfd_signal(fd, signal.SIGTERM)
                        _pidfd_signal(fd, signal.SIGCONT)
                if give_up_at is not None and not process.killed:
                    process.killed = True
                    _pidfd_signal(process.fd, signal.SIGKILL)
            time.sleep(_END_POLL_SECONDS)
    finally:
        for process in held.values():
            os.close(process.fd)
    still_held = sum(1 for pid in remaining if pid in held)  # each one of ``ended``
    return Ended(len(ended) - still_held, sum(1 for process in ended if process.killed), len(remaining))


@dataclass
class _Held:
    pid: int
    fd: int  # a pidfd: signals reach this process, never a later one with the same pid
    killed: bool = False


def _pidfd_in(pid: int, identity: tuple[int, int]) -> int | None:
    """A pidfd of ``pid`` if it is (still) a process in the namespace ``identity``, else None."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:  # ESRCH: gone already
        return None
    try:
        # Checked once the pidfd is open: if the pid was reused just before, the pidfd is of a
        # process that is gone, and a signal sent through it reaches nobody.
        st = os.stat(f"/proc/{pid}/ns/net")
    except OSError:
        os.close(fd)
        return None
    if (st.st_dev, st.st_ino) != identity:
        os.close(fd)
        return None
    return fd


def _pidfd_signal(fd: int, signum: int) -> bool:
    """Send ``signum`` (0: only ask) to the process of a pidfd; False when it has exited."""
    import signal

    try:
        signal.pidfd_send_signal(fd, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # not ours to signal (not root): it stays, and is reported as remaining
    return True
