"""``cnitool validate``: lint configs without running ADD (LOAD-05, VER-05, VAL-02, VAL-04, LOAD-03)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnitool.cli import main
from cnitool.cli.app import App

TABLE_ENV = {"COLUMNS": "120"}
FINDING_KEYS = {"severity", "file", "network", "plugin", "message", "line", "column"}


def write(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


def write_plugin(directory: Path, name: str, body: str, mode: int = 0o755) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(mode)
    return path


def version_plugin(directory: Path, name: str, versions: list[str], log: Path | None = None) -> Path:
    """A plugin that answers VERSION with ``versions`` (and appends a line to ``log`` each time)."""
    record = f'echo "$CNI_COMMAND" >> {log}\n' if log else ""
    document = json.dumps({"cniVersion": "1.0.0", "supportedVersions": versions})
    return write_plugin(directory, name, f"{record}echo '{document}'\n")


def conflist(name: str, *plugins: dict, version: str | None = "1.0.0", **extra: object) -> dict:
    document: dict = {"name": name, "plugins": list(plugins), **extra}
    if version is not None:
        document["cniVersion"] = version
    return document


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short directory name, so that table lines with paths are not folded at 120 columns."""
    path = Path(tempfile.mkdtemp(prefix="cv", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Setup:
    """A configuration directory mixing good, broken, invalid and conflicting files, and a plugin dir."""

    def __init__(self, root: Path) -> None:
        self.conf = root / "net.d"
        self.bin = root / "bin"
        self.log = root / "version-calls"
        version_plugin(self.bin, "modern", ["0.3.1", "0.4.0", "1.0.0", "1.1.0"], self.log)
        version_plugin(self.bin, "legacy", ["0.3.0", "0.3.1", "0.4.0"])
        self.conf.mkdir(parents=True)

    def env(self, **more: str) -> dict[str, str]:
        return {"NETCONFPATH": str(self.conf), "CNI_PATH": str(self.bin), **more}

    def file(self, name: str) -> str:
        return str(self.conf / name)


@pytest.fixture
def setup(short_tmp: Path) -> Setup:
    return Setup(short_tmp)


@pytest.fixture
def mixed(setup: Setup) -> Setup:
    modern = {"type": "modern", "ipam": {"type": "modern"}}
    write(setup.conf / "10-good.conflist", conflist("good", modern, {"type": "modern"}))
    # LOAD-06: a trailing comma on line 3, column 34.
    write(setup.conf / "20-broken.conflist", '{\n  "name": "broken",\n  "plugins": [{"type": "modern"},]\n}\n')
    write(setup.conf / "30-invalid.conflist", conflist("invalid", {"bridge": "cni0"}))
    # VER-05: legacy supports up to 0.4.0, the network runs 1.0.0.
    write(setup.conf / "40-old.conflist", conflist("old", {"type": "modern"}, {"type": "legacy"}))
    write(setup.conf / "50-missing.conflist", conflist("missing", {"type": "nothere"}))
    # LOAD-03: sorts before 10-good.conflist, but every .conflist is read before any .conf.
    write(setup.conf / "05-good.conf", {"cniVersion": "1.0.0", "name": "good", "type": "modern"})
    return setup


def findings(run, **match: object) -> list[dict]:
    return [f for f in run.json()["findings"] if all(f[k] == v for k, v in match.items())]


def test_load_05_validate_mixed_directory_json(cnitool, mixed: Setup) -> None:
    run = cnitool("validate", "-o", "json", env=mixed.env())
    assert run.returncode == 2, run
    document = run.json()
    assert set(document) == {"ok", "strict", "errors", "warnings", "findings", "networks"}
    assert document["ok"] is False and document["strict"] is False
    assert document["networks"] == ["good", "old", "missing"]
    for finding in document["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["severity"] in ("error", "warning")
    assert document["errors"] == len([f for f in document["findings"] if f["severity"] == "error"])

    # LOAD-06: a syntax error with its position.
    [broken] = findings(run, file=mixed.file("20-broken.conflist"))
    assert (broken["severity"], broken["line"], broken["column"]) == ("error", 3, 34)
    assert broken["message"].startswith("invalid JSON") and broken["network"] is None
    # LOAD-07: required keys; the network's name is still known.
    [invalid] = findings(run, file=mixed.file("30-invalid.conflist"))
    assert (invalid["severity"], invalid["network"], invalid["message"]) == ("error", "invalid", "plugins[0]: missing 'type'")
    # The good network has nothing to say.
    assert findings(run, file=mixed.file("10-good.conflist")) == []


def test_ver_05_plugin_without_the_networks_version(cnitool, mixed: Setup) -> None:
    run = cnitool("validate", "-o", "json", env=mixed.env())
    [finding] = findings(run, file=mixed.file("40-old.conflist"))
    assert finding["severity"] == "error"
    assert (finding["network"], finding["plugin"]) == ("old", "legacy")
    assert "cniVersion 1.0.0" in finding["message"] and "0.3.0, 0.3.1, 0.4.0" in finding["message"]


def test_exec_02_missing_plugin(cnitool, mixed: Setup) -> None:
    run = cnitool("validate", "-o", "json", env=mixed.env())
    [finding] = findings(run, file=mixed.file("50-missing.conflist"))
    assert (finding["severity"], finding["network"], finding["plugin"]) == ("error", "missing", "nothere")
    assert finding["message"] == f'failed to find plugin "nothere" in path [{mixed.bin}]'


def test_load_03_duplicate_names_say_which_file_wins(cnitool, mixed: Setup) -> None:
    run = cnitool("validate", "-o", "json", env=mixed.env())
    [finding] = findings(run, file=mixed.file("05-good.conf"))
    assert (finding["severity"], finding["network"]) == ("warning", "good")
    assert finding["message"] == (f'network "good" is also defined in {mixed.file("10-good.conflist")}, which wins '
                                  "(.conflist files are read before .conf and .json files)")


def test_ver_05_each_plugin_is_asked_once(cnitool, mixed: Setup) -> None:
    """modern is used by three networks, twice as an IPAM plugin: one VERSION call."""
    run = cnitool("validate", "-o", "json", env=mixed.env())
    assert run.returncode == 2, run
    assert mixed.log.read_text().splitlines() == ["VERSION"]


def test_validate_mixed_directory_table(cnitool, mixed: Setup) -> None:
    run = cnitool("validate", "-o", "table", env=mixed.env(**TABLE_ENV))
    assert run.returncode == 2, run
    lines = [line.rstrip() for line in run.stdout.splitlines()]
    # Grouped per file, in lookup order.
    headings = [line for line in lines if line.startswith("/")]
    assert headings == [mixed.file(n) for n in ("10-good.conflist", "20-broken.conflist", "30-invalid.conflist",
                                                "40-old.conflist", "50-missing.conflist", "05-good.conf")]
    after = {heading: lines[lines.index(heading) + 1] for heading in headings}
    assert after[mixed.file("10-good.conflist")] == " ✓         good (1.0.0)"
    assert after[mixed.file("20-broken.conflist")] == " ✗ error   line 3, column 34: invalid JSON: Expecting value"
    assert after[mixed.file("30-invalid.conflist")] == " ✗ error   [invalid] plugins[0]: missing 'type'"
    assert after[mixed.file("40-old.conflist")].startswith(
        " ✗ error   [old / legacy] does not support the network's cniVersion 1.0.0")
    assert after[mixed.file("05-good.conf")].startswith(' ! warning [good] network "good" is also defined in')
    # The offending source line and a caret under the column (LOAD-06).
    source = lines.index(mixed.file("20-broken.conflist")) + 2
    assert lines[source].strip() == '"plugins": [{"type": "modern"},]'
    assert lines[source + 1].index("^") == lines[source].index("]")
    assert lines[-1] == "3 network(s) checked, 4 error(s), 1 warning(s)"
    assert max(len(line) for line in lines) <= 120


def test_validate_clean_directory(cnitool, setup: Setup) -> None:
    write(setup.conf / "a.conflist", conflist("a", {"type": "modern", "capabilities": {"portMappings": True}}))
    run = cnitool("validate", "-o", "json", env=setup.env())
    assert run.returncode == 0, run
    assert run.json() == {"ok": True, "strict": False, "errors": 0, "warnings": 0, "findings": [], "networks": ["a"]}
    run = cnitool("validate", "-o", "table", env=setup.env(**TABLE_ENV))
    assert run.returncode == 0, run
    assert [line.rstrip() for line in run.stdout.splitlines()] == [
        setup.file("a.conflist"), " ✓         a (1.0.0)", "1 network(s) checked, 0 error(s), 0 warning(s)"]


def test_validate_strict_makes_warnings_errors(cnitool, setup: Setup) -> None:
    write(setup.conf / "a.conflist", conflist("a", {"type": "modern", "capabilities": {"portMaping": True}}))
    run = cnitool("validate", "-o", "json", env=setup.env())
    assert run.returncode == 0, run
    [finding] = run.json()["findings"]
    assert finding["severity"] == "warning"
    assert 'capability "portMaping" is not a well-known capability' in finding["message"]
    assert 'did you mean "portMappings"?' in finding["message"]
    run = cnitool("validate", "--strict", "-o", "json", env=setup.env())
    assert run.returncode == 2, run
    assert run.json()["ok"] is False and run.json()["strict"] is True


def test_validate_file_argument_checks_only_that_file(cnitool, mixed: Setup) -> None:
    run = cnitool("validate", "-o", "json", mixed.file("40-old.conflist"), env=mixed.env())
    assert run.returncode == 2, run
    document = run.json()
    assert document["networks"] == ["old"]
    assert {f["file"] for f in document["findings"]} == {mixed.file("40-old.conflist")}
    # A broken file given directly keeps its position too.
    run = cnitool("validate", "-o", "json", mixed.file("20-broken.conflist"), env=mixed.env())
    [finding] = run.json()["findings"]
    assert (finding["line"], finding["column"], finding["file"]) == (3, 34, mixed.file("20-broken.conflist"))
    # A file outside the config dirs.
    outside = write(mixed.conf.parent / "elsewhere.json", {"cniVersion": "1.0.0", "name": "e", "type": "modern"})
    run = cnitool("validate", "-o", "json", str(outside), env=mixed.env())
    assert run.returncode == 0, run
    assert run.json()["networks"] == ["e"]


def test_validate_network_argument(cnitool, mixed: Setup) -> None:
    """A name: every file defining it (the winner and the shadowed), nothing else."""
    run = cnitool("validate", "-o", "json", "good", env=mixed.env())
    assert run.returncode == 0, run  # only the duplicate warning
    document = run.json()
    assert document["networks"] == ["good"]
    assert [f["file"] for f in document["findings"]] == [mixed.file("05-good.conf")]
    run = cnitool("validate", "-o", "json", "invalid", env=mixed.env())
    assert run.returncode == 2, run
    assert [f["file"] for f in run.json()["findings"]] == [mixed.file("30-invalid.conflist")]


def test_load_04_validate_unknown_network(cnitool, mixed: Setup) -> None:
    run = cnitool("validate", "-o", "json", "nope", env=mixed.env())
    assert run.returncode == 2, run
    first, *rest = run.json()["findings"]
    assert first == {"severity": "error", "file": None, "network": "nope", "plugin": None,
                     "message": f'no net configuration with name "nope" in {mixed.conf}', "line": None, "column": None}
    # LOAD-05: a file too broken to tell its name might be the one meant.
    assert [f["file"] for f in rest] == [mixed.file("20-broken.conflist")]


def test_val_02_validate_invalid_name_argument(cnitool, mixed: Setup) -> None:
    run = cnitool("validate", "-o", "json", "bad name", env=mixed.env())  # with a "/" it would be a file path
    assert run.returncode == 2, run
    [finding] = run.json()["findings"]
    assert finding["message"] == 'invalid characters found in network name "bad name"'


def test_validate_directory_argument(cnitool, mixed: Setup, setup: Setup) -> None:
    other = mixed.conf.parent / "other"
    write(other / "x.conflist", conflist("x", {"type": "modern"}))
    run = cnitool("validate", "-o", "json", str(other), env=mixed.env())
    assert run.returncode == 0, run
    assert run.json()["networks"] == ["x"]


def test_val_04_names_versions_and_reserved_keys(cnitool, setup: Setup) -> None:
    write(setup.conf / "a.conflist", conflist(
        "bad name",
        {"type": "modern", "prevResult": {"cniVersion": "1.0.0"}, "runtimeConfig": {"mac": "x"},
         "args": {"cni": {"ips": []}}, "cni.dev/valid-attachments": [], "capabilities": {"mac": True}},
        {"type": "../evil"},
        {"type": "modern", "ipam": {"type": "a/b"}},
        version="1.0.1",
    ))
    write(setup.conf / "b.conflist", conflist("b", {"type": "modern"}, version=None))
    run = cnitool("validate", "-o", "json", env=setup.env())
    assert run.returncode == 2, run
    got = {(f["severity"], f["network"], f["plugin"], f["message"]) for f in run.json()["findings"]}
    expected = {
        ("error", "bad name", None, 'invalid characters found in network name "bad name"'),  # VAL-02
        ("warning", "bad name", None, '"cniVersion" 1.0.1 is not a CNI spec version '
                                      "(0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0); it is passed to plugins as written"),
        ("error", "bad name", "modern", "plugins[0]: \"prevResult\" is set by the runtime from the previous plugin's "
                                        "result; a static one reaches this plugin's ADD as if it were chained"),
        ("warning", "bad name", "modern", 'plugins[0]: "runtimeConfig" is reserved: the runtime generates it at '
                                          "execution time and it should not be used in configuration (SPEC.md)"),
        ("warning", "bad name", "modern", 'plugins[0]: "args" is reserved: the runtime generates it at '
                                          "execution time and it should not be used in configuration (SPEC.md)"),
        ("warning", "bad name", "modern", 'plugins[0]: "cni.dev/valid-attachments": keys starting with "cni.dev/" '
                                          "are reserved for the runtime (SPEC.md)"),
        ("error", "bad name", "../evil", 'plugins[1]: invalid plugin type "../evil": it must be a plain file name'),  # VAL-04
        ("error", "bad name", "modern", 'plugins[2].ipam: invalid plugin type "a/b": it must be a plain file name'),
        ("error", "bad name", "modern", "does not support the network's cniVersion 1.0.1 "
                                        "(it supports 0.3.1, 0.4.0, 1.0.0, 1.1.0)"),
        ("warning", "b", None, 'no "cniVersion": plugins are called with an empty version, which means 0.1.0'),
        ("error", "b", "modern", "does not support the network's cniVersion 0.1.0 "
                                 "(it supports 0.3.1, 0.4.0, 1.0.0, 1.1.0)"),
    }
    assert got == expected


def test_ver_04_ver_05_plugin_without_version_command(cnitool, setup: Setup) -> None:
    """A plugin that predates VERSION supports 0.1.0 only: fine for a 0.1.0 network, not for 1.0.0."""
    write_plugin(setup.bin, "ancient", """echo '{"code":4,"msg":"unknown CNI_COMMAND: VERSION"}'\nexit 1\n""")
    write(setup.conf / "a.conflist", conflist("a", {"type": "ancient"}, version="0.1.0"))
    write(setup.conf / "b.conflist", conflist("b", {"type": "ancient"}, version="1.0.0"))
    run = cnitool("validate", "-o", "json", env=setup.env())
    assert run.returncode == 2, run
    assert [(f["network"], f["message"]) for f in run.json()["findings"]] == [
        ("b", "does not support the network's cniVersion 1.0.0 (it supports 0.1.0)")]


def test_ver_03_ver_05_uses_the_effective_version(cnitool, setup: Setup) -> None:
    """cniVersions raises the network to 1.0.0, which legacy does not support."""
    write(setup.conf / "a.conflist", conflist("a", {"type": "legacy"}, version="0.4.0", cniVersions=["1.0.0", "0.4.0"]))
    run = cnitool("validate", "-o", "json", env=setup.env())
    [finding] = run.json()["findings"]
    assert "cniVersion 1.0.0" in finding["message"] and finding["plugin"] == "legacy"


def test_validate_plugin_that_cannot_answer_or_run(cnitool, setup: Setup) -> None:
    write_plugin(setup.bin, "garbage", "echo nonsense\n")
    write_plugin(setup.bin, "noexec", "exit 0\n", mode=0o644)
    write(setup.conf / "a.conflist", conflist("a", {"type": "garbage"}, {"type": "noexec"}))
    run = cnitool("validate", "-o", "json", env=setup.env())
    assert run.returncode == 2, run
    garbage, noexec = run.json()["findings"]
    assert garbage["severity"] == "warning" and garbage["plugin"] == "garbage"
    assert garbage["message"].startswith("cannot check that it supports version 1.0.0: VERSION failed:")
    assert noexec["severity"] == "error" and noexec["plugin"] == "noexec"
    assert "is not executable" in noexec["message"]


def test_validate_in_process_returns_exit_status(mixed: Setup) -> None:
    """main() with an injected App: the same document, the exit status returned."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    status = main(["validate", "-o", "json"], app=App(stdout=out, stderr=err, environ=mixed.env()))
    assert status == 2, err.getvalue()
    assert json.loads(out.getvalue())["networks"] == ["good", "old", "missing"]
    assert err.getvalue() == ""


def test_load_04_validate_empty_or_missing_directory_is_an_error(cnitool, tmp_path: Path) -> None:
    """Nothing to check means a wrong NETCONFPATH, not a clean configuration."""
    run = cnitool("validate", "-o", "json", env={"NETCONFPATH": f"{tmp_path}:{tmp_path / 'missing'}"})
    assert run.returncode == 2, run
    assert [f["message"] for f in run.json()["findings"]] == [
        f"no net configurations found in {tmp_path}:{tmp_path / 'missing'}"]


@pytest.mark.skipif(not Path("/usr/lib/cni/bridge").exists(), reason="reference plugins not installed")
def test_ver_05_against_the_reference_plugins(cnitool, setup: Setup) -> None:
    """The Debian reference plugins support up to 1.0.0: a 1.0.0 chain is clean, 1.1.0 is not."""
    chain = ({"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.9.0.0/24"}},
             {"type": "portmap", "capabilities": {"portMappings": True}})
    write(setup.conf / "a.conflist", conflist("ref10", *chain, version="1.0.0"))
    write(setup.conf / "b.conflist", conflist("ref11", *chain, version="1.1.0"))
    run = cnitool("validate", "-o", "json", env={"NETCONFPATH": str(setup.conf), "CNI_PATH": "/usr/lib/cni"})
    assert run.returncode == 2, run
    unsupported = {(f["network"], f["plugin"]) for f in run.json()["findings"]
                   if "does not support the network's cniVersion 1.1.0" in f["message"]}
    assert unsupported == {("ref11", "bridge"), ("ref11", "host-local (ipam of bridge)"), ("ref11", "portmap")}
    assert len(run.json()["findings"]) == 3  # nothing about ref10
