"""What the fake-plugin CLI tests share: a test's private environment (configs, plugins, cache,
logs) and readers for the JSON error object and the human panel on stderr."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

RESULT_1_0 = {"cniVersion": "1.0.0", "ips": [{"address": "10.1.2.3/24", "gateway": "10.1.2.1"}]}
# CLI-05: the keys of every error object, whatever its kind.
ERROR_FIELDS = {"level", "kind", "code", "msg", "details", "plugin", "command", "stderr", "hint",
                "rollback_errors", "traceback"}


def wait_for(predicate: Callable[[], bool], within: float) -> bool:
    """Whether ``predicate`` became true within ``within`` seconds (polled every 20 ms)."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def process_gone(pid: int) -> bool:
    """Dead: no /proc entry, or a zombie waiting for a reaper that is not us."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def live_group_members(pgid: int) -> list[int]:
    """PIDs of the processes of process group ``pgid`` that are not zombies."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry))
    return members


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, indent=2))
    return path


class Env:
    """Where one test keeps its configs, plugins, cache and logs, and the environment pointing there."""

    def __init__(self, conf_dir: Path, plugin_dir: Path, cache_dir: Path, log_dir: Path,
                 make: Callable[..., Path]) -> None:
        self.conf_dir = conf_dir
        self.plugin_dir = plugin_dir
        self.cache_dir = cache_dir
        self.log_dir = log_dir
        self.make = make

    @property
    def vars(self) -> dict[str, str]:
        return {"NETCONFPATH": str(self.conf_dir), "CNI_PATH": str(self.plugin_dir),
                "CNI_CACHE_DIR": str(self.cache_dir), "COLUMNS": "200"}

    def network(self, name: str, plugins: list[dict], version: str | None = "1.0.0", file: str | None = None) -> Path:
        document: dict = {"name": name, "plugins": plugins}
        if version is not None:
            document["cniVersion"] = version
        return write_json(self.conf_dir / (file or f"{name}.conflist"), document)

    def plugin(self, name: str, *, add: object = RESULT_1_0, extra: str = "", executable: bool = True) -> Path:
        """A plugin that records its call, env and stdin, runs ``extra`` and prints ``add`` on ADD."""
        log = self.log_dir
        add_text = add if isinstance(add, str) else json.dumps(add)
        body = (
            f'echo "{name} $CNI_COMMAND" >> "{log}/calls"\n'
            f'cat > "{log}/{name}.$CNI_COMMAND.stdin"\n'
            f'env -0 > "{log}/{name}.$CNI_COMMAND.env"\n'
            f"{extra}\n"
            f"if [ \"$CNI_COMMAND\" = ADD ]; then cat <<'__RESULT__'\n{add_text}\n__RESULT__\nfi\n"
            "exit 0\n"
        )
        return self.make(name, body, executable)

    def raw_plugin(self, name: str, body: str) -> Path:
        """A plugin that records its call and then does exactly ``body``."""
        return self.make(name, f'echo "{name} $CNI_COMMAND" >> "{self.log_dir}/calls"\n' + body)

    def calls(self) -> list[str]:
        path = self.log_dir / "calls"
        return path.read_text().splitlines() if path.exists() else []

    def stdin(self, plugin: str, verb: str) -> dict:
        return json.loads((self.log_dir / f"{plugin}.{verb}.stdin").read_text())

    def plugin_env(self, plugin: str, verb: str) -> dict[str, str]:
        raw = (self.log_dir / f"{plugin}.{verb}.env").read_bytes().decode()
        return dict(item.split("=", 1) for item in raw.split("\0") if item)

    def cache_files(self) -> list[str]:
        results = self.cache_dir / "results"
        return sorted(os.listdir(results)) if results.exists() else []


def error_object(run) -> dict:
    """CLI-05: with -o json every stderr line is one JSON object and the error is the last one."""
    lines = run.stderr.splitlines()
    assert lines, run
    objects = [json.loads(line) for line in lines]  # raises if any line is not JSON
    assert all(isinstance(obj, dict) for obj in objects), run
    error = objects[-1]
    assert error["level"] == "error", run
    assert set(error) == ERROR_FIELDS, run
    return error


def panel(run) -> str:
    """The human error panel on stderr (rich's rounded box), nothing on stdout."""
    assert run.stdout == "", run
    assert "╭" in run.stderr and "╰" in run.stderr, run
    return run.stderr


def flat(text: str) -> str:
    """Panel text with the box drawing and line breaks removed, to search wrapped messages."""
    lines = []
    for line in text.splitlines():
        lines.append(" ".join(line.strip().strip("│╭╮╰╯─").split()))
    return " ".join(part for part in lines if part)
