"""``cnitool validate PATH`` for a file that is not there: reported as a missing file, not as a bad name.

A network name never holds ``/`` (VAL-02), so an argument with one means a file; an argument that
ends in .conflist, .conf or .json means a file too, unless a network really has that name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TABLE_ENV = {"COLUMNS": "120"}


@pytest.fixture
def env(conf_dir: Path, tmp_path: Path) -> dict[str, str]:
    (conf_dir / "10-web.conf.conflist").write_text(json.dumps(
        {"cniVersion": "1.0.0", "name": "web.conf", "plugins": [{"type": "loopback"}]}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    loopback = bin_dir / "loopback"
    loopback.write_text("#!/bin/sh\n# CNI_COMMAND\necho '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\"]}'\n")
    loopback.chmod(0o755)
    return {"NETCONFPATH": str(conf_dir), "CNI_PATH": str(bin_dir)}


@pytest.mark.parametrize("target", ["/nonexistent.conf", "./missing/net", "missing.conflist", "missing.json"])
def test_validate_missing_file_is_reported_as_such(cnitool, env: dict[str, str], tmp_path: Path, target: str) -> None:
    run = cnitool("validate", "-o", "json", target, env=env)
    assert run.returncode == 2, run  # validate's rule: any error finding is exit 2
    document = run.json()
    assert document["findings"] == [{"severity": "error", "file": target, "network": None, "plugin": None,
                                     "message": "no such file", "line": None, "column": None}]
    assert document["networks"] == []


def test_validate_missing_file_table(cnitool, env: dict[str, str]) -> None:
    run = cnitool("validate", "-o", "table", "/nonexistent.conf", env={**env, **TABLE_ENV})
    assert run.returncode == 2, run
    assert "no such file" in run.stdout
    assert "network name" not in run.stdout


def test_validate_name_ending_like_a_file_is_the_network_when_one_has_it(cnitool, env: dict[str, str]) -> None:
    run = cnitool("validate", "-o", "json", "web.conf", env=env)
    assert run.returncode == 0, run
    assert run.json()["networks"] == ["web.conf"]


def test_validate_path_that_is_no_regular_file(cnitool, env: dict[str, str]) -> None:
    run = cnitool("validate", "-o", "json", "/dev/null", env=env)
    assert run.returncode == 2, run
    [finding] = run.json()["findings"]
    assert (finding["file"], finding["message"]) == ("/dev/null", "not a regular file")
