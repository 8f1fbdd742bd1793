"""What the plugin path holds (``cnitool plugins``; EXEC-02, VER-04).

Every regular file of every plugin directory, in path order, with the spec versions it says it
supports. A name found again in a later directory is marked shadowed by the first one, which is
the file every verb runs (EXEC-02: the first regular file wins, executable or not).

Only files that mention ``CNI_COMMAND`` (every plugin reads it; the skel of the Go plugins holds
the name) are run: a plugin path that points at /usr/bin by mistake must not start ``reboot``.
A wrapper script (``exec /usr/lib/cni/bridge "$@"``) need not mention it: a ``#!`` script of at
most 64 KiB counts when one of its command lines (blank lines and ``#`` comment lines aside,
leading blanks stripped) is, as a whole::

    [NAME=WORD ...] exec [env [NAME=WORD ...]] TARGET [ARGS]

``env`` may be written ``/usr/bin/env`` or ``/bin/env``; a WORD is a run of ``"…"``, ``'…'`` and
characters other than blanks, quotes, backquotes, backslashes and ``;&|<>()``; ARGS is anything
after a blank. TARGET, its quotes removed, holds no ``$``, backquote, backslash, ``~``, glob or
brace character (nothing the shell would expand) except a leading ``$(dirname "$0")`` (or
``$(dirname -- "$0")``, ``$(dirname $0)``, ``${0%/*}``); it is the file the shell would run:

* ``$(dirname "$0")/x``: ``x`` in the script's directory (as the script was started);
* ``/abs/x``: itself; ``./x`` or ``dir/x``: from the current directory, which plugins inherit;
* a bare ``NAME``: the first executable ``NAME`` on the PATH plugins run with (not the plugin
  path: on Debian ``exec bridge`` finds iproute2's /usr/sbin/bridge), and not at all when the line
  sets PATH.

That file must be a plugin itself: executable, and mentioning CNI_COMMAND or in turn such a
wrapper (a script already on the way does not count, so wrappers naming each other never loop).
The first command line whose TARGET is a plugin makes the script a wrapper of it (``wraps``).
Everything else is not run: a comment, a word of another command, an ``exec`` after ``;``, ``&&``
or ``then`` on one line, a variable or glob, ``sh -c``, ``exec -a``. This strict rule misses some
wrappers, which ``cnitool invoke PATH VERSION`` still asks; the looser "any word of the script
names a plugin file" ran ordinary scripts of /usr/bin for a comment or the word "static".

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

# The grammar of a wrapper's exec line (see the module docstring), over a stripped line in which
# each spelling of the script's directory was replaced by _HERE first.
_HERE = "\0"
_SCRIPT_DIR = re.compile(r"""\$\(\s*dirname\s+(?:--\s+)?(?:"\$0"|\$0|"\$\{0\}"|\$\{0\})\s*\)|\$\{0%/\*\}""")
_WORD = r"""(?:"[^"]*"|'[^']*'|[^\s"'`\\;&|<>()])+"""
_ASSIGNMENT = rf"[A-Za-z_][A-Za-z0-9_]*=(?:{_WORD})?"
_EXEC_LINE = re.compile(
    rf"(?P<assignments>(?:{_ASSIGNMENT}\s+)*)exec\s+"
    rf"(?:(?:/usr/bin/|/bin/)?env\s+(?P<env>(?:{_ASSIGNMENT}\s+)*))?"
    rf"(?P<target>{_WORD})(?:\s.*)?")
_QUOTED = re.compile(r""""([^"]*)"|'([^']*)'|([^"']+)""")
_SETS_PATH = re.compile(r"(?:^|\s)PATH=")
# What the shell would expand or glob in a target: such a file is not known before it runs.
_EXPANDED = re.compile(r"[$`\\~*?\[\]{}\0]")

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
                "not asked VERSION: neither it nor a file it names mentions CNI_COMMAND (a script counts as a "
                "wrapper only when one of its command lines execs a plugin), so probably not a CNI plugin; "
                f"`cnitool invoke {path} VERSION` asks it anyway")
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
    """Which plugin file a wrapper script runs, for one scan: each file is searched for
    CNI_COMMAND at most once, however many scripts run it.

    ``search_path`` is the PATH plugins run with (bare names are found there, as exec does; None:
    never), ``cwd`` the directory they start in (relative paths; None: never)."""

    search_path: str | None
    cwd: str | None
    _mentions: dict[str, bool] = field(default_factory=dict)

    def mentions_cni_command(self, path: str) -> bool:
        key = os.path.realpath(path)
        if key not in self._mentions:
            self._mentions[key] = _mentions_cni_command(path)
        return self._mentions[key]

    def plugin_run_by(self, path: str, seen: frozenset[str] = frozenset()) -> str | None:
        """The plugin file (one that mentions CNI_COMMAND) the script at ``path`` execs, directly
        or through further wrappers; None when ``path`` is no small ``#!`` script or none of its
        command lines execs a plugin. ``seen`` (real paths of the scripts on the way) keeps scripts
        that run each other from looping."""
        body = _script_body(path)
        if body is None:
            return None
        seen = seen | {os.path.realpath(path)}
        for target in self._exec_targets(body, path):
            if os.path.realpath(target) in seen:
                continue
            if self.mentions_cni_command(target):
                return os.path.normpath(target)
            found = self.plugin_run_by(target, seen)
            if found is not None:
                return found
        return None

    def _exec_targets(self, body: bytes, script: str) -> Iterator[str]:
        """The executable files the exec lines of a script run, in order (module docstring)."""
        for raw in body.split(b"\n"):
            if b"exec" not in raw:
                continue  # most lines, cheaply
            line = os.fsdecode(raw).strip()
            if not line or line.startswith("#"):
                continue
            match = _EXEC_LINE.fullmatch(_SCRIPT_DIR.sub(_HERE, line))
            if match is None:
                continue
            target = "".join(next(part for part in m.groups() if part is not None)
                             for m in _QUOTED.finditer(match["target"]))
            here = target.startswith(_HERE + "/")
            if here:
                target = target[len(_HERE):]
            if not target or _EXPANDED.search(target):
                continue
            if here:
                candidate = (os.path.dirname(script) or ".") + target
            elif os.path.isabs(target):
                candidate = target
            elif "/" in target:
                candidate = os.path.join(self.cwd, target) if self.cwd is not None else None
            elif _SETS_PATH.search(f"{match['assignments']} {match['env'] or ''}"):
                candidate = None  # the PATH the name is looked up in is not worked out
            else:
                candidate = self._on_path(target)
            if candidate is not None and _executable_file(candidate):
                yield candidate

    def _on_path(self, name: str) -> str | None:
        """The file ``exec name`` runs: the first executable regular file on the search path (an
        empty entry is the current directory)."""
        if self.search_path is None:
            return None
        for directory in self.search_path.split(":"):
            if not directory:
                if self.cwd is None:
                    continue
                directory = self.cwd
            candidate = os.path.join(directory, name)
            if _executable_file(candidate):
                return candidate
        return None


def _executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _script_body(path: str) -> bytes | None:
    """The text after the ``#!`` line of a script of at most WRAPPER_MAX_BYTES (the interpreter is
    never the plugin); None for anything else."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(WRAPPER_MAX_BYTES + 1)
    except OSError:
        return None
    if not data.startswith(b"#!") or len(data) > WRAPPER_MAX_BYTES:
        return None
    return data.partition(b"\n")[2]


def scan(dirs: Sequence[str], probe: ProbeAt | None, workers: int = DEFAULT_WORKERS, *,
         search_path: str | None = None, cwd: str | None = None) -> Inventory:
    """List the plugin directories and ask every plugin VERSION (when ``probe`` is given).

    ``search_path`` (the PATH plugins run with) and ``cwd`` (the directory they start in) say what
    a wrapper's ``exec NAME`` and ``exec ./x`` run; without them such lines make no wrapper."""
    plugin_dirs: list[PluginDir] = []
    entries: list[_Entry] = []
    seen_dirs: set[str] = set()
    wrappers = _Wrappers(search_path, cwd)
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
