"""What the plugin path holds (``cnitool plugins``; EXEC-02, VER-04).

Every regular file of every plugin directory, in path order, with the spec versions it says it
supports. A name found again in a later directory is marked shadowed by the first one, which is
the file every verb runs (EXEC-02: the first regular file wins, executable or not).

Only files that mention ``CNI_COMMAND`` (every plugin reads it; the skel of the Go plugins holds
the name) are run: a plugin path that points at /usr/bin by mistake must not start ``reboot``.

Core stays pure: plugins are asked VERSION through a function the caller passes in, several at a
time; the caller's runner bounds each call with its timeout.
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cnitool.core.errors import CniError

DEFAULT_WORKERS = 8

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


def _entries(directory: str) -> tuple[list[_Entry], str | None]:
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
        if not executable:
            problem = f"not executable (mode {stat.filemode(st.st_mode)})"
        elif not _mentions_cni_command(path):
            problem = "not asked VERSION: never mentions CNI_COMMAND, so probably not a CNI plugin"
        else:
            problem = None
        entries.append(_Entry(name, path, directory, executable, problem))
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


def scan(dirs: Sequence[str], probe: ProbeAt | None, workers: int = DEFAULT_WORKERS) -> Inventory:
    """List the plugin directories and ask every executable file VERSION (when ``probe`` is given)."""
    plugin_dirs: list[PluginDir] = []
    entries: list[_Entry] = []
    seen_dirs: set[str] = set()
    for directory in dirs:
        key = os.path.normpath(directory)
        if key in seen_dirs:
            plugin_dirs.append(PluginDir(directory, None, duplicate=True))
            continue
        seen_dirs.add(key)
        found, error = _entries(directory)
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
                                  shadowed_by=winner if winner not in (None, entry.path) else None))
    return Inventory(tuple(plugin_dirs), tuple(plugins))
