"""What the plugin path holds (``cnitool plugins``; EXEC-02, VER-04).

Every regular file of every plugin directory, in path order, with the spec versions it says it
supports. A name found again in a later directory is marked shadowed by the first one, which is
the file every verb runs (EXEC-02: the first regular file wins, executable or not).

Only files that mention ``CNI_COMMAND`` (every plugin reads it; the skel of the Go plugins holds
the name) are run: a plugin path that points at /usr/bin by mistake must not start ``reboot``.
A wrapper script (``exec /usr/lib/cni/bridge "$@"``) need not mention it: a small ``#!`` script
counts when its text names a file that does (a path, or a name in its own directory or the plugin
path), directly or through further such wrappers. An ordinary script naming a plugin's file is
too unlikely to give up the wrappers for.

Core stays pure: plugins are asked VERSION through a function the caller passes in, several at a
time; the caller's runner bounds each call with its timeout.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cnitool.core.errors import CniError

DEFAULT_WORKERS = 8

# A wrapper is a few lines: a longer file is never read as one.
WRAPPER_MAX_BYTES = 64 * 1024
# The words of a script that may name a file: split at blanks, quotes and shell punctuation.
_WORD = re.compile(rb"[^\s\"'`$(){}\[\];|&<>=]+")

ProbeAt = Callable[[str, str], Sequence[str]]
"""``probe(directory, name)``: the versions the plugin file ``directory/name`` supports (VER-04);
raises CniError when it cannot be run or answers something that is not version info."""


@dataclass(frozen=True)
class PluginFile:
    name: str
    path: str
    directory: str
    executable: bool
    versions: tuple[str, ...] | None  # None: not asked, or no usable answer (see ``error``)
    error: str | None
    shadowed_by: str | None = None  # the path of the file with this name that every verb runs
    wraps: str | None = None  # a wrapper script: the plugin file it runs, which made it count as one

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class PluginDir:
    path: str
    error: str | None  # "does not exist", "cannot be read: …"; None when listed
    duplicate: bool = False  # listed again in the path: its files were already counted


@dataclass(frozen=True)
class Inventory:
    dirs: tuple[PluginDir, ...]
    plugins: tuple[PluginFile, ...]


@dataclass(frozen=True)
class _Entry:
    name: str
    path: str
    directory: str
    executable: bool
    problem: str | None
    regular: bool = True  # False for a dangling symbolic link, which the search skips
    wraps: str | None = None


def _entries(directory: str, wrappers: _Wrappers) -> tuple[list[_Entry], str | None]:
    """Regular files (symlinks followed) of one directory, sorted by name; dangling links kept."""
    try:
        names = sorted(os.listdir(directory), key=os.fsencode)
    except FileNotFoundError:
        return [], "does not exist"
    except NotADirectoryError:
        return [], "is not a directory"
    except OSError as err:
        return [], f"cannot be read: {err.strerror}"
    entries = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            st = os.stat(path)
        except OSError as err:
            if os.path.islink(path):
                entries.append(_Entry(name, path, directory, False, f"dangling symbolic link ({err.strerror})", regular=False))
            continue
        if not stat.S_ISREG(st.st_mode):
            continue  # EXEC-02: directories and devices are never plugins
        executable = os.access(path, os.X_OK)
        wraps = None
        if not executable:
            problem = f"not executable (mode {stat.filemode(st.st_mode)})"
        elif wrappers.mentions_cni_command(path):
            problem = None
        else:
            wraps = wrappers.plugin_run_by(path)
            problem = None if wraps is not None else (
                "not asked VERSION: neither it nor a file it names mentions CNI_COMMAND, so probably not a "
                f"CNI plugin; `cnitool invoke {path} VERSION` asks it anyway")
        entries.append(_Entry(name, path, directory, executable, problem, wraps=wraps))
    return entries, None


def _mentions_cni_command(path: str) -> bool:
    """Whether the file holds the bytes ``CNI_COMMAND`` (a file that cannot be read: no)."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return False
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as content:
                return content.find(b"CNI_COMMAND") != -1
    except (OSError, ValueError):
        return False


@dataclass
class _Wrappers:
    """Which plugin file a wrapper script runs, for one scan: each directory is listed and each
    file searched for CNI_COMMAND at most once, however many scripts name it."""

    plugin_dirs: Sequence[str]
    _listings: dict[str, frozenset[str]] = field(default_factory=dict)
    _mentions: dict[str, bool] = field(default_factory=dict)

    def mentions_cni_command(self, path: str) -> bool:
        key = os.path.realpath(path)
        if key not in self._mentions:
            self._mentions[key] = _mentions_cni_command(path)
        return self._mentions[key]

    def plugin_run_by(self, path: str, seen: set[str] | None = None) -> str | None:
        """A file the script at ``path`` names that mentions CNI_COMMAND, or that is such a wrapper
        itself; None when ``path`` is no small script or names no plugin. ``seen`` (real paths)
        keeps scripts that name each other from looping."""
        seen = seen if seen is not None else set()
        seen.add(os.path.realpath(path))
        body = _script_body(path)
        if body is None:
            return None
        for candidate in self._named_files(body, os.path.dirname(path)):
            if os.path.realpath(candidate) in seen:
                continue
            if self.mentions_cni_command(candidate):
                return candidate
            found = self.plugin_run_by(candidate, seen)
            if found is not None:
                return found
        return None

    def _named_files(self, body: bytes, here: str) -> Iterator[str]:
        """The executable files a script's words may name, in order: a word with a ``/`` as a path
        (relative to the script's directory), and its last part as a name in that directory or the
        plugin path, where a script finds a plugin by ``$(dirname "$0")/x`` or by its name."""
        for word in dict.fromkeys(_WORD.findall(body)):
            name = os.fsdecode(word)
            base = os.path.basename(name)
            candidates = [os.path.normpath(os.path.join(here, name))] if "/" in name else []
            candidates.extend(os.path.join(directory, base) for directory in (here, *self.plugin_dirs)
                              if base in self._listing(directory))
            for candidate in candidates:
                if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                    yield candidate

    def _listing(self, directory: str) -> frozenset[str]:
        if directory not in self._listings:
            try:
                self._listings[directory] = frozenset(os.listdir(directory))
            except OSError:
                self._listings[directory] = frozenset()
        return self._listings[directory]


def _script_body(path: str) -> bytes | None:
    """The text after the ``#!`` line of a small script (the interpreter is never the plugin);
    None for anything else."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(WRAPPER_MAX_BYTES + 1)
    except OSError:
        return None
    if not data.startswith(b"#!") or len(data) > WRAPPER_MAX_BYTES:
        return None
    return data.partition(b"\n")[2]


def scan(dirs: Sequence[str], probe: ProbeAt | None, workers: int = DEFAULT_WORKERS) -> Inventory:
    """List the plugin directories and ask every executable file VERSION (when ``probe`` is given)."""
    plugin_dirs: list[PluginDir] = []
    entries: list[_Entry] = []
    seen_dirs: set[str] = set()
    wrappers = _Wrappers(dirs)
    for directory in dirs:
        key = os.path.normpath(directory)
        if key in seen_dirs:
            plugin_dirs.append(PluginDir(directory, None, duplicate=True))
            continue
        seen_dirs.add(key)
        found, error = _entries(directory, wrappers)
        plugin_dirs.append(PluginDir(directory, error))
        entries.extend(found)

    # EXEC-02: the first regular file of a name is the one run, even when it is not executable.
    winners: dict[str, str] = {}
    for entry in entries:
        if entry.regular:
            winners.setdefault(entry.name, entry.path)

    runnable = [entry for entry in entries if entry.problem is None]
    answers: dict[str, tuple[str, ...] | str] = {}
    if probe is not None and runnable:

        def ask(entry: _Entry) -> tuple[str, ...] | str:
            try:
                return tuple(probe(entry.directory, entry.name))
            except CniError as err:
                return f"{err.msg}; {err.details}" if err.details else err.msg

        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(runnable)))) as pool:
            answers = dict(zip((e.path for e in runnable), pool.map(ask, runnable)))

    plugins = []
    for entry in entries:
        answer = answers.get(entry.path)
        versions = answer if isinstance(answer, tuple) else None
        error = entry.problem if entry.problem is not None else (answer if isinstance(answer, str) else None)
        winner = winners.get(entry.name)
        plugins.append(PluginFile(entry.name, entry.path, entry.directory, entry.executable, versions, error,
                                  shadowed_by=winner if winner not in (None, entry.path) else None,
                                  wraps=entry.wraps))
    return Inventory(tuple(plugin_dirs), tuple(plugins))
