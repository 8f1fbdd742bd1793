"""Fixtures for the core unit tests; the fakes themselves live in unit_fakes.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnitool.core.api import Cni
from unit_fakes import FakeRunner


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def cni(runner: FakeRunner, cache_dir: Path) -> Cni:
    return Cni(plugin_dirs=("/opt/cni/bin", "/usr/lib/cni"), runner=runner, cache_dir=str(cache_dir))
