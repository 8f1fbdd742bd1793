"""The real plugin runner: find a plugin binary and run it as a child process.

Mirrors libcni's ``pkg/invoke`` (``FindInPath`` + ``RawExec``): the first regular file named like
the plugin in the plugin dirs wins (EXEC-02); the plugin gets the caller's environment with the
CNI_* variables on top (EXEC-03), runs in the caller's network namespace (EXEC-04: we never call
setns), reads the request config on stdin and has its stdout and stderr captured apart (EXEC-05).

What we add (EXEC-09, **OURS**): a deadline per call. The plugin is started in a new session, so
it and every child it forks share one process group that we can kill as a whole; on timeout the
whole group gets SIGKILL. We kill *only* on timeout (and when we are interrupted ourselves): a
plugin may start a daemon on purpose (``dhcp`` style), and that must outlive a successful call.

Interrupted (Ctrl-C, SIGTERM, SIGHUP): the signal handler calls :func:`interrupt_all`, which kills
every plugin running, in whichever thread (the VERSION probes of ``plugins`` and ``validate`` run
in a pool the main thread's KeyboardInterrupt cannot reach), and marks every runner interrupted:
from then on only DEL (the rollback of an interrupted ADD) is still run, for at most
:data:`AFTER_INTERRUPT_TIMEOUT`.

Unlike Go's ``exec.Cmd.Wait`` (which libcni uses without a ``WaitDelay``), we do not wait forever
for a child that inherited the plugin's stdout: once the plugin itself has exited we read for at
most ``_PIPE_GRACE`` seconds more, then return what we have and leave that child alone.

Interpreting the output (exit status, error JSON, results) is core's job; here it stays bytes.
"""

from __future__ import annotations

import difflib
import errno
import os
import selectors
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from cnitool.core.errors import CniError, PluginNotFound, PluginTimeout
from cnitool.core.pluginexec import VERB_WORDS
from cnitool.core.runner import PluginInvocation, PluginOutput

Observer = Callable[[PluginInvocation, PluginOutput | None, str], None]

# How long to keep reading after the plugin exited while a child it left behind still holds its
# stdout or stderr open (Go's exec.Cmd.WaitDelay has the same role).
_PIPE_GRACE = 0.5
_READ_CHUNK = 65536
# Once the user has interrupted us, each later plugin call (the DELs of the rollback) gets at most
# this long: they want out, a healthy DEL takes well under a second, and a hung plugin must not
# hold a Ctrl-C for the whole --timeout.
AFTER_INTERRUPT_TIMEOUT = 10.0
# How many plugin names of each plugin dir the not-found hint shows.
_HINT_NAMES = 6

# The plugin processes being run, by any runner in any thread, from start until just before they
# are reaped (so a pid in it is never a reused one), and whether interrupt_all() was called. The
# lock is reentrant: a signal handler runs in the main thread, maybe while that thread holds it.
_lock = threading.RLock()
_running: set[subprocess.Popen[bytes]] = set()
_interrupted = False


def interrupt_all() -> None:
    """The user wants out: SIGKILL the process group of every plugin running, in any thread, and
    mark every runner interrupted, those made later too (see ``SubprocessRunner.interrupted``).

    Called by the signal handlers (cli/signals.py) before they raise. Nothing is reaped here: each
    thread running a killed plugin sees it exit and returns its output at once.
    """
    global _interrupted
    with _lock:
        _interrupted = True
        for proc in list(_running):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def reset_interrupt() -> None:
    """Forget an interrupt_all(): for tests, which go on in the same process."""
    global _interrupted
    with _lock:
        _interrupted = False


def _track(proc: subprocess.Popen[bytes]) -> None:
    with _lock:
        _running.add(proc)


def _untrack(proc: subprocess.Popen[bytes]) -> None:
    """Before the plugin is reaped: interrupt_all() must never signal a pid that was reused."""
    with _lock:
        _running.discard(proc)


class SubprocessRunner:
    """Runs each plugin call as a child process in its own process group (``PluginRunner``)."""

    def __init__(
        self,
        *,
        timeout: float = 120.0,
        base_env: Mapping[str, str] | None = None,
        observer: Observer | None = None,
        on_observer_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """``base_env`` None means ``os.environ`` as it is at each call.

        ``observer(invocation, output, path)`` is called after every call, also a failed one:
        ``output`` is None when the plugin was not found, could not be started or timed out;
        ``path`` is the binary that was run ("" when none was found). An observer only watches:
        if it raises, it is dropped and ``on_observer_error`` gets the exception, and the call's
        own outcome goes on to the caller (see ``_observe``).
        """
        self.timeout = timeout
        self.base_env = base_env
        self.observer = observer
        self.on_observer_error = on_observer_error
        self._interrupted = False  # a plugin call of ours was interrupted (Ctrl-C, SIGTERM)

    @property
    def interrupted(self) -> bool:
        """A call of ours was interrupted, or interrupt_all() was called (also between two calls,
        while core parsed a result or wrote the cache): only DEL runs now, capped in time."""
        return self._interrupted or _interrupted

    @property
    def call_timeout(self) -> float:
        return min(self.timeout, AFTER_INTERRUPT_TIMEOUT) if self.interrupted else self.timeout

    def run(self, invocation: PluginInvocation) -> PluginOutput:
        path = ""
        output: PluginOutput | None = None
        try:
            path = find_plugin(invocation.plugin_type, invocation.plugin_dirs)
            output = self._execute(path, invocation)
            return output
        finally:
            self._observe(invocation, output, path)

    def _observe(self, invocation: PluginInvocation, output: PluginOutput | None, path: str) -> None:
        """Tell the observer, which must never break the call: this runs in a ``finally`` in the
        middle of a plugin chain, and an exception from here would replace the call's result (or
        its own error) and stop the chain half-way, after plugins built state that is then
        neither cached nor rolled back. A signal's KeyboardInterrupt still goes through."""
        observer = self.observer
        if observer is None:
            return
        try:
            observer(invocation, output, path)
        except Exception as err:
            self.observer = None  # one report, not one per call
            if self.on_observer_error is not None:
                try:
                    self.on_observer_error(err)
                except Exception:  # reporting it failed too (stderr gone): the call still counts
                    pass

    def _execute(self, path: str, invocation: PluginInvocation) -> PluginOutput:
        base = os.environ if self.base_env is None else self.base_env
        env = {**base, **invocation.cni_env}  # EXEC-03: CNI_* override inherited values
        self._refuse_after_interrupt(invocation)
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                [path],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,  # own process group: killable as a whole (EXEC-09)
            )
        except OSError as err:
            raise _cannot_start(invocation.plugin_type, path, err) from err
        with proc:
            try:
                _track(proc)
                # Asked again once tracked: an interrupt_all() since the first time did not see
                # this plugin, so this call must see its mark (and the capped timeout).
                self._refuse_after_interrupt(invocation)
                timeout = self.call_timeout
                stdout, stderr = _exchange(proc, invocation.stdin, started + timeout)
            except BaseException as err:
                # Interrupted (Ctrl-C): the plugin is in its own session, so the terminal's SIGINT
                # did not reach it as it would reach a Go cnitool's plugin; end it ourselves.
                _kill_group(proc)
                if isinstance(err, KeyboardInterrupt):
                    self._interrupted = True
                raise
            _untrack(proc)
            if proc.poll() is None:
                stderr += _kill_group(proc)
                raise self._timed_out(invocation, timeout, stderr)
        return PluginOutput(proc.returncode, stdout, stderr, time.monotonic() - started)

    def _refuse_after_interrupt(self, invocation: PluginInvocation) -> None:
        """Once interrupted, only DEL still runs: the clean-up of an interrupted ADD (ADD-02). Any
        other call (a VERSION probe a pool thread was about to start) is not worth the wait."""
        if self.interrupted and invocation.command != "DEL":
            raise CniError(
                f'plugin type="{invocation.plugin_type}" was not run ({_verb_word(invocation.command)}): '
                "cnitool was interrupted",
                plugin=invocation.plugin_type,
                command=invocation.command,
            )

    def _timed_out(self, invocation: PluginInvocation, timeout: float, stderr: bytes) -> PluginTimeout:
        hint = "the plugin and the processes in its process group were killed; "
        if timeout < self.timeout:
            hint += f"after an interrupt each plugin call gets at most {timeout:g}s"
        else:
            hint += "raise it with --timeout"
        return PluginTimeout(
            f'plugin type="{invocation.plugin_type}" timed out after {timeout:g}s ({_verb_word(invocation.command)})',
            plugin=invocation.plugin_type,
            command=invocation.command,
            stderr=stderr.decode(errors="replace"),
            hint=hint,
        )


def _verb_word(command: str) -> str:
    """``DEL`` → ``delete``, ``ADD`` → ``add``: the verb as our messages and libcni's spell it."""
    return VERB_WORDS.get(command, command.lower())


def find_plugin(plugin_type: str, plugin_dirs: Sequence[str]) -> str:
    """EXEC-02, like libcni's ``FindInPath``: the first regular file named ``plugin_type``.

    Directories (and anything else that is not a regular file after following symlinks) are
    skipped. Like the reference, the exec bit does not take part in the search; unlike it, a found
    file we may not execute is reported as such rather than as a failed exec (**OURS**).
    """
    for directory in plugin_dirs:
        candidate = os.path.join(directory, plugin_type)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if not os.access(candidate, os.X_OK):
            raise PluginNotFound(
                f'plugin "{plugin_type}" found at {candidate} is not executable (mode {stat.filemode(st.st_mode)})',
                plugin=plugin_type,
                hint=f"make it executable (chmod +x {candidate}), or check that its file system is not mounted noexec",
            )
        return candidate
    raise PluginNotFound(
        # The reference's wording, Go's %s of a []string included, so people can search for it.
        f'failed to find plugin "{plugin_type}" in path [{" ".join(plugin_dirs)}]',
        plugin=plugin_type,
        hint=_not_found_hint(plugin_type, plugin_dirs),
    )


def _not_found_hint(plugin_type: str, plugin_dirs: Sequence[str]) -> str:
    """What each searched dir holds, and the closest names, so a typo or a wrong CNI_PATH shows.

    Only what could be a plugin is named (regular files we may execute, as find_plugin would run);
    the rest is counted, so a CNI_PATH pointing at /tmp does not list its subdirectories.
    """
    if not plugin_dirs:
        return "no plugin directories were given; set CNI_PATH or --cni-path"
    lines: list[str] = []
    everything: list[str] = []
    for directory in plugin_dirs:
        try:
            plugins, others = _candidate_plugins(directory)
        except FileNotFoundError:
            lines.append(f"{directory}: does not exist")
            continue
        except OSError as err:
            lines.append(f"{directory}: cannot be read ({err.strerror})")
            continue
        everything.extend(plugins)
        lines.append(f"{directory}: {_describe_contents(plugins, others)}")
    close = difflib.get_close_matches(plugin_type, everything, n=3)
    if close:
        lines.append("did you mean: " + ", ".join(dict.fromkeys(close)) + "?")
    return "\n".join(lines)


def _candidate_plugins(directory: str) -> tuple[list[str], int]:
    """The sorted names of the executable regular files in ``directory``, and how many other entries it has."""
    plugins: list[str] = []
    others = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            try:
                runnable = entry.is_file() and os.access(entry.path, os.X_OK)  # follows symlinks
            except OSError:
                runnable = False
            if runnable:
                plugins.append(entry.name)
            else:
                others += 1
    return sorted(plugins), others


def _describe_contents(plugins: list[str], others: int) -> str:
    """``bridge, host-local, … and 12 more (3 other entries are not executable files)``."""
    if not plugins:
        return f"no executable files among its {_entries(others)}" if others else "empty"
    text = ", ".join(plugins[:_HINT_NAMES])
    if len(plugins) > _HINT_NAMES:
        text += f", … and {len(plugins) - _HINT_NAMES} more"
    if others == 1:
        text += " (1 other entry is not an executable file)"
    elif others:
        text += f" ({others} other entries are not executable files)"
    return text


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def _cannot_start(plugin_type: str, path: str, err: OSError) -> PluginNotFound:
    """A found plugin the kernel refused to execute; nothing was started, so it counts as not found."""
    hint = None
    if err.errno == errno.ENOENT:
        hint = "the file exists, so the interpreter on its #! line is probably missing"
    elif err.errno == errno.ENOEXEC:
        hint = "it is neither a binary for this machine nor a script starting with #!"
    return PluginNotFound(f'cannot run plugin "{plugin_type}" at {path}: {err.strerror}', plugin=plugin_type, hint=hint)


def _exchange(proc: subprocess.Popen[bytes], stdin: bytes, deadline: float) -> tuple[bytes, bytes]:
    """Feed ``stdin``, collect stdout and stderr; stop at the deadline or shortly after the plugin exits.

    A selector waits on both pipes, stdin while there is input left, and a pidfd of the plugin:
    the pidfd tells us the plugin exited even while a child it left still holds a pipe open, so
    such a child costs us ``_PIPE_GRACE`` at most, never the whole timeout.
    """
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    collected = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    stdin_fd = proc.stdin.fileno()
    pending = memoryview(stdin)
    pidfd = os.pidfd_open(proc.pid)
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(pidfd, selectors.EVENT_READ)
            for fd in collected:
                os.set_blocking(fd, False)
                selector.register(fd, selectors.EVENT_READ)
            if pending:
                os.set_blocking(stdin_fd, False)
                selector.register(stdin_fd, selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
            reading = set(collected)
            exited_at: float | None = None
            while reading or exited_at is None:
                limit = deadline if exited_at is None else exited_at + _PIPE_GRACE
                remaining = limit - time.monotonic()
                if remaining <= 0:
                    break
                for key, _ in selector.select(remaining):
                    if key.fd == pidfd:
                        exited_at = time.monotonic()
                        selector.unregister(pidfd)
                    elif key.fd == stdin_fd:
                        pending = _feed(stdin_fd, pending)
                        if not pending:
                            selector.unregister(stdin_fd)
                            proc.stdin.close()
                    else:
                        data = os.read(key.fd, _READ_CHUNK)
                        collected[key.fd] += data
                        if not data:
                            selector.unregister(key.fd)
                            reading.discard(key.fd)
    finally:
        os.close(pidfd)
    return bytes(collected[proc.stdout.fileno()]), bytes(collected[proc.stderr.fileno()])


def _feed(fd: int, pending: memoryview) -> memoryview:
    """Write what the pipe takes now; a plugin that stopped reading gets no more (as communicate())."""
    try:
        written = os.write(fd, pending)
    except BrokenPipeError:
        return pending[:0]
    except BlockingIOError:
        return pending
    return pending[written:]


def _kill_group(proc: subprocess.Popen[bytes]) -> bytes:
    """SIGKILL the plugin's whole process group, reap the plugin, return stderr still in the pipe.

    The plugin is the group leader (``start_new_session``) and is not reaped before the kill, so
    the group id cannot have been reused. A child that called setsid() itself has left the group
    and is out of reach, like from any process-group kill.
    """
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _untrack(proc)
    proc.wait()
    assert proc.stderr is not None
    return _drain(proc.stderr.fileno()) if not proc.stderr.closed else b""


def _drain(fd: int) -> bytes:
    """Whatever a non-blocking pipe holds right now, without waiting for its writers."""
    os.set_blocking(fd, False)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(fd, _READ_CHUNK)
        except OSError:  # BlockingIOError: nothing more for now
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)
