"""GC, STATUS and VERSION against a fake runner: what runs, in which order, with which stdin and env.

GC-01, GC-02, STATUS-01, VER-04 (and the request configs REQ-05, REQ-06 and environments EXEC-03
they depend on). No process is started: ``FakeRunner`` records every invocation.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cnitool.core.api import Cni
from cnitool.core.cache import CacheEntry
from cnitool.core.errors import CniError, InvalidResult, PluginFailed
from cnitool.core.gc import collect_garbage
from cnitool.core.status import network_status
from cnitool.core.versioninfo import plugin_versions
from unit_fakes import FakeRunner, default_result, fail, make_network, network_bytes, ok

PLUGIN_DIRS = "/opt/cni/bin:/usr/lib/cni"
EMPTY_ATTACHMENT_ENV = {
    "CNI_CONTAINERID": "",
    "CNI_NETNS": "",
    "CNI_IFNAME": "",
    "CNI_ARGS": "",
    "CNI_PATH": PLUGIN_DIRS,
}
LIVE = "/var/run/netns/live"
DEAD = "/var/run/netns/dead"


def cache_entry(
    container_id: str,
    *,
    network: str = "net1",
    ifname: str = "eth0",
    netns: str = DEAD,
    config: bytes | None = None,
    version: str = "1.0.0",
    cni_args: tuple[tuple[str, str], ...] = (),
    capability_args: dict[str, Any] | None = None,
) -> CacheEntry:
    if config is None:
        config = network_bytes([{"type": "cached"}], name=network, version=version)
    return CacheEntry(
        network_name=network,
        container_id=container_id,
        ifname=ifname,
        config=config,
        result=default_result(version, "10.1.0.5/24"),
        netns=netns,
        cni_args=cni_args,
        capability_args=capability_args or {},
    )


def cached_files(cni: Cni) -> list[str]:
    try:
        return sorted(name for name in os.listdir(cni.cache.results_dir) if not name.startswith(".tmp-"))
    except FileNotFoundError:
        return []


def exists_only(*paths: str):
    live = set(paths)
    return lambda path: path in live


# ------------------------------------------------------------------------------------------ GC-01


def test_gc_01_disable_gc_runs_nothing_and_keeps_every_entry(cni: Cni, runner: FakeRunner) -> None:
    """GC-01: disableGC → nothing runs, not even the DEL of a stale attachment."""
    network = make_network([{"type": "a"}], version="1.1.0", disableGC=True)
    cni.cache.write(cache_entry("stale", version="1.1.0"))
    report = collect_garbage(cni, network, netns_exists=exists_only())
    assert report.disabled is True
    assert runner.calls == []
    assert report.removed == [] and report.kept == [] and report.plugin_gc is False
    assert cached_files(cni) == ["net1-stale-eth0"]


def test_gc_01_stale_attachment_deleted_with_its_cached_config_netns_args_and_capabilities(
    cni: Cni, runner: FakeRunner
) -> None:
    """GC-01 OURS: the stale attachment is DELeted with the config cached with it (not the current
    file), in reverse plugin order, with its cached netns, CNI_ARGS, capability args and result."""
    cached_config = network_bytes(
        [
            {"type": "old-a", "marker": "cached"},
            {"type": "old-b", "capabilities": {"portMappings": True, "mac": False}},
        ],
        version="1.0.0",
    )
    ports = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]
    cni.cache.write(
        cache_entry(
            "stale",
            netns="/proc/4242/ns/net",
            ifname="net7",
            config=cached_config,
            cni_args=(("K8S_POD_NAME", "web"), ("IgnoreUnknown", "1")),
            capability_args={"portMappings": ports, "mac": "02:00:00:00:00:09"},
        )
    )
    current = make_network([{"type": "new", "marker": "current"}], version="1.0.0")

    report = collect_garbage(cni, current, netns_exists=exists_only())

    assert report.errors == []
    assert [(e.container_id, e.ifname) for e in report.removed] == [("stale", "net7")]
    assert runner.commands() == [("old-b", "DEL"), ("old-a", "DEL")]  # nothing of the current file
    for call in runner.calls:
        assert {k: v for k, v in call.env.items() if k.startswith("CNI_")} == {
            "CNI_COMMAND": "DEL",
            "CNI_CONTAINERID": "stale",
            "CNI_NETNS": "/proc/4242/ns/net",
            "CNI_IFNAME": "net7",
            "CNI_ARGS": "K8S_POD_NAME=web;IgnoreUnknown=1",
            "CNI_PATH": PLUGIN_DIRS,
        }
    prev = {"cniVersion": "1.0.0", "ips": [{"address": "10.1.0.5/24"}]}
    assert runner.calls[0].request == {
        "cniVersion": "1.0.0",
        "name": "net1",
        "type": "old-b",  # capabilities dropped at 1.0.0 (REQ-04)
        "runtimeConfig": {"portMappings": ports},  # mac declared false: not passed (REQ-02)
        "prevResult": prev,
    }
    assert runner.calls[1].request == {
        "cniVersion": "1.0.0", "name": "net1", "type": "old-a", "marker": "cached", "prevResult": prev,
    }
    assert cached_files(cni) == []  # CACHE-04: removed after the successful DEL
    assert report.plugin_gc is False  # 1.0.0: no plugin GC


@pytest.mark.parametrize("broken", [b"{not json", b"", network_bytes([{"type": "x"}], name="othernet")])
def test_gc_01_unreadable_cached_config_falls_back_to_the_current_config(
    cni: Cni, runner: FakeRunner, broken: bytes
) -> None:
    """GC-01: when the cached config cannot be used (broken, absent, another network's), the
    current config DELs the attachment, still with the cached netns and args."""
    cni.cache.write(cache_entry("stale", config=broken, netns=DEAD, cni_args=(("A", "1"),)))
    current = make_network([{"type": "cur-1"}, {"type": "cur-2", "marker": "current"}], version="1.0.0")

    report = collect_garbage(cni, current, netns_exists=exists_only())

    assert report.errors == []
    assert runner.commands() == [("cur-2", "DEL"), ("cur-1", "DEL")]
    assert runner.calls[0].request["marker"] == "current"
    assert runner.calls[0].env["CNI_NETNS"] == DEAD
    assert runner.calls[0].env["CNI_ARGS"] == "A=1"
    assert runner.calls[0].env["CNI_CONTAINERID"] == "stale"
    assert cached_files(cni) == []


def test_gc_01_unchanged_config_is_used_with_its_plugin_folder_plugins(cni: Cni, runner: FakeRunner) -> None:
    """GC-01 + LOAD-11: the cached bytes are the list file's own; when they are what the current
    config was loaded from, the current config DELs the attachment, its folder plugins included."""
    listed = make_network([{"type": "listed"}], version="1.0.0")
    from_folder = make_network([{"type": "from-folder"}], version="1.0.0").plugins
    current = replace(listed, plugins=listed.plugins + from_folder)
    cni.cache.write(cache_entry("stale", config=listed.raw_bytes))

    report = collect_garbage(cni, current, netns_exists=exists_only())

    assert report.errors == []
    assert runner.commands() == [("from-folder", "DEL"), ("listed", "DEL")]


def test_gc_01_plugin_gc_for_1_1_0_request_config_and_environment(cni: Cni, runner: FakeRunner) -> None:
    """GC-01 + REQ-05 + EXEC-03: at 1.1.0 every plugin gets GC with the valid attachments under both
    keys, no runtimeConfig or prevResult, and an environment with no attachment in it."""
    network = make_network(
        [
            {"type": "a", "capabilities": {"portMappings": True}, "runtimeConfig": {"static": 1}, "keep": "me"},
            {"type": "b"},
        ],
        version="1.1.0",
    )
    cni.cache.write(cache_entry("live-2", netns=LIVE, version="1.1.0"))
    cni.cache.write(cache_entry("live-1", netns=LIVE, ifname="net1", version="1.1.0",
                                capability_args={"portMappings": [{"hostPort": 1, "containerPort": 2}]}))

    report = collect_garbage(cni, network, netns_exists=exists_only(LIVE))

    assert report.errors == [] and report.removed == []
    assert report.plugin_gc is True
    assert runner.commands() == [("a", "GC"), ("b", "GC")]
    valid = [{"containerID": "live-1", "ifname": "net1"}, {"containerID": "live-2", "ifname": "eth0"}]
    assert runner.calls[0].request == {
        "cni.dev/attachments": valid,
        "cni.dev/valid-attachments": valid,
        "cniVersion": "1.1.0",
        "name": "net1",
        "type": "a",
        "keep": "me",
        "runtimeConfig": {"static": 1},  # the file's own key, passed as written; no capability args injected
    }
    assert "prevResult" not in runner.calls[1].request
    assert runner.calls[1].request == {
        "cni.dev/attachments": valid, "cni.dev/valid-attachments": valid,
        "cniVersion": "1.1.0", "name": "net1", "type": "b",
    }
    for call in runner.calls:
        assert {k: v for k, v in call.env.items() if k.startswith("CNI_")} == {"CNI_COMMAND": "GC", **EMPTY_ATTACHMENT_ENV}
    assert cached_files(cni) == ["net1-live-1-net1", "net1-live-2-eth0"]


@pytest.mark.parametrize("version", ["1.0.0", "0.4.0", "0.3.1", None])
def test_gc_01_no_plugin_gc_below_1_1_0(cni: Cni, runner: FakeRunner, version: str | None) -> None:
    """GC-01: plugin GC only for an effective version ≥ 1.1.0; stale DELs still happen below it."""
    network = make_network([{"type": "a"}], version=version)
    cni.cache.write(cache_entry("stale", version="0.4.0" if version is None else version,
                                config=network_bytes([{"type": "a"}], version=version)))
    report = collect_garbage(cni, network, netns_exists=exists_only())
    assert report.plugin_gc is False
    assert runner.commands() == [("a", "DEL")]


def test_gc_01_errors_collected_and_every_plugin_still_asked(cni: Cni, runner: FakeRunner) -> None:
    """GC-01: a failing stale DEL does not stop the next one nor plugin GC; a failing plugin GC does
    not stop the next plugin; every error is reported, and the failed attachment's entry stays."""
    network = make_network([{"type": "a"}, {"type": "b"}, {"type": "c"}], version="1.1.0")
    config = network_bytes([{"type": "a"}, {"type": "b"}, {"type": "c"}], version="1.1.0")
    cni.cache.write(cache_entry("s1", config=config, version="1.1.0"))
    cni.cache.write(cache_entry("s2", config=config, version="1.1.0"))

    def del_fails_for_s1(invocation):
        if invocation.cni_env["CNI_CONTAINERID"] == "s1":
            return fail({"code": 11, "msg": "busy"})
        return ok()

    runner.script("c", "DEL", del_fails_for_s1)
    runner.script("a", "GC", fail({"code": 5, "msg": "a cannot gc"}))
    runner.script("c", "GC", fail({"code": 7, "msg": "c cannot gc"}))

    report = collect_garbage(cni, network, netns_exists=exists_only())

    # s1: the first DEL (c, last plugin) fails and stops that attachment's DEL (DEL-01); s2 goes on.
    assert runner.commands() == [
        ("c", "DEL"),
        ("c", "DEL"), ("b", "DEL"), ("a", "DEL"),
        ("a", "GC"), ("b", "GC"), ("c", "GC"),
    ]
    assert [call.env["CNI_CONTAINERID"] for call in runner.calls[:4]] == ["s1", "s2", "s2", "s2"]
    assert [str(err) for err in report.errors] == [
        'plugin type="c" failed (delete): busy',
        'plugin type="a" failed (gc): a cannot gc',
        'plugin type="c" failed (gc): c cannot gc',
    ]
    assert [err.code for err in report.errors] == [11, 5, 7]
    assert all(isinstance(err, PluginFailed) for err in report.errors)
    assert cached_files(cni) == ["net1-s1-eth0"]  # CACHE-04: kept when DEL failed, for a retry
    # Reported as it is: s2 removed, s1 not (it is still cached), never both as removed.
    assert [entry.container_id for entry in report.removed] == ["s2"]
    assert [entry.container_id for entry in report.failed] == ["s1"]
    # The valid set sent to plugins excludes both stale attachments, the undeletable one included.
    assert runner.calls[4].request["cni.dev/valid-attachments"] == []


@pytest.mark.parametrize("unreadable_name", ["net1-lost-eth0", "net1-c-lost-eth0"])
@pytest.mark.parametrize("content", [b'{"kind": "cniCacheV1", "trunc', b'{"cniVersion": "0.3.1", "ips": []}'],
                         ids=["truncated", "legacy-bare-result"])
def test_gc_01_unreadable_entry_of_the_network_stops_plugin_gc(
    cni: Cni, runner: FakeRunner, unreadable_name: str, content: bytes
) -> None:
    """GC-01, CACHE-05: an entry file that cannot be read (or a legacy bare result, which does not
    say its namespace) and whose name could be this network's may hide a live attachment missing
    from the valid set: plugin GC is not run (it could release that
    attachment's IP), an error names the file, and stale attachments are still DELeted."""
    cni.cache.write(cache_entry("stale", version="1.1.0"))
    Path(cni.cache.results_dir, unreadable_name).write_bytes(content)
    network = make_network([{"type": "a"}], version="1.1.0")

    report = collect_garbage(cni, network, netns_exists=exists_only())

    assert runner.commands() == [("cached", "DEL")]  # the stale one, with its cached config; no GC
    assert report.plugin_gc is False
    assert [err.exit_code for err in report.errors] == [3]
    assert unreadable_name in str(report.errors[0]) and "plugin GC is not run" in str(report.errors[0])
    assert cached_files(cni) == [unreadable_name]  # left for the user to inspect


def test_gc_01_unreadable_entry_of_another_network_does_not_stop_plugin_gc(cni: Cni, runner: FakeRunner) -> None:
    """GC-01: a damaged entry whose name cannot be this network's changes nothing."""
    Path(cni.cache.results_dir).mkdir(parents=True)
    Path(cni.cache.results_dir, "net2-lost-eth0").write_bytes(b"")
    report = collect_garbage(cni, make_network([{"type": "a"}], version="1.1.0"), netns_exists=exists_only())
    assert report.errors == [] and report.plugin_gc is True
    assert runner.commands() == [("a", "GC")]


# ------------------------------------------------------------------------------------------ GC-02


def populate_for_gc_02(cni: Cni) -> None:
    cni.cache.write(cache_entry("alive", netns=LIVE, version="1.1.0"))
    cni.cache.write(cache_entry("gone", netns=DEAD, version="1.1.0"))
    cni.cache.write(cache_entry("kept-by-flag", netns=DEAD, ifname="eth1", version="1.1.0"))
    cni.cache.write(cache_entry("no-netns", netns="", version="1.1.0"))
    # Other networks, all with dead namespaces: never touched. "net1-c" makes the file name
    # "net1-c-x-eth0" start like one of net1's entries.
    cni.cache.write(cache_entry("x", network="net1-c", netns=DEAD, version="1.1.0"))
    cni.cache.write(cache_entry("y", network="net2", netns=DEAD, version="1.1.0"))


ALL_FILES = sorted([
    "net1-alive-eth0", "net1-gone-eth0", "net1-kept-by-flag-eth1", "net1-no-netns-eth0", "net1-c-x-eth0", "net2-y-eth0",
])


def test_gc_02_valid_set_is_live_netns_plus_keep_and_only_this_network_is_touched(cni: Cni, runner: FakeRunner) -> None:
    """GC-02 OURS: kept = this network's cached attachments whose netns exists, plus --keep;
    everything else of this network is DELeted; other networks' entries are left alone."""
    populate_for_gc_02(cni)
    network = make_network([{"type": "a"}], version="1.1.0")

    report = collect_garbage(
        cni, network, netns_exists=exists_only(LIVE), keep=[("kept-by-flag", "eth1"), ("not-cached", "eth9")]
    )

    assert report.errors == []
    assert report.kept == [("alive", "eth0"), ("kept-by-flag", "eth1"), ("not-cached", "eth9")]
    assert sorted((e.container_id, e.ifname) for e in report.removed) == [("gone", "eth0"), ("no-netns", "eth0")]
    dels = [call for call in runner.calls if call.command == "DEL"]
    assert sorted(call.env["CNI_CONTAINERID"] for call in dels) == ["gone", "no-netns"]
    assert all(call.request["name"] == "net1" for call in runner.calls)
    assert cached_files(cni) == sorted(["net1-alive-eth0", "net1-kept-by-flag-eth1", "net1-c-x-eth0", "net2-y-eth0"])
    gc_calls = [call for call in runner.calls if call.command == "GC"]
    assert len(gc_calls) == 1
    assert gc_calls[0].request["cni.dev/valid-attachments"] == [
        {"containerID": "alive", "ifname": "eth0"},
        {"containerID": "kept-by-flag", "ifname": "eth1"},
        {"containerID": "not-cached", "ifname": "eth9"},
    ]


def test_gc_02_netns_exists_is_asked_about_the_cached_paths(cni: Cni, runner: FakeRunner) -> None:
    """GC-02: liveness is decided from each entry's own cached netns path."""
    populate_for_gc_02(cni)
    asked: list[str] = []

    def netns_exists(path: str) -> bool:
        asked.append(path)
        return path == LIVE

    collect_garbage(cni, make_network([{"type": "a"}], version="1.1.0"), netns_exists=netns_exists)
    assert set(asked) == {LIVE, DEAD}


def test_gc_02_dry_run_touches_nothing(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """GC-02: --dry-run reports what would be removed, runs no plugin, removes no cache entry."""
    populate_for_gc_02(cni)
    before = {name: (Path(cni.cache.results_dir) / name).read_bytes() for name in cached_files(cni)}

    report = collect_garbage(cni, make_network([{"type": "a"}], version="1.1.0"), netns_exists=exists_only(LIVE),
                             keep=[("kept-by-flag", "eth1")], dry_run=True)

    assert report.dry_run is True
    assert runner.calls == []
    assert report.plugin_gc is False
    assert sorted((e.container_id, e.ifname) for e in report.removed) == [("gone", "eth0"), ("no-netns", "eth0")]
    assert report.kept == [("alive", "eth0"), ("kept-by-flag", "eth1")]
    assert cached_files(cni) == ALL_FILES
    assert {name: (Path(cni.cache.results_dir) / name).read_bytes() for name in cached_files(cni)} == before


# -------------------------------------------------------------------------------------- STATUS-01


@pytest.mark.parametrize("version", ["1.0.0", "0.4.0", "0.2.0", None])
def test_status_01_below_1_1_0_not_applicable_and_nothing_runs(cni: Cni, runner: FakeRunner, version: str | None) -> None:
    network = make_network([{"type": "a"}, {"type": "b"}], version=version)
    report = network_status(cni, network)
    assert report.applicable is False
    assert report.plugins == []
    assert report.error is None
    assert runner.calls == []


def test_status_01_every_plugin_in_order_with_the_status_request(cni: Cni, runner: FakeRunner) -> None:
    """STATUS-01 + REQ-06 + EXEC-03: plugin object + name + cniVersion; no attachment in the env."""
    network = make_network(
        [{"type": "a", "capabilities": {"mac": True}, "extra": {"z": 1, "a": 2}}, {"type": "b"}, {"type": "c"}],
        version="1.1.0",
    )
    report = network_status(cni, network)
    assert report.applicable is True
    assert [(s.plugin, s.state) for s in report.plugins] == [("a", "ready"), ("b", "ready"), ("c", "ready")]
    assert runner.commands() == [("a", "STATUS"), ("b", "STATUS"), ("c", "STATUS")]
    assert runner.calls[0].stdin == b'{"cniVersion":"1.1.0","extra":{"a":2,"z":1},"name":"net1","type":"a"}'
    assert runner.calls[1].request == {"cniVersion": "1.1.0", "name": "net1", "type": "b"}
    for call in runner.calls:
        assert {k: v for k, v in call.env.items() if k.startswith("CNI_")} == {"CNI_COMMAND": "STATUS", **EMPTY_ATTACHMENT_ENV}


@pytest.mark.parametrize("code", [50, 51])
def test_status_01_first_error_stops(cni: Cni, runner: FakeRunner, code: int) -> None:
    network = make_network([{"type": "a"}, {"type": "b"}, {"type": "c"}], version="1.1.0")
    runner.script("b", "STATUS", fail({"cniVersion": "1.1.0", "code": code, "msg": "not yet", "details": "waiting"}))
    report = network_status(cni, network)
    assert runner.commands() == [("a", "STATUS"), ("b", "STATUS")]
    assert [(s.plugin, s.state) for s in report.plugins] == [("a", "ready"), ("b", "failed"), ("c", "not asked")]
    assert isinstance(report.error, PluginFailed)
    assert report.error.code == code
    assert report.error.msg == 'plugin type="b" failed (status): not yet'
    assert report.error.details == "waiting"


# ---------------------------------------------------------------------------------------- VER-04


def test_ver_04_version_request_stdin_and_environment(cni: Cni, runner: FakeRunner) -> None:
    """VER-04 + EXEC-03: libcni GetVersionInfo's stdin and its "dummy" netns, ifname and path."""
    runner.script("p", "VERSION", ok({"cniVersion": "1.0.0", "supportedVersions": ["0.4.0", "1.0.0"]}))
    assert plugin_versions(cni, "p") == ["0.4.0", "1.0.0"]
    (call,) = runner.calls
    assert call.command == "VERSION"
    assert call.stdin == b'{"cniVersion":"1.1.0"}'  # libcni: fmt.Sprintf(`{"cniVersion":%q}`, version.Current())
    assert {k: v for k, v in call.env.items() if k.startswith("CNI_")} == {
        "CNI_COMMAND": "VERSION",
        "CNI_CONTAINERID": "",
        "CNI_NETNS": "dummy",
        "CNI_IFNAME": "dummy",
        "CNI_ARGS": "",
        "CNI_PATH": "dummy",
    }
    assert call.plugin_dirs == ("/opt/cni/bin", "/usr/lib/cni")  # found in the real path


def test_ver_04_unknown_command_means_only_0_1_0(cni: Cni, runner: FakeRunner) -> None:
    runner.script("old", "VERSION", fail({"code": 4, "msg": "unknown CNI_COMMAND: VERSION"}))
    assert plugin_versions(cni, "old") == ["0.1.0"]


def test_ver_04_other_failure_is_an_error_naming_the_plugin(cni: Cni, runner: FakeRunner) -> None:
    runner.script("bad", "VERSION", fail({"code": 4, "msg": "unknown CNI_COMMAND: VERSIONX"}))
    with pytest.raises(PluginFailed) as caught:
        plugin_versions(cni, "bad")
    assert caught.value.msg == 'plugin type="bad" failed (version): unknown CNI_COMMAND: VERSIONX'


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"cniVersion": "0.2.0"}, ["0.1.0", "0.2.0"]),
        ({"cniVersion": "0.2.0", "supportedVersions": []}, ["0.1.0", "0.2.0"]),
        ({"cniVersion": "0.2.0", "supportedVersions": ["0.1.0", "0.2.0", "0.3.0"]}, ["0.1.0", "0.2.0", "0.3.0"]),
        ({"cniVersion": "1.0.0", "supportedVersions": ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"]},
         ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"]),
    ],
)
def test_ver_04_decoding(cni: Cni, runner: FakeRunner, answer: dict[str, Any], expected: list[str]) -> None:
    runner.script("p", "VERSION", ok(answer))
    assert plugin_versions(cni, "p") == expected


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"supportedVersions": ["1.0.0"]}, "missing field cniVersion"),
        ({"cniVersion": "", "supportedVersions": ["1.0.0"]}, "missing field cniVersion"),
        ({"cniVersion": "1.0.0"}, "missing field supportedVersions"),
        ("not json at all", "not JSON"),
    ],
)
def test_ver_04_bad_answers_are_errors(cni: Cni, runner: FakeRunner, answer: Any, message: str) -> None:
    runner.script("p", "VERSION", ok(answer if isinstance(answer, str) else json.dumps(answer)))
    with pytest.raises(InvalidResult) as caught:
        plugin_versions(cni, "p")
    assert caught.value.msg.startswith('plugin type="p" failed (version): ')
    assert message in caught.value.msg
    assert isinstance(caught.value, CniError)
