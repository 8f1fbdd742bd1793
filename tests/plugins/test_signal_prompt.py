"""Signals end every command promptly, and a second one never ends it with a traceback (CLI-05).

* SIGINT, SIGTERM and SIGHUP stop ``cnitool plugins`` and validate's VERSION probes at once: the
  probes run in threads of a pool that core waits for, so the signal handler itself kills every
  running plugin (each live ``SubprocessRunner``) before it raises; the killed probes are not
  reported, the command ends with the interrupt (exit 128 + signal).
* After an interrupt each plugin call gets at most ``AFTER_INTERRUPT_TIMEOUT`` (EXEC-09), also
  when the signal came between two plugin calls and not inside one.
* Once the command is over and only its outcome is being reported, a further signal ends the
  process the operating system's way, never with a Python traceback.

The plugins are ``#!/bin/sh`` scripts recording their pid (their process group: each plugin leads
its own) so that the tests can check nothing of them survives.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_env import live_group_members, wait_for

from cnitool import invoke
from cnitool.cli import signals
from cnitool.core.errors import CniError, PluginTimeout
from cnitool.core.runner import PluginInvocation

_LEAKY = ("NETCONFPATH", "CNI_PATH", "CNI_IFNAME", "CNI_ARGS", "CAP_ARGS", "CNI_CACHE_DIR",
          "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "NO_COLOR", "FORCE_COLOR")
SIGNALS = pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                                  ids=["ctrl-c", "sigterm", "sighup"])
# A plugin hanging in VERSION: it records its pid (its own process group) and sleeps.
HANG_ON_VERSION = textwrap.dedent("""\
    #!/bin/sh
    : "$CNI_COMMAND"
    if [ "$CNI_COMMAND" = VERSION ]; then
      echo $$ > "$TDIR/$(basename "$0").pid"
      sleep 20
    fi
    """)
ANSWER_VERSION = textwrap.dedent("""\
    #!/bin/sh
    : "$CNI_COMMAND"
    echo '{"cniVersion": "1.0.0", "supportedVersions": ["1.0.0"]}'
    """)


class Setup:
    """One test's plugin dir, config dir, cache dir and record dir, and how to run cnitool there."""

    def __init__(self, tmp_path: Path) -> None:
        self.plugin_dir = tmp_path / "plugins"
        self.conf_dir = tmp_path / "net.d"
        self.cache_dir = tmp_path / "cache"
        self.record_dir = tmp_path / "rec"
        for directory in (self.plugin_dir, self.conf_dir, self.record_dir):
            directory.mkdir()

    def plugin(self, name: str, text: str) -> Path:
        path = self.plugin_dir / name
        path.write_text(text)
        path.chmod(0o755)
        return path

    def network(self, name: str, plugins: list[str]) -> Path:
        path = self.conf_dir / f"{name}.conflist"
        path.write_text(json.dumps({"cniVersion": "1.0.0", "name": name, "plugins": [{"type": p} for p in plugins]}))
        return path

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in _LEAKY}
        env["TDIR"] = str(self.record_dir)
        return env

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "cnitool", "--conf-dir", str(self.conf_dir), "--cni-path", str(self.plugin_dir),
                "--cache-dir", str(self.cache_dir), *args]

    def start(self, *args: str, argv: list[str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(argv or self.argv(*args), env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def pids(self) -> list[int]:
        return [int(path.read_text()) for path in self.record_dir.glob("*.pid") if path.read_text().strip()]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


def interrupt_and_wait(proc: subprocess.Popen[str], signums: list[int], *, gap: float = 0.0,
                       within: float = 40) -> tuple[str, str, float]:
    """Send the signals (``gap`` seconds apart), wait for the end: stdout, stderr, seconds waited."""
    started = time.monotonic()
    try:
        for index, signum in enumerate(signums):
            if index and gap:
                time.sleep(gap)
            proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=within)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return stdout, stderr, time.monotonic() - started


def assert_nothing_left(setup: Setup) -> None:
    for pid in setup.pids():
        assert wait_for(lambda: not live_group_members(pid), 3), f"plugin {pid} (or a child) survived"


@pytest.fixture(autouse=True)
def kill_leftovers(setup: Setup) -> Iterator[None]:
    yield
    for pid in setup.pids():
        for member in live_group_members(pid):
            os.kill(member, signal.SIGKILL)


# ------------------------------------------------------------------- plugins and validate probes


@SIGNALS
def test_signal_stops_plugins_probes_at_once(setup: Setup, signum: int) -> None:
    """12 plugins hang in VERSION (more than the 8 probe threads; --timeout 30): the signal ends
    the command within a few seconds, exit 128 + signal, one JSON line on stderr saying
    "interrupted" (no probe reported as failed), nothing on stdout, no plugin process left."""
    for index in range(12):
        setup.plugin(f"hang{index:02}", HANG_ON_VERSION)
    proc = setup.start("--timeout", "30", "-o", "json", "plugins")
    assert wait_for(lambda: len(setup.pids()) >= 8, within=20), proc
    stdout, stderr, waited = interrupt_and_wait(proc, [signum])
    assert proc.returncode == 128 + signum, stderr
    assert waited < 5, f"plugins took {waited:.1f}s to end after the signal"
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert len(lines) == 1 and (lines[0]["level"], lines[0]["kind"]) == ("error", "interrupted"), lines
    assert stdout == ""
    assert len(setup.pids()) == 8, "a probe was started after the interrupt"
    assert_nothing_left(setup)


def test_sigterm_stops_plugins_table_output(setup: Setup) -> None:
    """For people: just "interrupted", no table and no plugin failure."""
    setup.plugin("ok", ANSWER_VERSION)
    setup.plugin("hang", HANG_ON_VERSION)
    proc = setup.start("--timeout", "30", "-o", "table", "plugins")
    assert wait_for(lambda: len(setup.pids()) == 1, within=20), proc
    stdout, stderr, waited = interrupt_and_wait(proc, [signal.SIGTERM])
    assert proc.returncode == 143, stderr
    assert waited < 5
    assert stderr == "interrupted\n" and stdout == ""
    assert_nothing_left(setup)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_signal_stops_validate_probes_at_once(setup: Setup, signum: int) -> None:
    setup.plugin("hang", HANG_ON_VERSION)
    setup.plugin("ok", ANSWER_VERSION)
    network = setup.network("probed", ["ok", "hang"])
    proc = setup.start("--timeout", "30", "-o", "json", "validate", str(network))
    assert wait_for(lambda: len(setup.pids()) == 1, within=20), proc
    stdout, stderr, waited = interrupt_and_wait(proc, [signum])
    assert proc.returncode == 128 + signum, stderr
    assert waited < 5, f"validate took {waited:.1f}s to end after the signal"
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert len(lines) == 1 and lines[0]["kind"] == "interrupted", lines
    assert stdout == ""
    assert_nothing_left(setup)


# ---------------------------------------------------------------- the runner and the handler


@pytest.fixture
def handlers() -> Iterator[None]:
    """signals.install() in this process, undone afterwards (pytest keeps its own SIGINT handler)."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    signals.install()
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        signals.reset()


def invocation(plugin_dir: Path, plugin: str, command: str = "ADD") -> PluginInvocation:
    return PluginInvocation(plugin_type=plugin, plugin_dirs=(str(plugin_dir),), command=command,
                            cni_env={"CNI_COMMAND": command}, stdin=b"{}")


def test_interrupt_marks_idle_runners_and_caps_their_next_calls() -> None:
    """The handler's step marks every runner, also one not running a plugin right now (the signal
    came between two plugin calls) and one made afterwards: their DELs get at most
    AFTER_INTERRUPT_TIMEOUT."""
    runner = invoke.SubprocessRunner(timeout=100)
    assert not runner.interrupted and runner.call_timeout == 100
    try:
        assert isinstance(signals.interrupt_for(signal.SIGTERM), signals.Terminated)
        assert type(signals.interrupt_for(signal.SIGINT)) is KeyboardInterrupt
        assert runner.interrupted and runner.call_timeout == invoke.AFTER_INTERRUPT_TIMEOUT == 10
        assert invoke.SubprocessRunner(timeout=100).call_timeout == 10
        assert invoke.SubprocessRunner(timeout=3).call_timeout == 3
    finally:
        signals.reset()
    assert not runner.interrupted


def test_interrupt_kills_the_plugins_other_threads_run(setup: Setup) -> None:
    """A plugin run by another thread (a probe of the pool) is killed by the handler's step; that
    thread gets the plugin's output back at once (SIGKILL), not after the plugin's 20 s."""
    setup.plugin("hang", HANG_ON_VERSION.replace('"$TDIR', f'"{setup.record_dir}'))
    runner = invoke.SubprocessRunner(timeout=60)
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(runner.run(invocation(setup.plugin_dir, "hang", "VERSION"))))
    thread.start()
    try:
        assert wait_for(lambda: len(setup.pids()) == 1, within=10)
        started = time.monotonic()
        signals.interrupt_for(signal.SIGINT)
        thread.join(10)
        assert not thread.is_alive()
        assert time.monotonic() - started < 3
        assert outcome[0].exit_status == -signal.SIGKILL  # type: ignore[attr-defined]
        assert_nothing_left(setup)
    finally:
        signals.reset()
        thread.join(30)


def test_after_the_interrupt_only_del_runs(setup: Setup) -> None:
    """A VERSION probe a pool thread picks up after the interrupt is not started (nobody would
    wait for it); a DEL (the rollback of an interrupted ADD) still runs."""
    setup.plugin("hang", HANG_ON_VERSION.replace('"$TDIR', f'"{setup.record_dir}'))
    setup.plugin("del", f'#!/bin/sh\ntouch "{setup.record_dir}/del-ran"\n')
    runner = invoke.SubprocessRunner(timeout=60)
    try:
        signals.interrupt_for(signal.SIGTERM)
        with pytest.raises(CniError) as refused:
            runner.run(invocation(setup.plugin_dir, "hang", "VERSION"))
        assert str(refused.value) == 'plugin type="hang" was not run (version): cnitool was interrupted'
        assert not isinstance(refused.value, PluginTimeout) and setup.pids() == []
        assert runner.run(invocation(setup.plugin_dir, "del", "DEL")).exit_status == 0
        assert (setup.record_dir / "del-ran").exists()
    finally:
        signals.reset()


def test_signal_between_plugin_calls_still_caps_the_rollback(setup: Setup, handlers: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The signal is delivered while core is between two plugin calls (just after the first ADD
    returned), not inside one: the rollback's DEL that hangs still gets the after-interrupt cap
    (made 0.5 s here), not the runner's --timeout (3 s)."""
    from cnitool.core.api import Cni
    from cnitool.core.loader import load_network_bytes
    from cnitool.core.runtime import RuntimeConf

    monkeypatch.setattr(invoke, "AFTER_INTERRUPT_TIMEOUT", 0.5)
    result = json.dumps({"cniVersion": "1.0.0", "ips": [{"address": "10.9.0.1/24"}]})
    setup.plugin("first", f"#!/bin/sh\nif [ \"$CNI_COMMAND\" = ADD ]; then echo '{result}'; fi\n"
                          'if [ "$CNI_COMMAND" = DEL ]; then sleep 5; fi\n')
    setup.plugin("second", f"#!/bin/sh\necho '{result}'\n")
    real = invoke.SubprocessRunner(timeout=3)

    class SignalAfterFirstAdd:
        def run(self, invocation: PluginInvocation):
            output = real.run(invocation)
            if (invocation.plugin_type, invocation.command) == ("first", "ADD"):
                os.kill(os.getpid(), signal.SIGTERM)  # handled at the next check, outside _exchange
            return output

    document = {"cniVersion": "1.0.0", "name": "between", "plugins": [{"type": "first"}, {"type": "second"}]}
    network, _warnings = load_network_bytes(json.dumps(document).encode(), source="between.conflist", is_list=True)
    cni = Cni(plugin_dirs=(str(setup.plugin_dir),), runner=SignalAfterFirstAdd(), cache_dir=str(setup.cache_dir))
    runtime = RuntimeConf(container_id="c1", netns="/var/run/netns/none", ifname="eth0")
    with pytest.raises(signals.Terminated) as raised:
        cni.add(network, runtime, rollback=True)
    errors = [str(error) for error in raised.value.rollback_errors]  # type: ignore[attr-defined]
    assert errors == ['plugin type="first" timed out after 0.5s (delete)'], errors


# ----------------------------------------------------------------------- add: rollback cap


@pytest.fixture
def netns_path() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root: cnitool add requires a real network namespace")
    name = f"cnitsig{os.getpid() % 100000}{time.monotonic_ns() % 1000}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield f"/var/run/netns/{name}"
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_sigterm_during_add_rollback_del_gets_10_seconds(setup: Setup, netns_path: str) -> None:
    """SIGTERM while plugin 2 of 2 hangs in ADD; its DEL hangs too: killed after 10 s, not after
    --timeout 100, and reported as what the rollback could not undo."""
    result = json.dumps({"cniVersion": "1.0.0", "ips": [{"address": "10.9.0.1/24"}]})
    setup.plugin("p1", f"#!/bin/sh\nif [ \"$CNI_COMMAND\" = ADD ]; then echo '{result}'; fi\n")
    setup.plugin("hang", '#!/bin/sh\necho $$ > "$TDIR/hang-$CNI_COMMAND.pid"\nsleep 60\n')
    setup.network("capped", ["p1", "hang"])
    proc = setup.start("--timeout", "100", "-o", "json", "add", "capped", netns_path, "--container-id", "c1")
    assert wait_for(lambda: (setup.record_dir / "hang-ADD.pid").exists(), within=20), proc
    _stdout, stderr, waited = interrupt_and_wait(proc, [signal.SIGTERM], within=90)
    assert proc.returncode == 143, stderr
    assert waited < 60, f"the rollback took {waited:.0f}s"
    error = json.loads(stderr.splitlines()[-1])
    assert error["kind"] == "interrupted"
    assert error["rollback_errors"] == ['plugin type="hang" timed out after 10s (delete)'], error
    assert_nothing_left(setup)


# ---------------------------------------------------------------- a second signal while reporting


@pytest.mark.parametrize("gap", [0.0, 0.005, 0.02, 0.05, 0.1])
def test_two_quick_sigterms_never_end_in_a_traceback(setup: Setup, gap: float) -> None:
    setup.plugin("ok", ANSWER_VERSION)
    setup.plugin("hang", HANG_ON_VERSION)
    proc = setup.start("--timeout", "30", "-o", "json", "plugins")
    assert wait_for(lambda: len(setup.pids()) == 1, within=20), proc
    _stdout, stderr, waited = interrupt_and_wait(proc, [signal.SIGTERM, signal.SIGTERM], gap=gap)
    assert "Traceback" not in stderr, stderr
    assert proc.returncode in (143, -signal.SIGTERM), stderr
    assert waited < 5
    for line in stderr.splitlines():
        assert json.loads(line)["kind"] == "interrupted"


def test_two_quick_sigterms_during_add_never_end_in_a_traceback(setup: Setup, netns_path: str) -> None:
    setup.plugin("hang", '#!/bin/sh\necho $$ > "$TDIR/hang-$CNI_COMMAND.pid"\n'
                         'if [ "$CNI_COMMAND" = ADD ]; then sleep 60; fi\n')
    setup.network("twice", ["hang"])
    for attempt, gap in enumerate([0.0, 0.01, 0.03]):
        for path in setup.record_dir.glob("*.pid"):
            path.unlink()
        proc = setup.start("-o", "json", "add", "twice", netns_path, "--container-id", f"c{attempt}")
        assert wait_for(lambda: (setup.record_dir / "hang-ADD.pid").exists(), within=20), proc
        _stdout, stderr, _waited = interrupt_and_wait(proc, [signal.SIGTERM, signal.SIGTERM], gap=gap)
        assert "Traceback" not in stderr, stderr
        assert proc.returncode in (143, -signal.SIGTERM), stderr


# The same, made certain: the report itself sends the second signal and waits for it to land.
SIGNAL_WHILE_REPORTING = textwrap.dedent("""\
    import os, signal, sys, time
    from cnitool.cli import main, output

    def reporting_slowly(original):
        def report(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.5)
            return original(self, *args, **kwargs)
        return report

    output.Output.{method} = reporting_slowly(output.Output.{method})
    sys.argv = ["cnitool", *sys.argv[1:]]
    main()
    """)


def wrapped_argv(setup: Setup, method: str, *args: str) -> list[str]:
    return [sys.executable, "-c", SIGNAL_WHILE_REPORTING.format(method=method), *setup.argv(*args)[3:]]


def test_signal_while_reporting_the_interrupt_ends_the_process_without_traceback(setup: Setup) -> None:
    setup.plugin("hang", HANG_ON_VERSION)
    proc = setup.start(argv=wrapped_argv(setup, "interrupted", "--timeout", "30", "-o", "json", "plugins"))
    assert wait_for(lambda: len(setup.pids()) == 1, within=20), proc
    _stdout, stderr, _waited = interrupt_and_wait(proc, [signal.SIGTERM])
    assert "Traceback" not in stderr, stderr
    assert proc.returncode == -signal.SIGTERM, stderr  # ended by the second SIGTERM, the OS way


def test_signal_while_reporting_an_error_ends_the_process_without_traceback(setup: Setup) -> None:
    proc = setup.start(argv=wrapped_argv(setup, "error", "-o", "json", "check", "nonet", "/nonexistent/ns"))
    _stdout, stderr = proc.communicate(timeout=30)
    assert "Traceback" not in stderr, stderr
    assert proc.returncode == -signal.SIGTERM, stderr


def test_signal_chain_helper_finds_status_and_rollback_errors() -> None:
    """One walk of the __cause__/__context__ chain for the exit status and the rollback errors."""
    inner = signals.Terminated(signal.SIGHUP)
    inner.rollback_errors = [CniError("left behind")]  # type: ignore[attr-defined]
    try:
        try:
            raise inner
        except KeyboardInterrupt as interrupt:
            raise signals.Interrupted() from interrupt
    except signals.Interrupted as outer:
        assert signals.exit_status(outer) == 129
        assert [str(error) for error in signals.rollback_errors(outer)] == ["left behind"]
        assert list(signals.chain(outer)) == [outer, inner]
