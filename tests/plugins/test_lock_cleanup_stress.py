"""LOCK-01 with real processes now that lock files are removed by their last holder.

Several ``cnitool`` processes add and delete the same attachment in a loop, others do the same on
a second interface of the namespace, and one runs GC of the network meanwhile. The fake plugin
logs ``start``/``end`` of every call it serves; the test asserts on the order of those events
only: calls on one attachment never overlap, and nothing overlaps a plugin GC. It also asserts
that the CLI leaves no lock file after an add, a del, a check and a failed add. Needs root:
``add`` wants a real namespace (CLI-03).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plugin_env import Env

pytestmark = pytest.mark.privileged

RESULT = {"cniVersion": "1.1.0", "ips": [{"address": "10.9.3.2/24"}]}

# Logs "<key> start|end <pid>" around every call; the key is the interface, or "gc". The short
# sleep widens the window in which an unserialised second call would start; nothing is timed.
RECORDING = (
    'cat > /dev/null\n'
    'key=$CNI_IFNAME; [ "$CNI_COMMAND" = GC ] && key=gc\n'
    'echo "$key start $$ $CNI_COMMAND" >> "$LOG"\n'
    'sleep 0.05\n'
    'echo "$key end $$ $CNI_COMMAND" >> "$LOG"\n'
    f"if [ \"$CNI_COMMAND\" = ADD ]; then echo '{json.dumps(RESULT)}'; fi\n"
)


def overlaps(lines: list[str]) -> list[str]:
    """Events that broke the rules: a call starting while a call on the same key (or a GC, or,
    for a GC, any call) is running, and an end that matches no running call."""
    running: dict[str, str] = {}  # key -> pid of the call in progress
    broken = []
    for line in lines:
        key, event, pid, _verb = line.split()
        if event == "start":
            if key in running or "gc" in running or (key == "gc" and running):
                broken.append(f"{line} while {running}")
            running[key] = pid
        elif running.pop(key, None) != pid:
            broken.append(f"{line} matches no running call")
    return broken + [f"{key} {pid} never ended" for key, pid in running.items()]


def cnitool_argv(*args: str) -> str:
    return " ".join([sys.executable, "-m", "cnitool", "-o", "json", *args])


def worker_script(netns: str, ifname: str, rounds: int, status: Path) -> str:
    """sh: ``rounds`` times add then del of one attachment, each exit status appended to ``status``."""
    add = cnitool_argv("add", "stress", netns, "-i", ifname, "--container-id", "same")
    delete = cnitool_argv("del", "stress", netns, "-i", ifname, "--container-id", "same")
    return (
        f"i=0; while [ $i -lt {rounds} ]; do\n"
        f"  {add} > /dev/null 2>> {status}.err; echo \"add $?\" >> {status}\n"
        f"  {delete} 2>> {status}.err; echo \"del $?\" >> {status}\n"
        "  i=$((i+1))\n"
        "done\n"
    )


def gc_script(rounds: int, status: Path) -> str:
    gc = cnitool_argv("gc", "stress")
    return f"i=0; while [ $i -lt {rounds} ]; do {gc} > /dev/null 2>> {status}.err; echo \"gc $?\" >> {status}; i=$((i+1)); done\n"


def worker_env(env: Env, log: Path) -> dict[str, str]:
    """The test's environment for the workers, no CNI variable of the caller's shell included."""
    inherited = {key: value for key, value in os.environ.items()
                 if not key.startswith("CNI_") and key not in ("CAP_ARGS", "NETCONFPATH")}
    return {**inherited, **env.vars, "LOG": str(log)}


def lock_files(env: Env) -> list[str]:
    locks = env.cache_dir / "locks"
    return sorted(os.listdir(locks)) if locks.exists() else []


def test_lock_01_concurrent_add_del_loops_stay_serialised_and_leave_no_lock_file(env: Env, netns: str, tmp_path: Path) -> None:
    env.make("recording", RECORDING)
    env.network("stress", [{"type": "recording"}], version="1.1.0")
    log = tmp_path / "events"
    scripts = [worker_script(netns, ifname, 6, tmp_path / f"status-{ifname}-{n}")
               for ifname in ("eth1", "eth2") for n in range(3)]
    scripts.append(gc_script(6, tmp_path / "status-gc"))
    procs = [subprocess.Popen(["sh", "-c", script], env=worker_env(env, log))
             for script in scripts]
    try:
        for proc in procs:
            assert proc.wait(timeout=300) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    lines = log.read_text().splitlines()
    assert overlaps(lines) == [], lines
    assert {line.split()[3] for line in lines} == {"ADD", "DEL", "GC"}
    statuses = [line for path in sorted(tmp_path.glob("status-*")) if not path.name.endswith(".err")
                for line in path.read_text().splitlines()]
    # An add that finds the attachment there already is refused (2); everything else succeeds.
    assert set(statuses) <= {"add 0", "add 2", "del 0", "gc 0"}, statuses
    assert "add 0" in statuses
    refusals = [json.loads(line)["kind"] for path in tmp_path.glob("status-*.err")
                for line in path.read_text().splitlines() if '"level": "error"' in line]
    assert set(refusals) <= {"already-attached"}, refusals
    assert env.cache_files() == []  # every worker ended with a del
    assert lock_files(env) == []


def test_lock_01_cli_leaves_no_lock_file(env: Env, netns: str, cnitool) -> None:
    """After add, check, del and a failed (rolled back) add, locks/ is empty."""
    env.plugin("good", add={"cniVersion": "1.0.0", "ips": [{"address": "10.9.3.3/24"}]})
    env.raw_plugin("bad", 'cat > /dev/null\n[ "$CNI_COMMAND" = ADD ] && { echo \'{"code": 11, "msg": "nope"}\'; exit 1; }\nexit 0\n')
    env.network("fine", [{"type": "good"}])
    env.network("broken", [{"type": "good"}, {"type": "bad"}])

    for args, expected in ((("add", "fine", netns), 0), (("check", "fine", netns), 0), (("del", "fine", netns), 0),
                           (("add", "broken", netns), 1)):
        run = cnitool("-o", "json", *args, env=env.vars)
        assert run.returncode == expected, run
        assert lock_files(env) == [], run
    assert env.cache_files() == []
