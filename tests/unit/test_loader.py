"""Config discovery and parsing: conformance LOAD-01 … LOAD-12, VER-02/VER-03 as loading applies them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cnitool.core.errors import ConfigError, ExitCode, NetworkNotFound
from cnitool.core.loader import (
    Discovery,
    LoadProblem,
    config_files,
    discover,
    find_network,
    load_file,
    load_network_bytes,
)

# --- helpers ---------------------------------------------------------------------------------


def conflist(name: str, *types: str, **extra: Any) -> dict[str, Any]:
    """A configuration list with one plugin object per type."""
    return {"cniVersion": "1.0.0", "name": name, **extra, "plugins": [{"type": t} for t in types]}


def single(name: str, plugin_type: str = "bridge", **extra: Any) -> dict[str, Any]:
    return {"cniVersion": "1.0.0", "name": name, "type": plugin_type, **extra}


def write(directory: Path, filename: str, content: dict[str, Any] | str) -> Path:
    """Write a JSON object (or raw text) into ``directory/filename``, creating the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return path


def types_of(network: Any) -> list[str]:
    return [plugin.type for plugin in network.plugins]


# --- LOAD-01: several directories, searched in order ------------------------------------------


def test_load_01_first_directory_holding_the_name_wins(tmp_path: Path) -> None:
    # Decision: like PATH. A .conf in an earlier directory beats a .conflist in a later one.
    write(tmp_path / "a", "50-x.conf", single("net", "from-a"))
    write(tmp_path / "b", "10-x.conflist", conflist("net", "from-b"))
    network, _ = find_network("net", [str(tmp_path / "a"), str(tmp_path / "b")])
    assert types_of(network) == ["from-a"]


def test_load_01_later_directory_is_searched_when_earlier_lacks_the_name(tmp_path: Path) -> None:
    write(tmp_path / "a", "10.conflist", conflist("other", "x"))
    write(tmp_path / "b", "10.conflist", conflist("net", "from-b"))
    network, warnings = find_network("net", [str(tmp_path / "missing"), str(tmp_path / "a"), str(tmp_path / "b")])
    assert types_of(network) == ["from-b"]
    assert network.source == str(tmp_path / "b" / "10.conflist")
    assert warnings == []


def test_load_01_config_files_lists_directories_in_the_given_order(tmp_path: Path) -> None:
    write(tmp_path / "a", "z.conf", single("z"))
    write(tmp_path / "b", "a.conf", single("a"))
    files = config_files([str(tmp_path / "a"), str(tmp_path / "nope"), str(tmp_path / "b")])
    assert files == [str(tmp_path / "a" / "z.conf"), str(tmp_path / "b" / "a.conf")]


# --- LOAD-02: which files, in which order ------------------------------------------------------


def test_load_02_only_regular_files_with_exact_extensions_sorted_bytewise(tmp_path: Path) -> None:
    for name in ["b.conf", "B.conflist", "a.json", "c.CONF", "d.conf.bak", "e.txt", "conf", "é.conf", "Z.json"]:
        write(tmp_path, name, single(name))
    (tmp_path / "dir.conflist").mkdir()
    os.mkfifo(tmp_path / "fifo.conf")
    os.symlink(tmp_path / "b.conf", tmp_path / "link.conf")
    names = [Path(p).name for p in config_files([str(tmp_path)])]
    assert names == ["B.conflist", "Z.json", "a.json", "b.conf", "link.conf", "é.conf"]


def test_load_02_a_directory_that_cannot_be_listed_is_a_config_error(tmp_path: Path) -> None:
    not_a_dir = write(tmp_path, "10.conflist", conflist("n", "x"))
    with pytest.raises(ConfigError, match="cannot read configuration directory .*10.conflist"):
        config_files([str(not_a_dir)])


# --- LOAD-03: lookup precedence ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "winner"),
    [
        # A .conflist beats a .conf of the same name whatever the file names.
        ({"00-a.conf": single("net", "conf"), "99-z.conflist": conflist("net", "list")}, "list"),
        ({"00-a.json": single("net", "json"), "99-z.conflist": conflist("net", "list")}, "list"),
        # Among lists, the first file name in byte order.
        ({"20.conflist": conflist("net", "second"), "10.conflist": conflist("net", "first")}, "first"),
        ({"a.conflist": conflist("net", "lower"), "B.conflist": conflist("net", "upper")}, "upper"),
        # .conf and .json are sorted together.
        ({"b.conf": single("net", "conf"), "a.json": single("net", "json")}, "json"),
        ({"a.conf": single("net", "conf"), "b.json": single("net", "json")}, "conf"),
    ],
)
def test_load_03_conflist_beats_conf(tmp_path: Path, files: dict[str, Any], winner: str) -> None:
    for filename, content in files.items():
        write(tmp_path, filename, content)
    network, _ = find_network("net", [str(tmp_path)])
    assert types_of(network) == [winner]


def test_load_03_files_of_other_networks_are_passed_over(tmp_path: Path) -> None:
    write(tmp_path, "10.conflist", conflist("other", "x"))
    write(tmp_path, "20.conf", single("net", "wanted"))
    network, _ = find_network("net", [str(tmp_path)])
    assert network.name == "net"
    assert types_of(network) == ["wanted"]


# --- LOAD-04: not-found messages ----------------------------------------------------------------


def test_load_04_not_found_names_network_and_directory(tmp_path: Path) -> None:
    write(tmp_path, "10.conflist", conflist("other", "x"))
    with pytest.raises(NetworkNotFound) as caught:
        find_network("net", [str(tmp_path)])
    assert caught.value.msg == f'no net configuration with name "net" in {tmp_path}'
    assert caught.value.details == ""
    assert caught.value.exit_code == ExitCode.ENVIRONMENT


@pytest.mark.parametrize("setup", ["missing", "empty", "unrelated files"])
def test_load_04_no_configs_found(tmp_path: Path, setup: str) -> None:
    directory = tmp_path / "net.d"
    if setup != "missing":
        directory.mkdir()
    if setup == "unrelated files":
        write(directory, "README.md", "hello")
        (directory / "sub.conflist").mkdir()
    with pytest.raises(NetworkNotFound) as caught:
        find_network("net", [str(directory)])
    assert caught.value.msg == f"no net configurations found in {directory}"


def test_load_04_several_directories_are_named_as_in_netconfpath(tmp_path: Path) -> None:
    dirs = [str(tmp_path / "a"), str(tmp_path / "b")]
    with pytest.raises(NetworkNotFound, match=f"^no net configurations found in {dirs[0]}:{dirs[1]}$"):
        find_network("net", dirs)
    write(tmp_path / "b", "1.conf", single("other"))
    with pytest.raises(NetworkNotFound, match=f'^no net configuration with name "net" in {dirs[0]}:{dirs[1]}$'):
        find_network("net", dirs)


# --- LOAD-05: broken files do not hide other networks -------------------------------------------


def test_load_05_broken_files_are_skipped_with_warnings(tmp_path: Path) -> None:
    write(tmp_path, "00-bad.conflist", '{\n  "name": "x",\n  "plugins": [,]\n}')
    write(tmp_path, "01-noname.conflist", {"plugins": [{"type": "x"}]})
    write(tmp_path, "02-good.conflist", conflist("net", "bridge"))
    network, warnings = find_network("net", [str(tmp_path)])
    assert types_of(network) == ["bridge"]
    assert warnings == [
        f"skipped {tmp_path}/00-bad.conflist:3:15: invalid JSON: Expecting value\n"
        '      "plugins": [,]\n'
        "                  ^",
        f'skipped {tmp_path}/01-noname.conflist: no "name"',
    ]


def test_load_05_not_found_lists_files_that_could_not_be_loaded(tmp_path: Path) -> None:
    write(tmp_path, "00-bad.conf", "{oops}")
    write(tmp_path, "01-noname.conf", {"type": "bridge"})
    os.symlink(tmp_path / "gone", tmp_path / "02-dangling.conflist")
    with pytest.raises(NetworkNotFound) as caught:
        find_network("net", [str(tmp_path)])
    assert caught.value.msg == f'no net configuration with name "net" in {tmp_path}'
    assert caught.value.details == (
        f"could not load:\n{tmp_path}/02-dangling.conflist: cannot read: No such file or directory\n"
        f"{tmp_path}/00-bad.conf:1:2: invalid JSON: Expecting property name enclosed in double quotes\n"
        "    {oops}\n"
        "     ^\n"
        f'{tmp_path}/01-noname.conf: no "name"'
    )
    assert caught.value.exit_code == ExitCode.ENVIRONMENT


def test_load_05_unreadable_directory_does_not_hide_the_next(tmp_path: Path) -> None:
    not_a_dir = write(tmp_path, "file", "x")
    write(tmp_path / "b", "1.conflist", conflist("net", "bridge"))
    network, warnings = find_network("net", [str(not_a_dir), str(tmp_path / "b")])
    assert types_of(network) == ["bridge"]
    assert warnings == [f"skipped {not_a_dir}: cannot read directory: Not a directory"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"name": "net", "plugins": [{"bridge": "cni0"}]}, "plugins[0]: missing 'type'"),
        ({"name": "net", "disableCheck": "yes", "plugins": [{"type": "x"}]}, '"disableCheck": invalid value "yes"'),
        ({"name": "net", "plugins": [{"type": "x", "ipam": "host-local"}]}, '"plugins[0].ipam" must be an object'),
    ],
)
def test_load_05_matching_but_invalid_file_is_that_networks_error(
    tmp_path: Path, content: dict[str, Any], message: str
) -> None:
    write(tmp_path, "10.conflist", content)
    write(tmp_path, "20.conflist", conflist("net", "never-reached"))
    with pytest.raises(ConfigError) as caught:
        find_network("net", [str(tmp_path)])
    assert str(caught.value).startswith(f"{tmp_path}/10.conflist: ")
    assert message in str(caught.value)
    assert caught.value.exit_code == ExitCode.INVALID


def test_load_05_invalid_file_of_another_network_is_ignored_by_lookup(tmp_path: Path) -> None:
    write(tmp_path, "10.conflist", {"name": "other", "plugins": [{"notype": 1}]})
    write(tmp_path, "20.conflist", conflist("net", "bridge"))
    network, warnings = find_network("net", [str(tmp_path)])
    assert types_of(network) == ["bridge"]
    assert warnings == []


def test_load_05_discover_reports_every_broken_file(tmp_path: Path) -> None:
    write(tmp_path, "10.conflist", conflist("good", "bridge"))
    write(tmp_path, "20.conflist", "[1, 2]")
    write(tmp_path, "30.conflist", {"name": "notype", "plugins": [{}]})
    write(tmp_path, "40.conf", '{"name": "x",\n"type": "y",}')
    write(tmp_path, "50.json", single("single"))
    found = discover([str(tmp_path), str(tmp_path / "missing")])
    assert isinstance(found, Discovery)
    assert [n.name for n in found.networks] == ["good", "single"]
    assert [(Path(p.path).name, p.message, p.line, p.column) for p in found.problems] == [
        ("20.conflist", "a network configuration must be a JSON object, not array", None, None),
        ("30.conflist", "plugins[0]: missing 'type'", None, None),
        ("40.conf", "invalid JSON: Expecting property name enclosed in double quotes", 2, 13),
    ]


def test_load_05_discover_lists_networks_in_lookup_order_and_flags_duplicates(tmp_path: Path) -> None:
    write(tmp_path / "a", "00.conf", single("dup", "conf"))
    write(tmp_path / "a", "99.conflist", conflist("dup", "list"))
    write(tmp_path / "b", "00.conflist", conflist("dup", "later-dir"))
    found = discover([str(tmp_path / "a"), str(tmp_path / "b")])
    assert [types_of(n) for n in found.networks] == [["list"], ["conf"], ["later-dir"]]
    winner = str(tmp_path / "a" / "99.conflist")
    assert found.warnings == (
        f'{tmp_path}/a/00.conf: network "dup" is also defined in {winner}, which is the one used',
        f'{tmp_path}/b/00.conflist: network "dup" is also defined in {winner}, which is the one used',
    )
    assert find_network("dup", [str(tmp_path / "a"), str(tmp_path / "b")])[0].source == winner


def test_load_05_discover_reports_unreadable_directory(tmp_path: Path) -> None:
    not_a_dir = write(tmp_path, "f", "x")
    found = discover([str(not_a_dir)])
    assert found.networks == ()
    assert found.problems == (LoadProblem(str(not_a_dir), "cannot read directory: Not a directory", None, None, None),)


# --- LOAD-06: strict JSON with positions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ('{\n  // comment\n  "name": "n"\n}', 2, 3, "invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"name": "n", /* c */ "type": "x"}', 1, 15, "invalid JSON: Expecting property name enclosed in double quotes"),
        ('{\n  "name": "n",\n  "type": "x",\n}', 4, 1, "invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"name": "n", "plugins": [{"type": "x"},]}', 1, 41, "invalid JSON: Expecting value"),
        ("{'name': 'n'}", 1, 2, "invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"name": "n", "mtu": NaN}', 1, 22, "NaN is not valid JSON"),
        ('{"name": "NaN",\n "x": [1, Infinity]}', 2, 11, "Infinity is not valid JSON"),
        ('{"s": "a\\"-Infinity", "x": -Infinity}', 1, 28, "-Infinity is not valid JSON"),
        ('{"a": 1e999, "b": 1e999}', 1, 7, "number 1e999 is out of range"),
        ('{"a": 11e999}', 1, 7, "number 11e999 is out of range"),
        # 0.1e309 fits a float64; the "1e309" inside it is not the culprit.
        ('{"a": 0.1e309, "b": 1e309}', 1, 21, "number 1e309 is out of range"),
        ("", 1, 1, "invalid JSON: Expecting value"),
        ('{"name": "n"} {}', 1, 15, "invalid JSON: Extra data"),
    ],
)
def test_load_06_strict_json_errors_carry_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, message: str
) -> None:
    write(tmp_path, "10.conflist", text)
    write(tmp_path, "20.conflist", conflist("net", "bridge"))
    found = discover([str(tmp_path)])
    (problem,) = found.problems
    assert (problem.message, problem.line, problem.column) == (message, line, column)
    assert problem.source_line == text.split("\n")[line - 1]
    assert [n.name for n in found.networks] == ["net"]


def test_load_06_problem_text_shows_file_position_and_offending_line() -> None:
    problem = LoadProblem("/etc/cni/net.d/10.conflist", "invalid JSON: Expecting value", 3, 6, '\t"a": ,')
    assert str(problem) == '/etc/cni/net.d/10.conflist:3:6: invalid JSON: Expecting value\n    \t"a": ,\n    \t    ^'
    assert str(LoadProblem("/x.conf", 'no "name"', None, None, None)) == '/x.conf: no "name"'


def test_load_06_long_lines_are_cut_around_the_column() -> None:
    line = "x" * 300 + "!" + "y" * 300
    text = str(LoadProblem("f", "bad", 1, 301, line))
    excerpt, caret = text.split("\n")[1:]
    assert len(excerpt) == 4 + 102  # indent, two ellipses, 100 characters
    assert excerpt[caret.index("^")] == "!"


def test_load_06_error_for_a_file_given_directly_shows_position(tmp_path: Path) -> None:
    path = write(tmp_path, "x.conflist", '{"name": "n",\n "plugins": [}')
    with pytest.raises(ConfigError) as caught:
        load_file(str(path))
    assert str(caught.value) == f'{path}:2:14: invalid JSON: Expecting value\n     "plugins": [}}\n                 ^'


def test_load_06_utf8_bom_is_rejected_like_go(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^-:1:1: invalid JSON: Unexpected UTF-8 BOM"):
        load_network_bytes(b"\xef\xbb\xbf" + json.dumps(conflist("n", "x")).encode(), source="-", is_list=True)


# --- LOAD-07: list structure ----------------------------------------------------------------------


def test_load_07_valid_list(tmp_path: Path) -> None:
    path = write(tmp_path, "10.conflist", conflist("net", "bridge", "portmap"))
    network, warnings = load_file(str(path))
    assert (network.name, network.cni_version, network.cni_versions) == ("net", "1.0.0", None)
    assert types_of(network) == ["bridge", "portmap"]
    assert network.raw_bytes == path.read_bytes()
    assert (network.disable_check, network.disable_gc, network.load_only_inlined_plugins) == (False, False, False)
    assert network.source == str(path)
    assert warnings == []


def test_load_07_cni_version_is_optional() -> None:
    network, _ = load_network_bytes(b'{"name": "n", "plugins": [{"type": "x"}]}', source="-", is_list=True)
    assert network.cni_version == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"plugins": [{"type": "x"}]}, 'no "name"'),
        ({"name": 5, "plugins": [{"type": "x"}]}, '"name" must be a string, not number'),
        ({"name": "", "plugins": [{"type": "x"}]}, '"name" is empty'),
        ({"name": "n", "cniVersion": 1.0, "plugins": [{"type": "x"}]}, '"cniVersion" must be a string, not number'),
        ({"name": "n", "cniVersion": None, "plugins": [{"type": "x"}]}, '"cniVersion" must be a string, not null'),
        ({"name": "n", "plugins": {"type": "x"}}, '"plugins" must be an array, not object'),
        ({"name": "n", "plugins": None}, '"plugins" must be an array, not null'),
        ({"name": "n", "plugins": []}, "no plugins in list"),
        ({"name": "n", "plugins": ["bridge"]}, '"plugins[0]" must be an object, not string'),
        ({"name": "n", "plugins": [{"type": "x"}, {"type": ""}]}, "plugins[1]: missing 'type'"),
        ({"name": "n", "plugins": [{"type": None}]}, "plugins[0]: missing 'type'"),
        ({"name": "n", "plugins": [{"type": ["x"]}]}, '"plugins[0].type" must be a string, not array'),
        ({"name": "n", "plugins": [{"type": "x", "name": 1}]}, '"plugins[0].name" must be a string, not number'),
        ({"name": "n", "plugins": [{"type": "x", "cniVersion": True}]}, '"plugins[0].cniVersion" must be a string, not boolean'),
    ],
)
def test_load_07_wrong_structure_names_key_and_type(content: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_network_bytes(json.dumps(content).encode(), source="net.conflist", is_list=True)
    assert str(caught.value) == f"net.conflist: {message}"


# --- LOAD-08: boolean flags -----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["disableCheck", "disableGC", "loadOnlyInlinedPlugins"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("TRUE", True), ("True", True), ("False", False), ("fAlSe", False)],
)
def test_load_08_flag_spellings(key: str, value: object, expected: bool) -> None:
    content = conflist("n", "x") | {key: value}
    network, _ = load_network_bytes(json.dumps(content).encode(), source="-", is_list=True)
    flags = {
        "disableCheck": network.disable_check,
        "disableGC": network.disable_gc,
        "loadOnlyInlinedPlugins": network.load_only_inlined_plugins,
    }
    assert flags == {k: (expected if k == key else False) for k in flags}


@pytest.mark.parametrize("key", ["disableCheck", "disableGC", "loadOnlyInlinedPlugins"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yes", ': invalid value "yes", expected true or false'),
        ("", ': invalid value "", expected true or false'),
        (" true", ': invalid value " true", expected true or false'),
        (1, ' must be a boolean or the string "true" or "false", not number'),
        (None, ' must be a boolean or the string "true" or "false", not null'),
    ],
)
def test_load_08_bad_flag_names_key_and_value(key: str, value: object, message: str) -> None:
    content = conflist("n", "x") | {key: value}
    with pytest.raises(ConfigError) as caught:
        load_network_bytes(json.dumps(content).encode(), source="-", is_list=True)
    assert str(caught.value) == f'-: "{key}"{message}'


# --- LOAD-09: plugin keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        ({"capabilities": ["portMappings"]}, '"plugins[0].capabilities" must be an object, not array'),
        ({"capabilities": {"portMappings": "yes"}}, '"plugins[0].capabilities.portMappings" must be a boolean, not string'),
        ({"ipam": "host-local"}, '"plugins[0].ipam" must be an object, not string'),
        ({"ipam": {"type": 7}}, '"plugins[0].ipam.type" must be a string, not number'),
        ({"dns": ["8.8.8.8"]}, '"plugins[0].dns" must be an object, not array'),
        ({"dns": {"nameservers": "8.8.8.8"}}, '"plugins[0].dns.nameservers" must be an array, not string'),
        ({"dns": {"search": ["a", 1]}}, '"plugins[0].dns.search[1]" must be a string, not number'),
        ({"dns": {"domain": ["a"]}}, '"plugins[0].dns.domain" must be a string, not array'),
        ({"dns": {"options": {}}}, '"plugins[0].dns.options" must be an array, not object'),
        ({"prevResult": "x"}, '"plugins[0].prevResult" must be an object, not string'),
    ],
)
def test_load_09_plugin_keys_are_type_checked(plugin: dict[str, Any], message: str) -> None:
    content = {"name": "n", "plugins": [{"type": "x", **plugin}]}
    with pytest.raises(ConfigError) as caught:
        load_network_bytes(json.dumps(content).encode(), source="-", is_list=True)
    assert str(caught.value) == f"-: {message}"


def test_load_09_well_typed_and_unknown_keys_are_kept_as_written() -> None:
    plugin = {
        "zeta": {"nested": [1, 2.5, None, "s"]},
        "type": "bridge",
        "ipam": {},
        "dns": {"nameservers": ["10.0.0.1", None], "domain": None},
        "capabilities": {"portMappings": True, "ips": None},
        "name": None,
        "alpha": 1,
    }
    data = json.dumps({"name": "n", "plugins": [plugin]}).encode()
    network, _ = load_network_bytes(data, source="-", is_list=True)
    raw = network.plugins[0].raw
    assert raw == plugin
    assert list(raw) == list(plugin)  # key order of the file
    assert isinstance(raw["alpha"], int)


# --- LOAD-10: single-plugin files ----------------------------------------------------------------

# The .conf below, as libcni's ConfListFromConf caches it: Go re-marshals the object decoded into
# interface{}: keys sorted at every level, numbers as float64 (1500.0 → 1500, 1e21 → 1e+21,
# 1e-7 → 1e-7, a 20-digit integer rounded), <, > and & escaped, other non-ASCII raw.
CONF_TEXT = """{
  "cniVersion": "1.0.0",
  "name": "dbnet",
  "type": "bridge",
  "mtu": 1500.0,
  "ipam": {"type": "host-local", "subnet": "10.1.0.0/16", "gateway": "10.1.0.1"},
  "big": 1e21,
  "tiny": 0.0000001,
  "small": 0.00001,
  "id": 12345678901234567890,
  "neg": -2.5e-10,
  "html": "<a&b>",
  "utf": "é\u2028"
}"""
CONF_GO_BYTES = (
    '{"cniVersion":"1.0.0","name":"dbnet","plugins":[{"big":1e+21,"cniVersion":"1.0.0",'
    '"html":"\\u003ca\\u0026b\\u003e","id":12345678901234567000,'
    '"ipam":{"gateway":"10.1.0.1","subnet":"10.1.0.0/16","type":"host-local"},'
    '"mtu":1500,"name":"dbnet","neg":-2.5e-10,"small":0.00001,"tiny":1e-7,"type":"bridge","utf":"é\\u2028"}]}'
).encode()


@pytest.mark.parametrize("filename", ["10-db.conf", "10-db.json"])
def test_load_10_single_plugin_file_becomes_a_list(tmp_path: Path, filename: str) -> None:
    write(tmp_path, filename, CONF_TEXT)
    network, warnings = find_network("dbnet", [str(tmp_path)])
    assert (network.name, network.cni_version, network.cni_versions) == ("dbnet", "1.0.0", None)
    assert len(network.plugins) == 1
    assert network.plugins[0].raw == json.loads(CONF_TEXT)  # the object unchanged
    assert list(network.plugins[0].raw) == list(json.loads(CONF_TEXT))
    assert network.raw_bytes == CONF_GO_BYTES
    assert warnings == []


def test_load_10_raw_bytes_without_cni_version_carry_an_empty_one() -> None:
    network, _ = load_network_bytes(b'{"type": "x", "name": "n", "a": [true, null]}', source="-", is_list=False)
    assert network.cni_version == ""
    assert network.raw_bytes == b'{"cniVersion":"","name":"n","plugins":[{"a":[true,null],"name":"n","type":"x"}]}'


def test_load_10_lone_surrogate_becomes_replacement_character_like_go() -> None:
    network, _ = load_network_bytes(b'{"type": "x", "name": "n", "s": "\\ud800"}', source="-", is_list=False)
    assert network.plugins[0].raw["s"] == "\ufffd"
    assert network.raw_bytes == '{"cniVersion":"","name":"n","plugins":[{"name":"n","s":"\ufffd","type":"x"}]}'.encode()


@pytest.mark.parametrize(
    ("number", "go_text"),
    [
        ("0", "0"),
        ("-0", "-0"),
        ("1.0", "1"),
        ("100", "100"),
        ("1e20", "100000000000000000000"),
        ("1e21", "1e+21"),
        ("-1.5e300", "-1.5e+300"),
        ("0.000001", "0.000001"),
        ("0.0000001", "1e-7"),
        ("1.5e-10", "1.5e-10"),
        ("0.1", "0.1"),
        ("123456789.125", "123456789.125"),
        ("9007199254740993", "9007199254740992"),
    ],
)
def test_load_10_raw_bytes_numbers_are_go_float64_text(number: str, go_text: str) -> None:
    data = f'{{"type": "x", "name": "n", "v": {number}}}'.encode()
    network, _ = load_network_bytes(data, source="-", is_list=False)
    assert network.raw_bytes == f'{{"cniVersion":"","name":"n","plugins":[{{"name":"n","type":"x","v":{go_text}}}]}}'.encode()


def test_load_10_single_plugin_file_needs_type(tmp_path: Path) -> None:
    write(tmp_path, "10.conf", {"cniVersion": "1.0.0", "name": "net", "bridge": "cni0"})
    with pytest.raises(ConfigError, match=r"10\.conf: missing 'type'$"):
        find_network("net", [str(tmp_path)])


@pytest.mark.parametrize("filename", ["10.conf", "10.json"])
def test_load_10_conf_holding_plugins_is_loaded_as_list_with_rename_hint(tmp_path: Path, filename: str) -> None:
    path = write(tmp_path, filename, conflist("net", "bridge", "portmap", disableCheck=True))
    network, warnings = find_network("net", [str(tmp_path)])
    assert types_of(network) == ["bridge", "portmap"]
    assert network.disable_check is True
    assert network.raw_bytes == path.read_bytes()
    (warning,) = warnings
    assert warning.startswith(f"{path}: ")
    assert "rename it to .conflist" in warning


def test_load_10_list_only_keys_in_a_conf_are_ignored_with_a_warning() -> None:
    data = json.dumps(single("n", disableCheck=True, cniVersions=["1.1.0"])).encode()
    network, warnings = load_network_bytes(data, source="x.conf", is_list=False)
    assert network.disable_check is False
    assert network.cni_versions is None
    assert network.version == "1.0.0"
    assert warnings == [
        "x.conf: cniVersions, disableCheck only take effect at the top level of a .conflist; "
        "in a single-plugin file they are passed to the plugin unread"
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"name": "n", "type": "x", "capabilities": {"a": 1}}, '"capabilities.a" must be a boolean, not number'),
        ({"name": "n", "type": "x", "cniVersion": 1}, '"cniVersion" must be a string, not number'),
        ({"name": "n", "type": 3}, '"type" must be a string, not number'),
    ],
)
def test_load_10_single_plugin_keys_are_type_checked(content: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_network_bytes(json.dumps(content).encode(), source="x.conf", is_list=False)
    assert str(caught.value) == f"x.conf: {message}"


# --- LOAD-11: plugins from the network's folder ---------------------------------------------------


def test_load_11_folder_plugins_are_appended_in_sorted_order(tmp_path: Path) -> None:
    path = write(tmp_path, "10.conflist", conflist("net", "bridge"))
    write(tmp_path / "net", "b.conf", {"type": "second"})
    write(tmp_path / "net", "a.conf", {"type": "first", "extra": 1})
    write(tmp_path / "net", "c.json", {"type": "ignored-json"})
    write(tmp_path / "net", "d.conflist", {"type": "ignored-conflist"})
    (tmp_path / "net" / "e.conf").mkdir()
    network, _ = find_network("net", [str(tmp_path)])
    assert types_of(network) == ["bridge", "first", "second"]
    assert network.plugins[1].raw == {"type": "first", "extra": 1}
    assert network.raw_bytes == path.read_bytes()  # libcni caches the list file's bytes only


def test_load_11_list_without_plugins_key_takes_all_from_folder(tmp_path: Path) -> None:
    write(tmp_path, "10.conflist", {"cniVersion": "1.0.0", "name": "net"})
    write(tmp_path / "net", "a.conf", {"type": "only"})
    network, _ = find_network("net", [str(tmp_path)])
    assert types_of(network) == ["only"]


def test_load_11_load_only_inlined_plugins_skips_folder(tmp_path: Path) -> None:
    write(tmp_path, "10.conflist", conflist("net", "bridge", loadOnlyInlinedPlugins="TRUE"))
    write(tmp_path / "net", "a.conf", {"type": "folder"})
    network, _ = find_network("net", [str(tmp_path)])
    assert types_of(network) == ["bridge"]
    assert network.load_only_inlined_plugins is True


def test_load_11_load_only_inlined_plugins_without_plugins_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "10.conflist", {"name": "net", "loadOnlyInlinedPlugins": True})
    write(tmp_path / "net", "a.conf", {"type": "folder"})
    with pytest.raises(ConfigError, match="`loadOnlyInlinedPlugins` is true, and no 'plugins' key"):
        find_network("net", [str(tmp_path)])


def test_load_11_list_ending_with_no_plugins_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "10.conflist", {"name": "net"})
    (tmp_path / "net").mkdir()
    with pytest.raises(ConfigError, match=r"10\.conflist: no plugin configs found$"):
        find_network("net", [str(tmp_path)])
    with pytest.raises(ConfigError, match="^-: no plugin configs found$"):
        load_network_bytes(b'{"name": "net"}', source="-", is_list=True)


@pytest.mark.parametrize(
    ("content", "message", "position"),
    [
        ("{\n  type: x\n}", "invalid JSON: Expecting property name enclosed in double quotes", ":2:3"),
        ('{"ipam": {}}', "missing 'type'", ""),
        ('"bridge"', "a network configuration must be a JSON object, not string", ""),
    ],
)
def test_load_11_broken_folder_plugin_is_the_networks_error(
    tmp_path: Path, content: str, message: str, position: str
) -> None:
    write(tmp_path, "10.conflist", conflist("net", "bridge"))
    bad = write(tmp_path / "net", "a.conf", content)
    with pytest.raises(ConfigError) as caught:
        find_network("net", [str(tmp_path)])
    assert str(caught.value).split("\n")[0] == f"{bad}{position}: {message}"
    (problem,) = discover([str(tmp_path)]).problems
    assert (problem.path, problem.message) == (str(bad), message)


def test_load_11_single_plugin_file_gets_no_folder_plugins(tmp_path: Path) -> None:
    write(tmp_path, "10.conf", single("net"))
    write(tmp_path / "net", "a.conf", {"type": "folder"})
    network, _ = find_network("net", [str(tmp_path)])
    assert types_of(network) == ["bridge"]


def test_load_11_folder_is_never_outside_the_conf_dir(tmp_path: Path) -> None:
    # A network named "." would otherwise read every .conf of the conf dir as its plugins.
    confdir = tmp_path / "net.d"
    write(confdir, "10.conflist", conflist(".", "bridge"))
    write(confdir, "20.conf", single("other", "not-a-plugin-of-dot"))
    write(tmp_path, "x.conf", {"type": "outside"})
    write(confdir, "30.conflist", conflist("../", "bridge"))
    assert types_of(find_network(".", [str(confdir)])[0]) == ["bridge"]
    assert types_of(find_network("../", [str(confdir)])[0]) == ["bridge"]


# --- LOAD-12: a config given directly ----------------------------------------------------------


def test_load_12_load_file_reads_list_with_its_folder(tmp_path: Path) -> None:
    path = write(tmp_path, "my.conflist", conflist("net", "bridge"))
    write(tmp_path / "net", "a.conf", {"type": "folder"})
    network, _ = load_file(str(path))
    assert types_of(network) == ["bridge", "folder"]


def test_load_12_load_file_single_plugin(tmp_path: Path) -> None:
    path = write(tmp_path, "my.conf", CONF_TEXT)
    network, _ = load_file(str(path))
    assert network.raw_bytes == CONF_GO_BYTES


@pytest.mark.parametrize(("content", "kind"), [(conflist("net", "bridge"), "list"), (single("net"), "single")])
def test_load_12_unknown_extension_is_decided_by_content(tmp_path: Path, content: dict[str, Any], kind: str) -> None:
    path = write(tmp_path, "net.txt", content)
    network, _ = load_file(str(path))
    assert types_of(network) == ["bridge"]
    assert (network.raw_bytes == path.read_bytes()) is (kind == "list")


def test_load_12_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NetworkNotFound, match="cannot read network configuration .*nope.conflist: No such file"):
        load_file(str(tmp_path / "nope.conflist"))


@pytest.mark.parametrize(
    ("data", "is_list", "types"),
    [
        (json.dumps(conflist("n", "a", "b")).encode(), None, ["a", "b"]),
        (json.dumps(single("n", "c")).encode(), None, ["c"]),
        (json.dumps(conflist("n", "a")).encode(), True, ["a"]),
        (json.dumps(single("n", "c")).encode(), False, ["c"]),
    ],
)
def test_load_12_stdin_bytes(data: bytes, is_list: bool | None, types: list[str]) -> None:
    network, warnings = load_network_bytes(data, source="-", is_list=is_list)
    assert types_of(network) == types
    assert network.source == "-"
    assert warnings == []


def test_load_12_stdin_single_without_type_is_an_error() -> None:
    with pytest.raises(ConfigError, match="^-: missing 'type'$"):
        load_network_bytes(b'{"name": "n"}', source="-", is_list=None)


# --- VER-02 / VER-03 when loading -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "is_list", "message"),
    [
        (conflist("n", "x") | {"cniVersion": "one"}, True, '"cniVersion": invalid version "one"'),
        (conflist("n", "x") | {"cniVersion": "1.0.0.0"}, True, '"cniVersion": invalid version "1.0.0.0"'),
        (single("n") | {"cniVersion": "v1"}, False, '"cniVersion": invalid version "v1"'),
        (conflist("n", "x") | {"cniVersions": ["1.0.0", "x.y"]}, True, '"cniVersions[1]": invalid version "x.y"'),
        (conflist("n", "x") | {"cniVersions": "1.0.0"}, True, '"cniVersions" must be an array, not string'),
        (conflist("n", "x") | {"cniVersions": [1]}, True, '"cniVersions[0]" must be a string, not number'),
    ],
)
def test_ver_02_garbage_version_is_an_error_naming_it(content: dict[str, Any], is_list: bool, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_network_bytes(json.dumps(content).encode(), source="-", is_list=is_list)
    assert str(caught.value).startswith(f"-: {message}")


@pytest.mark.parametrize("version", ["1.0.1", "2.0.0", "1.0", ""])
def test_ver_02_well_formed_unknown_version_loads_as_written(version: str) -> None:
    network, _ = load_network_bytes(json.dumps(conflist("n", "x", cniVersion=version)).encode(), source="-", is_list=True)
    assert network.cni_version == version
    assert network.version == version


@pytest.mark.parametrize(
    ("cni_version", "cni_versions", "effective"),
    [
        ("0.4.0", ["1.0.0", "1.1.0"], "1.1.0"),
        ("1.1.0", ["0.3.1"], "1.1.0"),
        ("1.0.0", ["2.0.0", "1.1.1"], "1.0.0"),
        ("9.0.0", ["2.0.0"], "9.0.0"),
        ("0.3.1", [], "0.3.1"),
        ("1.0", ["0.4.0"], "1.0"),
    ],
)
def test_ver_03_cni_versions_picks_highest_supported(cni_version: str, cni_versions: list[str], effective: str) -> None:
    content = conflist("n", "x") | {"cniVersion": cni_version, "cniVersions": cni_versions}
    network, _ = load_network_bytes(json.dumps(content).encode(), source="-", is_list=True)
    assert network.cni_versions == tuple(cni_versions)
    assert network.cni_version == cni_version
    assert network.version == effective


def test_ver_03_cni_versions_without_cni_version() -> None:
    content = {"name": "n", "cniVersions": ["0.3.1", "1.0.0"], "plugins": [{"type": "x"}]}
    network, _ = load_network_bytes(json.dumps(content).encode(), source="-", is_list=True)
    assert (network.cni_version, network.version) == ("", "1.0.0")
