"""Fixtures shared by every test tier.

``cnitool`` runs the real command line in a subprocess (``python -m cnitool``) with an
environment the test controls: no NETCONFPATH/CNI_PATH/CNI_* leaks in from the developer's shell.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_LEAKY_VARIABLES = ("NETCONFPATH", "CNI_PATH", "CNI_IFNAME", "CNI_ARGS", "CAP_ARGS", "CNI_CACHE_DIR",
                    "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "NO_COLOR", "FORCE_COLOR")


@dataclass
class Run:
    """One finished ``cnitool`` invocation."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)

    def stderr_json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stderr.splitlines() if line.strip()]

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"Run({self.args!r}, rc={self.returncode}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def clean_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _LEAKY_VARIABLES}
    env.update(overrides)
    return env


@pytest.fixture
def cnitool() -> Callable[..., Run]:
    """Run ``cnitool ARGS...`` as a user would; keyword ``env`` adds variables, ``input`` feeds stdin."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 120) -> Run:
        argv = [sys.executable, "-m", "cnitool", *args]
        completed = subprocess.run(
            argv, env=clean_env(**(env or {})), input=input, capture_output=True, text=True, timeout=timeout
        )
        return Run(list(args), completed.returncode, completed.stdout, completed.stderr)

    return run


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Short unique names (interface names have 15 bytes at most), so parallel runs never collide."""

    def make(prefix: str) -> str:
        return f"{prefix}{secrets.token_hex(3)}"

    return make


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    path = tmp_path / "cache"
    path.mkdir()
    return path


@pytest.fixture
def conf_dir(tmp_path: Path) -> Path:
    path = tmp_path / "net.d"
    path.mkdir()
    return path


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, indent=2))
    return path


@pytest.fixture
def fake_plugins(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """Write small ``#!/bin/sh`` plugins into a private plugin directory: ``make(name, body)``."""
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()

    def make(name: str, body: str, executable: bool = True) -> Path:
        path = plugin_dir / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755 if executable else 0o644)
        return path

    make.dir = plugin_dir  # type: ignore[attr-defined]
    yield make
