"""core.lint and core.inventory without processes: fake plugin search and VERSION probes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cnitool.core.errors import InvalidResult, PluginNotFound
from cnitool.core.inventory import scan
from cnitool.core.lint import ERROR, WARNING, Linter, ask_versions, lookup_order, shadowing, sniff_name, why_first
from cnitool.core.loader import discover


def write(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_core_lint_imports_no_cli_libraries() -> None:
    code = "import sys, cnitool.core.lint, cnitool.core.inventory; print(sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'rich', 'pyroute2')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_load_03_lookup_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for path in (first / "b.conf", first / "a.json", first / "z.conflist", first / "B.conflist", second / "0.conflist"):
        write(path, {})
    assert lookup_order([str(first), str(tmp_path / "missing"), str(second)]) == [
        str(first / "B.conflist"), str(first / "z.conflist"), str(first / "a.json"), str(first / "b.conf"),
        str(second / "0.conflist"),
    ]


def test_load_05_a_broken_file_can_win_a_name(tmp_path: Path) -> None:
    """find_network picks the first file naming the network even when it is invalid."""
    write(tmp_path / "a.conflist", {"name": "n", "plugins": [{"notype": 1}]})
    write(tmp_path / "b.conflist", {"name": "n", "plugins": [{"type": "x"}]})
    write(tmp_path / "c.conflist", '{"name": "n", ')  # too broken to name anything
    dirs = [str(tmp_path)]
    assert shadowing(discover(dirs), dirs) == {str(tmp_path / "b.conflist"): str(tmp_path / "a.conflist")}
    assert sniff_name(str(tmp_path / "a.conflist")) == "n"
    assert sniff_name(str(tmp_path / "c.conflist")) is None


def test_load_03_why_first() -> None:
    assert why_first("/a/x.conf", "/b/x.conflist") == "its directory comes first in the configuration path"
    assert why_first("/a/z.conflist", "/a/a.conf") == ".conflist files are read before .conf and .json files"
    assert why_first("/a/a.conf", "/a/b.json") == "its file name sorts first"


def test_ver_05_each_type_asked_once_and_concurrently() -> None:
    calls: list[str] = []
    barrier = threading.Barrier(3, timeout=5)  # fails unless three probes run at the same time

    def probe(plugin_type: str) -> list[str]:
        calls.append(plugin_type)
        barrier.wait()
        return ["1.0.0"]

    answers = ask_versions(["a", "b", "a", "c", "b"], probe, workers=8)
    assert answers == {"a": ["1.0.0"], "b": ["1.0.0"], "c": ["1.0.0"]}
    assert sorted(calls) == ["a", "b", "c"]


def test_ver_05_linter_with_fakes(tmp_path: Path) -> None:
    write(tmp_path / "a.conflist", {"cniVersion": "1.1.0", "name": "a", "plugins": [
        {"type": "new", "ipam": {"type": "old"}}, {"type": "gone"}, {"type": "mute"}]})
    present = {"new": ["1.0.0", "1.1.0"], "old": ["0.4.0"], "mute": None}

    def locate(plugin_type: str) -> str:
        if plugin_type not in present:
            raise PluginNotFound(f'failed to find plugin "{plugin_type}"', hint="look elsewhere")
        return f"/bin/{plugin_type}"

    def probe(plugin_type: str) -> list[str]:
        if present[plugin_type] is None:
            raise InvalidResult("decoding version info: not JSON")
        return present[plugin_type]

    linter = Linter(locate=locate, probe=probe)
    linter.add_directories([str(tmp_path)])
    report = linter.run()
    got = [(f.severity, f.plugin, f.message, f.detail) for f in report.findings]
    assert got == [
        (ERROR, "old (ipam of new)", "does not support the network's cniVersion 1.1.0 (it supports 0.4.0)", None),
        (ERROR, "gone", 'failed to find plugin "gone"', "look elsewhere"),
        (WARNING, "mute", "cannot check that it supports version 1.1.0: VERSION failed: decoding version info: not JSON", None),
    ]
    assert not report.ok() and [n.name for n in report.networks] == ["a"]


def test_linter_without_probe_only_locates(tmp_path: Path) -> None:
    write(tmp_path / "a.conflist", {"cniVersion": "1.0.0", "name": "a", "plugins": [{"type": "x"}]})
    linter = Linter(locate=lambda t: f"/bin/{t}", probe=None)
    linter.add_directories([str(tmp_path)])
    report = linter.run()
    assert report.findings == () and report.ok(strict=True)


def test_inventory_scan_with_fake_probe(tmp_path: Path) -> None:
    first, second = tmp_path / "1", tmp_path / "2"
    for directory in (first, second):
        directory.mkdir()
    (first / "p").write_text("case $CNI_COMMAND")
    (first / "p").chmod(0o755)
    (second / "p").write_text("case $CNI_COMMAND")
    (second / "p").chmod(0o755)
    (second / "ordinary").write_text("echo hello")
    (second / "ordinary").chmod(0o755)
    (second / "q").write_text("case $CNI_COMMAND")
    (second / "q").chmod(0o644)
    (second / "link").symlink_to(second / "nowhere")
    asked: list[tuple[str, str]] = []

    def probe(directory: str, name: str) -> list[str]:
        asked.append((directory, name))
        return ["1.0.0"] if directory == str(first) else ["0.4.0"]

    inventory = scan([str(first), str(second), str(first)], probe)
    assert [d.duplicate for d in inventory.dirs] == [False, False, True]
    rows = [(p.path, p.versions, p.error, p.shadowed_by) for p in inventory.plugins]
    assert rows == [
        (str(first / "p"), ("1.0.0",), None, None),
        (str(second / "link"), None, "dangling symbolic link (No such file or directory)", None),
        (str(second / "ordinary"), None, "not asked VERSION: neither it nor a file it names mentions CNI_COMMAND "
         "(a script counts as a wrapper only when one of its command lines execs a plugin), so probably not a "
         f"CNI plugin; `cnitool invoke {second / 'ordinary'} VERSION` asks it anyway", None),
        (str(second / "p"), ("0.4.0",), None, str(first / "p")),
        (str(second / "q"), None, "not executable (mode -rw-r--r--)", None),
    ]
    assert sorted(asked) == [(str(first), "p"), (str(second), "p")]


@pytest.mark.parametrize("text", ["[1, 2]", '{"name": 5}', '{"name": ""}', "NaN", ""])
def test_sniff_name_needs_a_string_name(tmp_path: Path, text: str) -> None:
    assert sniff_name(str(write(tmp_path / "x.conflist", text))) is None
