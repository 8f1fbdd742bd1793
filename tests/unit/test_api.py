"""The verb algorithms with a fake runner: ADD (ADD-01, ADD-02, RES-03, CACHE-03), DEL (DEL-01,
CACHE-04, CACHE-05), CHECK (CHECK-01), validation on every verb (VAL-05) and locks (LOCK-01)."""

from __future__ import annotations

import base64
import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest

from cnitool.core.api import Cni
from cnitool.core.cache import CacheEntry, ResultCache
from cnitool.core.errors import (
    AlreadyAttached,
    CacheError,
    ConfigError,
    ExitCode,
    NetnsError,
    NotAdded,
    PluginFailed,
    PluginNotFound,
    PluginTimeout,
    UsageError,
)
from cnitool.core.result import result_to_wire
from cnitool.core.runner import PluginInvocation
from cnitool.core.runtime import RuntimeConf
from unit_fakes import FakeRunner, default_result, fail, make_network, make_runtime, ok

RUNTIME = make_runtime(
    container_id="c1",
    netns="/var/run/netns/ns1",
    ifname="eth0",
    args=(("K", "V"),),
    capability_args={"mac": "02:00:00:00:00:01"},
)
ENTRY = "net1-c1-eth0"


def three_plugins(version: str = "1.0.0", **top: Any):
    return make_network(
        [{"type": "bridge"}, {"type": "portmap", "capabilities": {"mac": True}}, {"type": "tuning", "name": "tune"}],
        version=version,
        **top,
    )


def result_with(address: str, version: str = "1.0.0") -> dict[str, Any]:
    return default_result(version, address)


def cache_file(cache_dir: Path) -> Path:
    return cache_dir / "results" / ENTRY


def cached_document(cache_dir: Path) -> dict[str, Any]:
    return json.loads(cache_file(cache_dir).read_text())


def write_cache(cni: Cni, network, result: dict[str, Any] | None, runtime: RuntimeConf = RUNTIME) -> None:
    ResultCache(cni.cache_dir).write(
        CacheEntry(network.name, runtime.container_id, runtime.ifname, network.raw_bytes, result, runtime.netns)
    )


# ----------------------------------------------------------------------------------------- ADD


def test_add_01_chain_order_and_prev_result(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """ADD-01: plugins in list order; each sees the previous plugin's result; the last one is returned."""
    network = three_plugins()
    runner.script("bridge", "ADD", ok(result_with("10.0.0.1/24")))
    runner.script("portmap", "ADD", ok(result_with("10.0.0.2/24")))
    runner.script("tuning", "ADD", ok(result_with("10.0.0.3/24")))
    result = cni.add(network, RUNTIME)

    assert runner.commands() == [("bridge", "ADD"), ("portmap", "ADD"), ("tuning", "ADD")]
    requests = [call.request for call in runner.calls]
    assert "prevResult" not in requests[0]
    assert requests[1]["prevResult"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.1/24"}]}
    assert requests[2]["prevResult"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}]}
    assert requests[1]["runtimeConfig"] == {"mac": "02:00:00:00:00:01"}
    assert [r["name"] for r in requests] == ["net1", "net1", "net1"]
    assert result_to_wire(result) == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.3/24"}]}
    for call in runner.calls:
        assert call.env["CNI_CONTAINERID"] == "c1"
        assert call.env["CNI_ARGS"] == "K=V"


@pytest.mark.parametrize("damaged", [False, True])
def test_add_02_second_add_of_a_cached_attachment_is_refused_before_any_plugin(
    cni: Cni, runner: FakeRunner, cache_dir: Path, damaged: bool
) -> None:
    """SPEC "Attachment lifecycle": no second ADD without a DEL; refused before any plugin runs, so
    the ADD-02 rollback can never DEL the working attachment. A damaged entry still records an ADD."""
    network = three_plugins()
    cni.add(network, RUNTIME)
    if damaged:
        cache_file(cache_dir).write_text("{trunc")
    before = cache_file(cache_dir).read_bytes()
    runner.calls.clear()

    with pytest.raises(AlreadyAttached) as caught:
        cni.add(network, RUNTIME)

    assert caught.value.exit_code == ExitCode.INVALID
    assert "already attached" in caught.value.msg
    assert runner.calls == []
    assert cache_file(cache_dir).read_bytes() == before


@pytest.mark.parametrize("other", [
    {"network": "net2"},  # another network, same container ID
    {"container_id": "c2"},  # same network, the namespace given under another path
    {"network": "net2", "container_id": "c2"},
])
def test_add_02_interface_attached_by_another_attachment_is_refused(
    cni: Cni, runner: FakeRunner, tmp_path: Path, other: dict[str, str]
) -> None:
    """SPEC "Attachment lifecycle", ADD-02: an interface that another cached attachment made in
    the same namespace (same path, or another path to the same nsfs inode) is refused before any
    plugin runs: the plugin would fail and our rollback DEL would remove the working interface."""
    netns = tmp_path / "ns"
    netns.write_text("")
    alias = tmp_path / "alias"
    alias.hardlink_to(netns)  # another path, the same inode: as /run vs /var/run
    first = make_runtime(container_id="c1", netns=str(netns), ifname="eth0")
    cni.add(make_network([{"type": "a"}], name="net1"), first)
    runner.calls.clear()

    second = make_runtime(container_id=other.get("container_id", "c1"), netns=str(alias), ifname="eth0")
    with pytest.raises(AlreadyAttached) as caught:
        cni.add(make_network([{"type": "b"}], name=other.get("network", "net1")), second)

    assert runner.calls == []
    assert caught.value.exit_code == ExitCode.INVALID
    assert f'already attached to network "net1" (container c1, namespace given as {netns})' in caught.value.msg
    # Another interface name in the same namespace is fine.
    cni.add(make_network([{"type": "b"}], name=other.get("network", "net1")),
            make_runtime(container_id=second.container_id, netns=str(alias), ifname="eth1"))
    assert runner.commands() == [("b", "ADD")]


def test_add_01_network_at_a_short_version_runs_in_the_version_it_equals(cni: Cni, runner: FakeRunner) -> None:
    """VER-02, RES-03: a config at "1.0" is at 1.0.0; the plugin's 1.0.0 answer needs no conversion
    (it used to fail as "no converter ... to 1.0" after the plugin had succeeded)."""
    runner.script("a", "ADD", ok(default_result("1.0.0")))
    result = cni.add(make_network([{"type": "a"}], version="1.0"), RUNTIME)
    assert result.cni_version == "1.0.0"
    assert runner.calls[0].request["cniVersion"] == "1.0"  # passed to the plugin as written


def test_add_01_cache_written_after_success_with_final_result(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """CACHE-03: written only after the whole chain; it holds the final result and the runtime inputs."""
    seen: list[bool] = []

    def last(invocation: PluginInvocation):
        seen.append(cache_file(cache_dir).exists())
        return ok(result_with("10.0.0.9/24"))

    runner.script("tuning", "ADD", last)
    network = three_plugins()
    cni.add(network, RUNTIME)
    assert seen == [False]
    document = cached_document(cache_dir)
    assert list(document) == [
        "kind", "containerId", "config", "ifName", "networkName", "netns", "cniArgs", "capabilityArgs", "result",
    ]
    assert document["result"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.9/24"}]}
    assert document["netns"] == "/var/run/netns/ns1"
    assert document["cniArgs"] == [["K", "V"]]
    assert document["capabilityArgs"] == {"mac": "02:00:00:00:00:01"}
    assert base64.b64decode(document["config"]) == network.raw_bytes


def test_add_01_first_error_stops_chain(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    runner.script("portmap", "ADD", fail({"code": 7, "msg": "bad"}))
    with pytest.raises(PluginFailed) as info:
        cni.add(three_plugins(), RUNTIME, rollback=False)
    assert str(info.value) == 'plugin type="portmap" failed (add): bad'
    assert runner.commands() == [("bridge", "ADD"), ("portmap", "ADD")]
    assert not cache_file(cache_dir).exists()


def test_res_03_result_converted_to_network_version(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """RES-03 OURS: a 0.4.0 answer in a 1.0.0 network is converted before the next plugin, the cache and the caller."""
    network = make_network([{"type": "bridge"}, {"type": "portmap"}], version="1.0.0")
    runner.script("bridge", "ADD", ok(result_with("10.0.0.1/24", "0.4.0")))
    runner.script("portmap", "ADD", ok(result_with("10.0.0.2/24", "0.3.1")))
    result = cni.add(network, RUNTIME)
    assert runner.calls[1].request["prevResult"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.1/24"}]}
    assert result.cni_version == "1.0.0"
    assert cached_document(cache_dir)["result"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}]}


def test_exec_06_add_result_shapes(cni: Cni, runner: FakeRunner) -> None:
    """EXEC-06: null is an empty result; a result without cniVersion takes the network's version."""
    network = make_network([{"type": "bridge"}, {"type": "portmap"}], version="0.4.0")
    runner.script("bridge", "ADD", ok(b"null"))
    runner.script("portmap", "ADD", ok(b'{"ips":[{"version":"4","address":"10.0.0.5/24"}]}'))
    result = cni.add(network, RUNTIME)
    assert runner.calls[1].request["prevResult"] == {"cniVersion": "0.4.0", "dns": {}}
    assert result_to_wire(result) == {
        "cniVersion": "0.4.0",
        "ips": [{"version": "4", "address": "10.0.0.5/24"}],
        "dns": {},
    }


@pytest.mark.parametrize("stdout", [b"", b"  \n"])
def test_exec_06_empty_add_output_is_an_error_naming_the_plugin(cni: Cni, runner: FakeRunner, stdout: bytes) -> None:
    runner.script("bridge", "ADD", ok(stdout))
    with pytest.raises(PluginFailed) as info:
        cni.add(make_network(), RUNTIME, rollback=False)
    assert info.value.msg == 'plugin type="bridge" failed (add): the plugin printed no result'
    assert (info.value.plugin, info.value.command) == ("bridge", "ADD")


def test_exec_06_invalid_add_output(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    runner.script("bridge", "ADD", ok(b'{"cniVersion":"1.0.0","ips":[{"address":"nonsense"}]}'))
    with pytest.raises(PluginFailed) as info:
        cni.add(make_network(), RUNTIME)
    assert info.value.msg.startswith('plugin type="bridge" failed (add): invalid result: ')
    assert "nonsense" in str(info.value)
    # The plugin ran, so it is rolled back (ADD-02).
    assert runner.commands() == [("bridge", "ADD"), ("bridge", "DEL")]
    assert not cache_file(cache_dir).exists()


def test_add_02_rollback_reverse_order_with_last_good_result(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """ADD-02 OURS: every started plugin, the failing one included, gets DEL in reverse order with
    the last good result as prevResult."""
    runner.script("bridge", "ADD", ok(result_with("10.0.0.1/24")))
    runner.script("portmap", "ADD", ok(result_with("10.0.0.2/24")))
    runner.script("tuning", "ADD", fail({"code": 11, "msg": "busy"}))
    with pytest.raises(PluginFailed) as info:
        cni.add(three_plugins(), RUNTIME)
    assert runner.commands() == [
        ("bridge", "ADD"),
        ("portmap", "ADD"),
        ("tuning", "ADD"),
        ("tuning", "DEL"),
        ("portmap", "DEL"),
        ("bridge", "DEL"),
    ]
    for call in runner.calls[3:]:
        assert call.request["prevResult"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}]}
        assert call.env["CNI_COMMAND"] == "DEL"
        assert call.env["CNI_CONTAINERID"] == "c1"
    assert runner.calls[4].request["runtimeConfig"] == {"mac": "02:00:00:00:00:01"}
    assert info.value.msg == 'plugin type="tuning" name="tune" failed (add): busy'
    assert info.value.rollback_errors == []
    assert not cache_file(cache_dir).exists()


def test_add_02_rollback_of_first_plugin_has_no_prev_result(cni: Cni, runner: FakeRunner) -> None:
    runner.script("bridge", "ADD", fail({"code": 1, "msg": "x"}))
    with pytest.raises(PluginFailed):
        cni.add(three_plugins(), RUNTIME)
    assert runner.commands() == [("bridge", "ADD"), ("bridge", "DEL")]
    assert "prevResult" not in runner.calls[1].request


def test_add_02_rollback_below_0_4_0_sends_no_prev_result(cni: Cni, runner: FakeRunner) -> None:
    """ADD-02 with REQ-03: DEL has no prevResult below 0.4.0, rollback included."""
    runner.script("portmap", "ADD", fail({"code": 1, "msg": "x"}))
    with pytest.raises(PluginFailed):
        cni.add(three_plugins("0.3.1"), RUNTIME)
    assert runner.commands()[2:] == [("portmap", "DEL"), ("bridge", "DEL")]
    assert all("prevResult" not in call.request for call in runner.calls[2:])


def test_add_02_timeout_rolls_back_the_timed_out_plugin(cni: Cni, runner: FakeRunner) -> None:
    runner.script("portmap", "ADD", PluginTimeout('plugin "portmap" timed out after 1s (ADD)'))
    with pytest.raises(PluginTimeout) as info:
        cni.add(three_plugins(), RUNTIME)
    assert runner.commands()[2:] == [("portmap", "DEL"), ("bridge", "DEL")]
    assert info.value.exit_code == ExitCode.TIMEOUT


def test_add_02_plugin_not_found_is_not_rolled_back(cni: Cni, runner: FakeRunner) -> None:
    """ADD-02: a plugin that was not found was not started, so only the ones before it get DEL."""
    runner.script("tuning", "ADD", PluginNotFound('failed to find plugin "tuning" in path [/opt/cni/bin]'))
    with pytest.raises(PluginNotFound) as info:
        cni.add(three_plugins(), RUNTIME)
    assert runner.commands()[3:] == [("portmap", "DEL"), ("bridge", "DEL")]
    assert (info.value.plugin, info.value.command) == ("tuning", "ADD")


def test_add_02_no_rollback(cni: Cni, runner: FakeRunner) -> None:
    """ADD-02: rollback=False (--no-rollback) keeps the half-built state."""
    runner.script("tuning", "ADD", fail({"code": 1, "msg": "x"}))
    with pytest.raises(PluginFailed):
        cni.add(three_plugins(), RUNTIME, rollback=False)
    assert [command for _, command in runner.commands()] == ["ADD", "ADD", "ADD"]


def test_add_02_cache_write_failure_rolls_back(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """ADD-02 / CACHE-03: the chain succeeded but the cache cannot be written: error, and all DEL'd."""
    cache_file(cache_dir).mkdir(parents=True)  # renaming onto a directory fails
    runner.script("tuning", "ADD", ok(result_with("10.0.0.3/24")))
    with pytest.raises(CacheError) as info:
        cni.add(three_plugins(), RUNTIME)
    assert runner.commands()[3:] == [("tuning", "DEL"), ("portmap", "DEL"), ("bridge", "DEL")]
    for call in runner.calls[3:]:
        assert call.request["prevResult"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.3/24"}]}
    assert info.value.exit_code == ExitCode.ENVIRONMENT
    assert os.listdir(cache_dir / "results") == [ENTRY]


def test_add_02_rollback_failures_attached(cni: Cni, runner: FakeRunner) -> None:
    """ADD-02: the error reports the ADD failure and every rollback failure; rollback goes on past them."""
    runner.script("tuning", "ADD", fail({"code": 1, "msg": "add broke"}))
    runner.script("tuning", "DEL", fail({"code": 2, "msg": "del broke"}))
    runner.script("bridge", "DEL", PluginTimeout("bridge timed out"))
    with pytest.raises(PluginFailed) as info:
        cni.add(three_plugins(), RUNTIME)
    assert runner.commands()[3:] == [("tuning", "DEL"), ("portmap", "DEL"), ("bridge", "DEL")]
    assert str(info.value) == 'plugin type="tuning" name="tune" failed (add): add broke'
    assert [str(err) for err in info.value.rollback_errors] == [
        'plugin type="tuning" name="tune" failed (delete): del broke',
        "bridge timed out",
    ]
    assert info.value.to_dict()["rollback_errors"] == [str(err) for err in info.value.rollback_errors]


# ----------------------------------------------------------------------------------------- DEL


def test_del_01_reverse_order_with_cached_result(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """DEL-01: reverse order; prevResult = cached result converted to the network's version; entry removed."""
    network = three_plugins("1.0.0")
    write_cache(cni, network, {"cniVersion": "0.4.0", "ips": [{"version": "4", "address": "10.0.0.7/24"}], "dns": {}})
    cni.delete(network, RUNTIME)
    assert runner.commands() == [("tuning", "DEL"), ("portmap", "DEL"), ("bridge", "DEL")]
    for call in runner.calls:
        assert call.request["prevResult"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.7/24"}]}
    assert runner.calls[1].request["runtimeConfig"] == {"mac": "02:00:00:00:00:01"}
    assert not cache_file(cache_dir).exists()


def test_del_01_add_then_del_round_trip(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    network = three_plugins("0.4.0")
    runner.script("tuning", "ADD", ok(result_with("10.0.0.3/24", "0.4.0")))
    cni.add(network, RUNTIME)
    runner.calls.clear()
    cni.delete(network, RUNTIME)
    expected = {"cniVersion": "0.4.0", "ips": [{"version": "4", "address": "10.0.0.3/24"}], "dns": {}}
    assert [call.request["prevResult"] for call in runner.calls] == [expected] * 3


@pytest.mark.parametrize("version", ["0.3.1", "0.2.0"])
def test_del_01_no_prev_result_below_0_4_0(cni: Cni, runner: FakeRunner, cache_dir: Path, version: str) -> None:
    """DEL-01 / REQ-03: below 0.4.0 DEL sends no prevResult; CACHE-04: the entry is removed anyway."""
    network = three_plugins(version)
    write_cache(cni, network, default_result(version))
    cni.delete(network, RUNTIME)
    assert len(runner.calls) == 3
    assert all("prevResult" not in call.request for call in runner.calls)
    assert not cache_file(cache_dir).exists()


def test_del_01_missing_cache_is_fine_and_repeatable(cni: Cni, runner: FakeRunner) -> None:
    """DEL-01: no cache entry is not an error, and a repeated DEL succeeds."""
    network = three_plugins()
    cni.delete(network, RUNTIME)
    cni.delete(network, RUNTIME)
    assert runner.commands() == [("tuning", "DEL"), ("portmap", "DEL"), ("bridge", "DEL")] * 2
    assert all("prevResult" not in call.request for call in runner.calls)


@pytest.mark.parametrize(
    "content",
    [b"", b'{"kind":"cniCacheV1","conf', b'{"kind":"cniCacheV1","config":"","result":{"cniVersion":"9.9.9"}}'],
)
def test_cache_05_del_removes_broken_entry_and_goes_on(cni: Cni, runner: FakeRunner, cache_dir: Path, content: bytes) -> None:
    """CACHE-05: an empty, truncated or unconvertible entry is removed and DEL runs without prevResult."""
    cache_file(cache_dir).parent.mkdir(parents=True)
    cache_file(cache_dir).write_bytes(content)
    runner.script("bridge", "DEL", fail({"code": 1, "msg": "still failing"}))
    with pytest.raises(PluginFailed):
        cni.delete(three_plugins(), RUNTIME)
    assert runner.commands() == [("tuning", "DEL"), ("portmap", "DEL"), ("bridge", "DEL")]
    assert all("prevResult" not in call.request for call in runner.calls)
    assert not cache_file(cache_dir).exists()


def test_cache_04_del_failure_keeps_entry_and_stops(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """DEL-01: the first error stops; CACHE-04: the entry is kept so a retry still has prevResult."""
    network = three_plugins()
    write_cache(cni, network, result_with("10.0.0.7/24"))
    runner.script("portmap", "DEL", fail({"code": 5, "msg": "io"}))
    with pytest.raises(PluginFailed) as info:
        cni.delete(network, RUNTIME)
    assert str(info.value) == 'plugin type="portmap" failed (delete): io'
    assert runner.commands() == [("tuning", "DEL"), ("portmap", "DEL")]
    assert cache_file(cache_dir).exists()


def test_cache_04_del_below_0_4_0_failure_keeps_broken_entry(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """Below 0.4.0 libcni does not read the cache on DEL, so a failing DEL leaves the entry as it was."""
    cache_file(cache_dir).parent.mkdir(parents=True)
    cache_file(cache_dir).write_bytes(b"")
    runner.script("bridge", "DEL", fail({"code": 5, "msg": "io"}))
    with pytest.raises(PluginFailed):
        cni.delete(three_plugins("0.3.1"), RUNTIME)
    assert cache_file(cache_dir).exists()


def test_del_01_cached_network_after_file_removed(cni: Cni, runner: FakeRunner) -> None:
    """DEL-01 OURS: the config cached with the attachment can run DEL after its file is gone."""
    network = three_plugins("1.0.0")
    cni.add(network, RUNTIME)
    cached = cni.cached_network("net1", RUNTIME)
    assert cached is not None
    assert [p.type for p in cached.plugins] == ["bridge", "portmap", "tuning"]
    assert cached.version == "1.0.0"
    assert cni.cached_network("net1", make_runtime(container_id="other")) is None


# --------------------------------------------------------------------------------------- CHECK


@pytest.mark.parametrize("version", ["0.3.1", "0.2.0", ""])
def test_check_01_version_below_0_4_0(cni: Cni, runner: FakeRunner, version: str) -> None:
    """CHECK-01: below 0.4.0 → error (exit 2) before disableCheck and before the cache is looked at."""
    network = three_plugins(version or None, disableCheck=True)
    with pytest.raises(ConfigError) as info:
        cni.check(network, RUNTIME)
    assert info.value.msg == f'configuration version "{version}" does not support the CHECK command'
    assert info.value.exit_code == ExitCode.INVALID
    assert runner.calls == []


def test_check_01_disable_check_runs_nothing(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """CHECK-01: disableCheck → success without running anything, even with no cache entry."""
    cni.check(three_plugins(disableCheck=True), RUNTIME)
    cni.check(three_plugins(disableCheck="TRUE"), RUNTIME)
    assert runner.calls == []


def test_check_01_missing_entry_is_not_added(cni: Cni, runner: FakeRunner) -> None:
    """CHECK-01 OURS: no cached result means the attachment was never added (exit 3)."""
    with pytest.raises(NotAdded) as info:
        cni.check(three_plugins(), RUNTIME)
    assert info.value.exit_code == ExitCode.ENVIRONMENT
    assert 'network "net1"' in info.value.msg and '"c1"' in info.value.msg
    assert runner.calls == []


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"kind":"cniCacheV1",',
        b'{"kind":"cniCacheV1","config":""}',  # no result
        b'{"kind":"cniCacheV1","config":"","result":{"cniVersion":"9.9.9"}}',  # unconvertible
        b'{"kind":"cniCacheV1","config":"","result":{"cniVersion":"1.0.0","ips":[{"address":"x"}]}}',
    ],
)
def test_check_01_broken_entry(cni: Cni, runner: FakeRunner, cache_dir: Path, content: bytes) -> None:
    """CHECK-01 / CACHE-05: a broken entry → `failed to get network "N" cached result: …` (exit 3)."""
    cache_file(cache_dir).parent.mkdir(parents=True)
    cache_file(cache_dir).write_bytes(content)
    with pytest.raises(CacheError) as info:
        cni.check(three_plugins(), RUNTIME)
    assert info.value.msg.startswith('failed to get network "net1" cached result: ')
    assert info.value.exit_code == ExitCode.ENVIRONMENT
    assert runner.calls == []
    assert cache_file(cache_dir).exists()  # CHECK never removes it


def test_check_01_plugins_in_order_with_cached_result(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    network = three_plugins("1.0.0")
    write_cache(cni, network, {"cniVersion": "0.4.0", "ips": [{"version": "4", "address": "10.0.0.7/24"}], "dns": {}})
    cni.check(network, RUNTIME)
    assert runner.commands() == [("bridge", "CHECK"), ("portmap", "CHECK"), ("tuning", "CHECK")]
    for call in runner.calls:
        assert call.request["prevResult"] == {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.7/24"}]}
        assert call.env["CNI_COMMAND"] == "CHECK"
    assert runner.calls[1].request["runtimeConfig"] == {"mac": "02:00:00:00:00:01"}


def test_check_01_namespace_checked_only_when_plugins_are_about_to_run(cni: Cni, runner: FakeRunner) -> None:
    """CHECK-01 then CLI-03: the version test and disableCheck come first (a network that checks
    nothing succeeds whatever became of the namespace); a gone namespace stops CHECK before any plugin."""
    asked: list[str] = []

    def namespace_gone(path: str) -> None:
        asked.append(path)
        raise NetnsError(f'network namespace "{path}" does not exist')

    cni.check(three_plugins(disableCheck=True), RUNTIME, check_netns=namespace_gone)
    with pytest.raises(ConfigError):
        cni.check(three_plugins("0.3.1"), RUNTIME, check_netns=namespace_gone)
    assert asked == []
    network = three_plugins()
    write_cache(cni, network, {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.7/24"}]})
    with pytest.raises(NetnsError):
        cni.check(network, RUNTIME, check_netns=namespace_gone)
    assert asked == [RUNTIME.netns]
    assert runner.calls == []


def test_check_01_legacy_bare_result(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """CACHE-02: a legacy entry (the result itself) serves as the cached result."""
    cache_file(cache_dir).parent.mkdir(parents=True)
    cache_file(cache_dir).write_text('{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.8/24"}]}')
    cni.check(three_plugins("0.4.0"), RUNTIME)
    assert runner.calls[0].request["prevResult"] == {
        "cniVersion": "0.4.0",
        "ips": [{"version": "4", "address": "10.0.0.8/24"}],
        "dns": {},
    }


def test_check_01_plugin_failure_stops(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    network = three_plugins()
    write_cache(cni, network, result_with("10.0.0.7/24"))
    runner.script("portmap", "CHECK", fail({"code": 100, "msg": "rule missing", "details": "chain X"}))
    with pytest.raises(PluginFailed) as info:
        cni.check(network, RUNTIME)
    assert str(info.value) == 'plugin type="portmap" failed (check): rule missing; chain X'
    assert info.value.exit_code == ExitCode.PLUGIN_FAILED
    assert runner.commands() == [("bridge", "CHECK"), ("portmap", "CHECK")]


# ------------------------------------------------------------------------------------- VAL-05


BAD_INPUTS = [
    ("../x", make_runtime(), "network name"),
    ("net1", make_runtime(container_id="a/b"), "containerID"),
    ("net1", make_runtime(container_id="../../etc"), "containerID"),
    ("net1", make_runtime(ifname="../e"), "interface name"),
]


@pytest.mark.parametrize("verb", ["add", "delete", "check"])
@pytest.mark.parametrize(("name", "runtime", "fragment"), BAD_INPUTS)
def test_val_05_refused_on_every_verb_before_anything_runs(
    cni: Cni, runner: FakeRunner, tmp_path: Path, cache_dir: Path, verb: str, name: str, runtime: RuntimeConf, fragment: str
) -> None:
    """VAL-05 OURS: names that build cache paths are checked on ADD, DEL and CHECK before any plugin
    runs and before any file is touched (a DEL of ``../x`` must not remove a file outside the cache)."""
    network = make_network([{"type": "bridge"}], name=name, version="1.0.0")
    outside = tmp_path / "x-c1-eth0"
    outside.write_text("precious")
    with pytest.raises(UsageError, match=fragment):
        getattr(cni, verb)(network, runtime)
    assert runner.calls == []
    assert outside.read_text() == "precious"
    assert not cache_dir.exists()


@pytest.mark.parametrize("verb", ["add", "delete", "check"])
@pytest.mark.parametrize("plugins", [[{"type": "bridge"}, {"type": "../evil"}], [{"type": "bridge", "ipam": {"type": "/bin/x"}}]])
def test_val_04_bad_plugin_types_refused_before_anything_runs(cni: Cni, runner: FakeRunner, verb: str, plugins) -> None:
    with pytest.raises(ConfigError, match="invalid plugin type"):
        getattr(cni, verb)(make_network(plugins), RUNTIME)
    assert runner.calls == []


# ------------------------------------------------------------------------------------- LOCK-01


def test_lock_01_lock_files_under_locks_never_in_results(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    network = three_plugins()
    cni.add(network, RUNTIME)
    cni.check(network, RUNTIME)
    assert os.listdir(cache_dir / "results") == [ENTRY]
    # The last holder removes its lock files; test_lock_cleanup.py sees them under locks/ while held.
    assert os.listdir(cache_dir / "locks") == []
    cni.delete(network, RUNTIME)
    assert os.listdir(cache_dir / "results") == []


def test_lock_01_attachment_lock_held_while_plugins_run(cni: Cni, runner: FakeRunner, cache_dir: Path) -> None:
    """LOCK-01: while a plugin of an attachment runs, another process cannot take that attachment's lock."""
    probes: list[bool] = []

    def probe(invocation: PluginInvocation):
        [path] = [p for p in (cache_dir / "locks").iterdir() if "net1-c1-eth0" in p.name]
        fd = os.open(path, os.O_RDWR)  # a separate open file description, like another process
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            probes.append(False)
        except BlockingIOError:
            probes.append(True)
        finally:
            os.close(fd)
        return ok(result_with("10.0.0.1/24"))

    runner.script("bridge", "ADD", probe)
    cni.add(make_network(), RUNTIME)
    assert probes == [True]


def test_exec_06_an_invalid_huge_result_is_shown_cut_with_a_marker(cni: Cni, runner: FakeRunner) -> None:
    """EXEC-06: a result that does not parse is shown in ``details``, cut to its head and tail
    with how much was left out (a plugin printing megabytes must not flood the error)."""
    runner.script("bridge", "ADD", ok(b'{"cniVersion": "1.0.0", "ips": "' + b"x" * 100_000 + b'"}'))
    with pytest.raises(PluginFailed) as info:
        cni.add(make_network(), RUNTIME, rollback=False)
    assert "bytes left out" in info.value.details
    assert len(info.value.details) < 10_000
    assert info.value.details.endswith('x"}')


def test_add_02_interrupt_as_the_lock_is_released_after_success_rolls_everything_back(
        cni: Cni, runner: FakeRunner, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ADD-02: Ctrl-C can land after the cache entry was written, while the attachment lock is
    being released. add() must then leave nothing, as for an interrupt a moment earlier: the lock
    is taken again, every plugin gets DEL in reverse order with the final result, and the entry goes."""
    import cnitool.core.lock as lock

    real_remove_if_last = lock._remove_if_last
    interrupted = []

    def interrupt_once_after_the_write(fd: int, path: str, mode: int) -> None:
        if not interrupted and "attachment-" in path and cache_file(cache_dir).exists():
            interrupted.append(path)
            raise KeyboardInterrupt
        real_remove_if_last(fd, path, mode)

    monkeypatch.setattr(lock, "_remove_if_last", interrupt_once_after_the_write)
    runner.script("bridge", "ADD", ok(result_with("10.0.0.1/24")))
    runner.script("portmap", "ADD", ok(result_with("10.0.0.2/24")))
    runner.script("tuning", "ADD", ok(result_with("10.0.0.3/24")))
    with pytest.raises(KeyboardInterrupt) as info:
        cni.add(three_plugins(), RUNTIME)
    assert interrupted
    assert runner.commands()[3:] == [("tuning", "DEL"), ("portmap", "DEL"), ("bridge", "DEL")]
    assert runner.calls[3].request["prevResult"]["ips"] == [{"address": "10.0.0.3/24"}]
    assert not cache_file(cache_dir).exists()
    assert info.value.rollback_errors == []  # type: ignore[attr-defined]


def test_add_02_interrupt_during_the_rollback_of_a_failure_stops_it(cni: Cni, runner: FakeRunner) -> None:
    """ADD-02: after a plugin failed, a Ctrl-C during the rollback stops it (as a second Ctrl-C
    stops an interrupted ADD's rollback); it does not start the rollback over."""
    runner.script("bridge", "ADD", ok(result_with("10.0.0.1/24")))
    runner.script("portmap", "ADD", fail({"code": 11, "msg": "busy"}))

    def interrupt(_invocation: PluginInvocation) -> Any:
        raise KeyboardInterrupt

    runner.script("portmap", "DEL", interrupt)
    with pytest.raises(KeyboardInterrupt):
        cni.add(three_plugins(), RUNTIME)
    assert runner.commands() == [("bridge", "ADD"), ("portmap", "ADD"), ("portmap", "DEL")]
