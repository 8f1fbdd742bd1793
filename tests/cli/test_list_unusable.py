"""``cnitool list`` marks a network every verb would refuse (VAL-02, VAL-04) as unusable, with the reason.

Such a file loads, so it is no "problem" file; but ``add`` refuses a network named ``../evil`` or
a plugin type that is a path before anything runs, and ``list`` must not show it as a normal
network. Nothing is run to find out.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

TABLE_ENV = {"COLUMNS": "160"}
BAD_NAME = 'invalid characters found in network name "../evil"'
BAD_TYPE = 'plugins[0]: invalid plugin type "../../bin/sh": it must be a plain file name'
BAD_IPAM = 'plugins[1].ipam: invalid plugin type "a/b": it must be a plain file name'


@pytest.fixture
def spy(fake_plugins, tmp_path: Path) -> Path:
    """The plugins the networks name, each leaving a mark when run: list must run none of them."""
    mark = tmp_path / "ran"
    for name in ("loopback", "bridge", "host-local"):
        fake_plugins(name, f'# CNI_COMMAND\necho {name} >> "{mark}"\n')
    return mark


@pytest.fixture
def conf(spy: Path, fake_plugins) -> Iterator[dict[str, str]]:
    directory = Path(tempfile.mkdtemp(prefix="lu", dir="/tmp"))  # short: table rows stay unwrapped
    (directory / "10-evil.conflist").write_text(json.dumps(
        {"cniVersion": "1.0.0", "name": "../evil", "plugins": [{"type": "loopback"}]}))
    (directory / "20-sh.conflist").write_text(json.dumps(
        {"cniVersion": "1.0.0", "name": "sh",
         "plugins": [{"type": "../../bin/sh"}, {"type": "bridge", "ipam": {"type": "a/b"}}]}))
    (directory / "30-good.conflist").write_text(json.dumps(
        {"cniVersion": "1.0.0", "name": "good", "plugins": [{"type": "bridge", "ipam": {"type": "host-local"}}]}))
    yield {"NETCONFPATH": str(directory), "CNI_PATH": str(fake_plugins.dir)}
    shutil.rmtree(directory, ignore_errors=True)


def test_val_02_val_04_list_json_says_why_a_network_is_unusable(cnitool, conf: dict[str, str], spy: Path) -> None:
    run = cnitool("list", "-o", "json", env=conf)
    assert run.returncode == 0, run
    assert not spy.exists(), "list ran a plugin"
    errors = {entry["name"]: entry["errors"] for entry in run.json()["networks"]}
    assert errors == {"../evil": [BAD_NAME], "sh": [BAD_TYPE, BAD_IPAM], "good": []}


def test_val_02_val_04_list_table_marks_unusable_networks(cnitool, conf: dict[str, str], spy: Path) -> None:
    run = cnitool("list", "-o", "table", env={**conf, **TABLE_ENV})
    where = conf["NETCONFPATH"]
    assert run.returncode == 0, run
    assert not spy.exists(), "list ran a plugin"
    lines = [line.rstrip() for line in run.stdout.splitlines()]
    rows = {line.split()[0]: line for line in lines[4:] if line.startswith(" ")}
    assert rows["../evil"].endswith("unusable")
    assert rows["sh"].endswith("unusable")
    assert not rows["good"].endswith("unusable")
    text = " ".join(lines)  # a long note wraps at a space
    assert f'Unusable: {where}/10-evil.conflist: network "../evil": {BAD_NAME}' in text
    assert f'Unusable: {where}/20-sh.conflist: network "sh": {BAD_TYPE}; {BAD_IPAM}' in text


def test_val_02_validate_agrees_with_list(cnitool, conf: dict[str, str], spy: Path) -> None:
    """The reasons are validate's own messages, so the two commands never disagree."""
    run = cnitool("validate", "-o", "json", env=conf)
    spy.unlink(missing_ok=True)  # validate asks the good plugins VERSION; that is not what is tested here
    messages = {finding["message"] for finding in run.json()["findings"]}
    assert {BAD_NAME, BAD_TYPE, BAD_IPAM} <= messages
