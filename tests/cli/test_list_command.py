"""``cnitool list``: every network of the configuration directories, and the files that fail to load."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

TABLE_ENV = {"COLUMNS": "120"}
NETWORK_KEYS = {"name", "cniVersion", "cniVersions", "effectiveVersion", "plugins", "file", "disableCheck", "disableGC",
                "errors"}


def write(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) if not isinstance(document, str) else document)
    return path


def conflist(name: str, *types: str, version: str = "1.0.0", **extra: object) -> dict:
    return {"cniVersion": version, "name": name, "plugins": [{"type": t} for t in types], **extra}


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short directory name, so table rows with paths fit 120 columns unwrapped."""
    path = Path(tempfile.mkdtemp(prefix="cl", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def dirs(short_tmp: Path) -> tuple[Path, Path]:
    first, second = short_tmp / "first", short_tmp / "second"
    write(first / "10-web.conflist", conflist("web", "bridge", "portmap", disableCheck=True))
    write(first / "20-db.conf", {"cniVersion": "0.4.0", "name": "db", "type": "ptp", "ipam": {"type": "host-local"}})
    # LOAD-06: a trailing comma, on line 3.
    write(first / "30-broken.conflist", '{\n  "name": "broken",\n  "plugins": [{"type": "bridge"},]\n}\n')
    write(first / "40-untyped.conflist", conflist("untyped") | {"plugins": [{"bridge": "x"}]})
    # VER-03: the highest supported of cniVersion and cniVersions; 9.9.9 is ignored.
    write(second / "a.conflist", conflist("multi", "loopback", version="0.4.0", cniVersions=["1.0.0", "9.9.9"],
                                          disableGC="TRUE"))
    # LOAD-03 across directories: the first directory's file wins.
    write(second / "b.conflist", conflist("web", "macvlan"))
    return first, second


def networks_by_file(document: dict) -> dict[str, dict]:
    return {Path(entry["file"]).name: entry for entry in document["networks"]}


def test_load_01_every_directory_of_netconfpath_json(cnitool, dirs) -> None:
    first, second = dirs
    run = cnitool("list", "-o", "json", env={"NETCONFPATH": f"{first}:{second}"})
    assert run.returncode == 0, run  # LOAD-05: broken files are reported, not fatal
    document = run.json()
    assert set(document) == {"networks", "problems"}
    for entry in document["networks"]:
        assert NETWORK_KEYS <= set(entry) <= NETWORK_KEYS | {"shadowedBy"}
    # Lookup order: directories in order, .conflist before .conf within one (LOAD-03).
    assert [Path(e["file"]).name for e in document["networks"]] == ["10-web.conflist", "20-db.conf", "a.conflist", "b.conflist"]
    found = networks_by_file(document)
    assert found["10-web.conflist"] == {
        "name": "web", "cniVersion": "1.0.0", "cniVersions": None, "effectiveVersion": "1.0.0",
        "plugins": ["bridge", "portmap"], "file": str(first / "10-web.conflist"),
        "disableCheck": True, "disableGC": False, "errors": [],
    }
    assert found["20-db.conf"]["plugins"] == ["ptp"]  # a .conf is lifted into a one-plugin list (LOAD-10)
    assert found["a.conflist"]["effectiveVersion"] == "1.0.0"
    assert found["a.conflist"]["cniVersion"] == "0.4.0"
    assert found["a.conflist"]["cniVersions"] == ["1.0.0", "9.9.9"]
    assert found["a.conflist"]["disableGC"] is True  # LOAD-08: the string "TRUE" counts
    assert found["b.conflist"]["shadowedBy"] == str(first / "10-web.conflist")
    assert "shadowedBy" not in found["10-web.conflist"]


def test_load_05_broken_files_are_listed_with_their_position(cnitool, dirs) -> None:
    first, second = dirs
    run = cnitool("list", "-o", "json", env={"NETCONFPATH": f"{first}:{second}"})
    problems = {Path(p["file"]).name: p for p in run.json()["problems"]}
    assert set(problems) == {"30-broken.conflist", "40-untyped.conflist"}
    broken = problems["30-broken.conflist"]
    assert (broken["line"], broken["column"]) == (3, 34)
    assert broken["message"].startswith("invalid JSON")
    untyped = problems["40-untyped.conflist"]
    assert (untyped["line"], untyped["column"]) == (None, None)
    assert untyped["message"] == "plugins[0]: missing 'type'"
    assert set(broken) == {"file", "line", "column", "message"}


def test_list_table(cnitool, dirs) -> None:
    first, second = dirs
    run = cnitool("list", "-o", "table", env={"NETCONFPATH": f"{first}:{second}", **TABLE_ENV})
    assert run.returncode == 0, run
    lines = [line.rstrip() for line in run.stdout.splitlines()]
    assert lines[0] == f"Networks in {first}:{second}"
    assert re.match(r"^ Name\s+Version\s+Plugins\s+File\s+Flags$", lines[2])
    rows = {match[1]: line for line in lines[4:] if line.startswith(" ") and (match := re.search(r"/([\w.-]+\.conf(?:list)?)\b", line))}
    assert re.match(rf"^ web\s+1\.0\.0\s+bridge → portmap\s+{first}/10-web\.conflist\s+disableCheck$", rows["10-web.conflist"])
    assert re.match(r"^ db\s+0\.4\.0\s+ptp\s+\S+/20-db\.conf$", rows["20-db.conf"])
    assert re.match(r"^ multi\s+1\.0\.0 \(cniVersions\)\s+loopback\s+\S+/a\.conflist\s+disableGC$", rows["a.conflist"])
    assert re.match(r"^ web\s+1\.0\.0\s+macvlan\s+\S+/b\.conflist\s+shadowed$", rows["b.conflist"])
    assert (f'Shadowed: {second}/b.conflist defines network "web" again; {first}/10-web.conflist comes first '
            "and is the one used.") in " ".join(lines)
    problems = lines.index("Files that could not be loaded:")
    assert lines[problems + 1] == f"  {first}/30-broken.conflist:3:34: invalid JSON: Expecting value"
    assert lines[problems + 2] == f"  {first}/40-untyped.conflist: plugins[0]: missing 'type'"
    assert max(len(line) for line in lines) <= 120


def test_list_empty_and_missing_directories(cnitool, tmp_path: Path) -> None:
    run = cnitool("list", "-o", "json", env={"NETCONFPATH": str(tmp_path / "nothing")})
    assert run.returncode == 0, run
    assert run.json() == {"networks": [], "problems": []}
    run = cnitool("list", "-o", "table", env={"NETCONFPATH": str(tmp_path / "nothing"), **TABLE_ENV})
    assert run.stdout.strip() == f"No networks found in {tmp_path / 'nothing'}"


def test_list_conf_dir_option_beats_netconfpath(cnitool, dirs) -> None:
    first, second = dirs
    run = cnitool("list", "--conf-dir", str(second), "-o", "json", env={"NETCONFPATH": str(first)})
    assert [e["name"] for e in run.json()["networks"]] == ["multi", "web"]


def test_load_10_list_warns_on_stderr_as_json_lines(cnitool, tmp_path: Path) -> None:
    """A .conf holding a plugins list loads as a list, with a warning to rename it (LOAD-10)."""
    write(tmp_path / "x.conf", conflist("x", "bridge"))
    run = cnitool("list", "-o", "json", env={"NETCONFPATH": str(tmp_path)})
    assert [e["name"] for e in run.json()["networks"]] == ["x"]
    warnings = run.stderr_json_lines()
    assert len(warnings) == 1 and warnings[0]["level"] == "warning"
    assert "rename it to .conflist" in warnings[0]["msg"]
