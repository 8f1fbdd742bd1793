"""Fixtures of the fake-plugin CLI tests: a real, empty namespace and a private environment."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin_env import Env


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh, empty named namespace (``ip netns add``); removed afterwards whatever happened."""
    name = f"cnit-{uuid.uuid4().hex[:10]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield f"/var/run/netns/{name}"
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    path = tmp_path / "log"
    path.mkdir()
    return path


@pytest.fixture
def env(conf_dir: Path, cache_dir: Path, log_dir: Path, fake_plugins) -> Env:
    return Env(conf_dir, fake_plugins.dir, cache_dir, log_dir, fake_plugins)
