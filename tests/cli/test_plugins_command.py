"""``cnitool plugins``: the plugin path's content and each plugin's VERSION answer (VER-04, EXEC-02)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

REAL_PLUGIN_DIR = Path("/usr/lib/cni")
TABLE_ENV = {"COLUMNS": "120"}


def write_plugin(directory: Path, name: str, body: str, mode: int = 0o755) -> Path:
    """A fake plugin; like every real one, it mentions CNI_COMMAND (only such files are run)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n: \"$CNI_COMMAND\"\n" + body)
    path.chmod(mode)
    return path


def answers(versions: list[str], cni_version: str = "1.0.0") -> str:
    document = {"cniVersion": cni_version, "supportedVersions": versions}
    return f"echo '{json.dumps(document)}'\n"


def by_name(document: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in document["plugins"] if "shadowedBy" not in entry}


def table_row(stdout: str, name: str) -> str:
    rows = [line for line in stdout.splitlines() if re.match(rf"^\s*{re.escape(name)}\s", line)]
    assert rows, f"no row for {name} in:\n{stdout}"
    return rows[0]


@pytest.mark.skipif(not (REAL_PLUGIN_DIR / "bridge").exists(), reason="reference plugins not installed")
def test_ver_04_real_plugin_dir_json(cnitool) -> None:
    """The Debian reference plugins: every binary listed, bridge supports 1.0.0."""
    run = cnitool("plugins", "-o", "json", env={"CNI_PATH": str(REAL_PLUGIN_DIR)})
    assert run.returncode == 0, run
    document = run.json()
    assert document["pluginDirs"] == [{"path": str(REAL_PLUGIN_DIR), "error": None}]
    plugins = by_name(document)
    assert {"bridge", "host-local", "loopback", "portmap"} <= set(plugins)
    bridge = plugins["bridge"]
    assert bridge == {"name": "bridge", "path": str(REAL_PLUGIN_DIR / "bridge"), "executable": True,
                      "versions": bridge["versions"], "error": None}
    assert "1.0.0" in bridge["versions"]
    assert all(entry["error"] is None for entry in plugins.values()), plugins


@pytest.mark.skipif(not (REAL_PLUGIN_DIR / "bridge").exists(), reason="reference plugins not installed")
def test_ver_04_real_plugin_dir_table(cnitool) -> None:
    run = cnitool("plugins", "-o", "table", env={"CNI_PATH": str(REAL_PLUGIN_DIR), **TABLE_ENV})
    assert run.returncode == 0, run
    assert run.stdout.splitlines()[0].strip() == str(REAL_PLUGIN_DIR)  # one table per directory
    assert re.match(r"^\s*bridge\s+0\.1\.0, .*1\.0\.0\s+✓ ok\s*$", table_row(run.stdout, "bridge"))
    assert "✓ ok" in table_row(run.stdout, "host-local")
    assert re.search(r"^\d+ plugin file\(s\), 0 with problems$", run.stdout, re.M), run.stdout
    assert max(len(line) for line in run.stdout.splitlines()) <= 120


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    """A plugin directory with one plugin for every way VERSION can go (VER-04)."""
    directory = tmp_path / "bin"
    write_plugin(directory, "modern", answers(["0.3.1", "0.4.0", "1.0.0", "1.1.0"], "1.1.0"))
    # Written before VERSION existed: the skel's error for an unknown command, exit 1.
    write_plugin(directory, "ancient", """echo '{"code":4,"msg":"unknown CNI_COMMAND: VERSION"}'\nexit 1\n""")
    # A 0.2.0 answer may leave supportedVersions out: it means 0.1.0 and 0.2.0.
    write_plugin(directory, "old", """echo '{"cniVersion":"0.2.0"}'\n""")
    write_plugin(directory, "garbage", "echo 'this is not json'\n")
    write_plugin(directory, "failing", """echo '{"code":999,"msg":"boom"}'\nexit 1\n""")
    write_plugin(directory, "noexec", answers(["1.0.0"]), mode=0o644)
    (directory / "subdir").mkdir()
    return directory


def test_ver_04_every_answer_json(cnitool, plugin_dir: Path) -> None:
    run = cnitool("plugins", "-o", "json", env={"CNI_PATH": str(plugin_dir)})
    assert run.returncode == 0, run
    plugins = by_name(run.json())
    assert sorted(plugins) == ["ancient", "failing", "garbage", "modern", "noexec", "old"]  # subdir skipped
    assert plugins["modern"]["versions"] == ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]
    assert plugins["modern"]["error"] is None
    assert plugins["ancient"]["versions"] == ["0.1.0"] and plugins["ancient"]["error"] is None
    assert plugins["old"]["versions"] == ["0.1.0", "0.2.0"] and plugins["old"]["error"] is None
    assert plugins["garbage"]["versions"] is None
    assert "not JSON" in plugins["garbage"]["error"]
    assert plugins["failing"]["versions"] is None and "boom" in plugins["failing"]["error"]
    assert plugins["noexec"]["executable"] is False
    assert plugins["noexec"]["versions"] is None
    assert "not executable" in plugins["noexec"]["error"]
    for entry in plugins.values():
        assert set(entry) == {"name", "path", "executable", "versions", "error"}
        assert entry["path"] == str(plugin_dir / entry["name"])


def test_ver_04_every_answer_table(cnitool, plugin_dir: Path) -> None:
    run = cnitool("plugins", "-o", "table", env={"CNI_PATH": str(plugin_dir), **TABLE_ENV})
    assert run.returncode == 0, run
    assert re.search(r"\bancient\s+0\.1\.0\s+✓ ok", table_row(run.stdout, "ancient"))
    assert re.search(r"\bold\s+0\.1\.0, 0\.2\.0\s+✓ ok", table_row(run.stdout, "old"))
    assert "✗ not executable (mode -rw-r--r--)" in table_row(run.stdout, "noexec")
    assert "✗ " in table_row(run.stdout, "garbage")
    assert "6 plugin file(s), 3 with problems" in run.stdout


def test_a_file_that_never_mentions_cni_command_is_not_run(cnitool, tmp_path: Path) -> None:
    """A plugin path pointing at ordinary programs must not run them: only files holding
    CNI_COMMAND are asked VERSION; the others are listed with the reason."""
    directory = tmp_path / "bin"
    marker = tmp_path / "ran"
    directory.mkdir()
    program = directory / "ordinary"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n")
    program.chmod(0o755)
    write_plugin(directory, "plugin", answers(["1.0.0"]))
    run = cnitool("plugins", "-o", "json", env={"CNI_PATH": str(directory)})
    assert run.returncode == 0, run
    plugins = by_name(run.json())
    assert not marker.exists()
    assert plugins["ordinary"]["versions"] is None
    assert "neither it nor a file it names mentions CNI_COMMAND" in plugins["ordinary"]["error"]
    assert plugins["plugin"]["versions"] == ["1.0.0"]


def test_exec_02_shadowed_duplicates_in_path_order(cnitool, tmp_path: Path) -> None:
    """The first regular file of a name wins, even a non-executable one (EXEC-02)."""
    first, second = tmp_path / "first", tmp_path / "second"
    write_plugin(first, "dup", answers(["1.0.0"]))
    write_plugin(second, "dup", answers(["0.4.0"]))
    write_plugin(first, "blocked", answers(["1.0.0"]), mode=0o644)
    write_plugin(second, "blocked", answers(["1.0.0"]))
    path = f"{first}:{tmp_path / 'missing'}:{second}"
    table = cnitool("plugins", "-o", "table", env={"CNI_PATH": path, **TABLE_ENV})
    assert f"(shadowed by {first / 'dup'})" in table.stdout.split(str(second))[-1]
    assert f"{tmp_path / 'missing'}: does not exist" in table.stdout
    run = cnitool("plugins", "-o", "json", env={"CNI_PATH": path})
    assert run.returncode == 0, run
    document = run.json()
    assert document["pluginDirs"] == [
        {"path": str(first), "error": None},
        {"path": str(tmp_path / "missing"), "error": "does not exist"},
        {"path": str(second), "error": None},
    ]
    entries = [(e["path"], e.get("shadowedBy"), e["versions"]) for e in document["plugins"]]
    assert entries == [
        (str(first / "blocked"), None, None),
        (str(first / "dup"), None, ["1.0.0"]),
        (str(second / "blocked"), str(first / "blocked"), ["1.0.0"]),
        (str(second / "dup"), str(first / "dup"), ["0.4.0"]),
    ]


def test_plugins_are_asked_in_parallel_with_a_timeout(cnitool, tmp_path: Path) -> None:
    directory = tmp_path / "bin"
    for index in range(4):
        write_plugin(directory, f"slow{index}", "sleep 1.5\n" + answers(["1.0.0"]))
    write_plugin(directory, "hang", "exec sleep 60\n")
    started = time.monotonic()
    run = cnitool("plugins", "-o", "json", "--timeout", "3", env={"CNI_PATH": str(directory)})
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run
    plugins = by_name(run.json())
    assert all(plugins[f"slow{i}"]["versions"] == ["1.0.0"] for i in range(4)), plugins
    assert "timed out after 3s" in plugins["hang"]["error"]
    # One after the other this would take 4 x 1.5 s + 3 s; in parallel the hang bounds it.
    assert elapsed < 7, elapsed


def test_version_call_environment(cnitool, tmp_path: Path) -> None:
    """EXEC-03: VERSION gets CNI_COMMAND=VERSION, "dummy" for netns/ifname/path, and reads 1.1.0 on stdin."""
    directory = tmp_path / "bin"
    log = tmp_path / "log"
    write_plugin(directory, "spy", f'env | grep ^CNI_ | sort > {log}\ncat >> {log}\necho\n' + answers(["1.0.0"]))
    run = cnitool("plugins", "-o", "json", env={"CNI_PATH": str(directory)})
    assert run.returncode == 0, run
    text = log.read_text()
    assert "CNI_COMMAND=VERSION" in text and "CNI_NETNS=dummy" in text and "CNI_PATH=dummy" in text
    assert '{"cniVersion": "1.1.0"}' in text or '{"cniVersion":"1.1.0"}' in text


def test_empty_plugin_path(cnitool, tmp_path: Path) -> None:
    run = cnitool("plugins", "-o", "table", env={"CNI_PATH": str(tmp_path), **TABLE_ENV})
    assert run.returncode == 0, run
    assert f"{tmp_path}: no plugins" in run.stdout
    assert f"No plugins found in {tmp_path}" in run.stdout
    run = cnitool("plugins", "-o", "json", env={"CNI_PATH": str(tmp_path)})
    assert run.json() == {"pluginDirs": [{"path": str(tmp_path), "error": None}], "plugins": []}


def test_plugins_json_is_one_document_even_with_long_paths(cnitool, tmp_path: Path) -> None:
    """JSON never goes through rich: long paths must not be wrapped at the terminal width."""
    directory = tmp_path / ("x" * 150)
    write_plugin(directory, "p", answers(["1.0.0"]))
    run = cnitool("plugins", "-o", "json", env={"CNI_PATH": str(directory), "COLUMNS": "40"})
    assert run.returncode == 0, run
    assert by_name(run.json())["p"]["path"] == os.path.join(directory, "p")
