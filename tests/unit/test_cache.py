"""The result cache in libcni's cniCacheV1 format (CACHE-01, CACHE-02, CACHE-03, CACHE-05)."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from cnitool.core.cache import CacheEntry, ResultCache, parse_entry
from cnitool.core.errors import CacheError, ExitCode

CONFIG = b'{"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"bridge"}]}'
RESULT = {
    "cniVersion": "1.0.0",
    "ips": [{"address": "10.0.0.2/24", "interface": 0}],
    "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/ns1"}],
}

# What libcni's cacheAdd writes (json.Marshal of cachedInfo): struct field order, config as
# base64, the result and capabilityArgs as Go maps (sorted keys). Written out by hand.
LIBCNI_ENTRY = (
    '{"kind":"cniCacheV1","containerId":"c1",'
    '"config":"' + base64.b64encode(CONFIG).decode() + '",'
    '"ifName":"eth0","networkName":"net1","netns":"/var/run/netns/ns1",'
    '"cniArgs":[["IgnoreUnknown","true"],["K","a=b"]],'
    '"capabilityArgs":{"mac":"02:00:00:00:00:01","portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},'
    '"result":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/ns1"}],'
    '"ips":[{"address":"10.0.0.2/24","interface":0}]}}'
)


def entry(**overrides: object) -> CacheEntry:
    values: dict[str, object] = {
        "network_name": "net1",
        "container_id": "c1",
        "ifname": "eth0",
        "config": CONFIG,
        "result": RESULT,
        "netns": "/var/run/netns/ns1",
        "cni_args": (("IgnoreUnknown", "true"), ("K", "a=b")),
        "capability_args": {
            "portMappings": [{"protocol": "tcp", "hostPort": 8080, "containerPort": 80}],
            "mac": "02:00:00:00:00:01",
        },
    }
    values.update(overrides)
    return CacheEntry(**values)  # type: ignore[arg-type]


def test_cache_01_path_and_modes(tmp_path: Path) -> None:
    """CACHE-01: results/<network>-<containerID>-<ifname>, directory 0700, file 0600."""
    cache = ResultCache(str(tmp_path / "cni"))
    cache.write(entry())
    path = tmp_path / "cni" / "results" / "net1-c1-eth0"
    assert cache.path("net1", "c1", "eth0") == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cni" / "results").stat().st_mode) == 0o700


def test_cache_01_modes_do_not_depend_on_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        ResultCache(str(tmp_path / "cni")).write(entry())
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "cni" / "results" / "net1-c1-eth0").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cni" / "results").stat().st_mode) == 0o700


def test_cache_02_bytes_match_libcni(tmp_path: Path) -> None:
    """CACHE-02: exactly the fields of libcni's cachedInfo, in its order, as json.Marshal writes them."""
    assert entry().to_json() == LIBCNI_ENTRY
    cache = ResultCache(str(tmp_path))
    cache.write(entry())
    assert (tmp_path / "results" / "net1-c1-eth0").read_text() == LIBCNI_ENTRY


def test_cache_02_omitempty_fields_left_out() -> None:
    """CACHE-02: netns, cniArgs, capabilityArgs and result are omitempty in cachedInfo."""
    text = entry(netns="", cni_args=(), capability_args={}, result=None).to_json()
    assert text == (
        '{"kind":"cniCacheV1","containerId":"c1","config":"'
        + base64.b64encode(CONFIG).decode()
        + '","ifName":"eth0","networkName":"net1"}'
    )


def test_cache_02_capability_args_numbers_as_go_float64() -> None:
    """CACHE-02: capabilityArgs is a Go map of interface{}, so 1.0 is written 1 and keys sorted."""
    text = entry(capability_args={"bandwidth": {"ingressRate": 1.0, "egressBurst": 2.5}}).to_json()
    assert '"capabilityArgs":{"bandwidth":{"egressBurst":2.5,"ingressRate":1}}' in text


def test_cache_02_libcni_entry_parses(tmp_path: Path) -> None:
    """CACHE-02: an entry written by libcni (or the Go cnitool) reads back with every field."""
    results = tmp_path / "results"
    results.mkdir()
    (results / "net1-c1-eth0").write_text(LIBCNI_ENTRY)
    got = ResultCache(str(tmp_path)).read("net1", "c1", "eth0")
    assert got is not None
    assert got.legacy is False
    assert got.network_name == "net1"
    assert got.container_id == "c1"
    assert got.ifname == "eth0"
    assert got.config == CONFIG
    assert got.netns == "/var/run/netns/ns1"
    assert got.cni_args == (("IgnoreUnknown", "true"), ("K", "a=b"))
    assert got.capability_args == {
        "mac": "02:00:00:00:00:01",
        "portMappings": [{"containerPort": 80, "hostPort": 8080, "protocol": "tcp"}],
    }
    assert got.result == {
        "cniVersion": "1.0.0",
        "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/ns1"}],
        "ips": [{"address": "10.0.0.2/24", "interface": 0}],
    }


def test_cache_02_round_trip(tmp_path: Path) -> None:
    cache = ResultCache(str(tmp_path))
    cache.write(entry())
    got = cache.read("net1", "c1", "eth0")
    assert got is not None
    assert got.to_json() == LIBCNI_ENTRY


def test_cache_02_legacy_bare_result(tmp_path: Path) -> None:
    """CACHE-02: a file without ``kind`` is a legacy bare result: the whole document is the result."""
    results = tmp_path / "results"
    results.mkdir()
    (results / "net1-c1-eth0").write_text('{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.2/24"}]}')
    got = ResultCache(str(tmp_path)).read("net1", "c1", "eth0")
    assert got is not None
    assert got.legacy is True
    assert got.config == b""
    assert got.result == {"cniVersion": "0.3.1", "ips": [{"version": "4", "address": "10.0.0.2/24"}]}
    assert (got.network_name, got.container_id, got.ifname) == ("net1", "c1", "eth0")


def test_cache_02_missing_entry_is_none(tmp_path: Path) -> None:
    assert ResultCache(str(tmp_path)).read("net1", "c1", "eth0") is None
    assert ResultCache(str(tmp_path / "nowhere")).read("net1", "c1", "eth0") is None


def test_cache_03_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    """CACHE-03 OURS: temp file + rename; after writing (also over an old entry) only the entry is there."""
    cache = ResultCache(str(tmp_path))
    cache.write(entry(netns="/old"))
    cache.write(entry())
    assert sorted(os.listdir(tmp_path / "results")) == ["net1-c1-eth0"]
    assert (tmp_path / "results" / "net1-c1-eth0").read_text() == LIBCNI_ENTRY


def test_cache_03_write_failure_is_cache_error_and_cleans_up(tmp_path: Path) -> None:
    """CACHE-03: a failed write raises CacheError (exit 3) and leaves no temp file behind."""
    (tmp_path / "results" / "net1-c1-eth0").mkdir(parents=True)  # rename over a directory fails
    with pytest.raises(CacheError) as info:
        ResultCache(str(tmp_path)).write(entry())
    assert info.value.msg.startswith(f"failed to write cache entry {tmp_path}/results/net1-c1-eth0: ")
    assert info.value.exit_code == ExitCode.ENVIRONMENT
    assert os.listdir(tmp_path / "results") == ["net1-c1-eth0"]


def test_cache_03_unusable_cache_dir_is_cache_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(CacheError, match=f"^cannot use cache directory {tmp_path}/file/results: {tmp_path}/file is not a directory$"):
        ResultCache(str(tmp_path / "file")).write(entry())


@pytest.mark.parametrize(
    "content",
    [b"", b"   ", LIBCNI_ENTRY.encode()[:40], b'{"kind":"cniCacheV1"', b"\xff\xfe", b"[1,2]", b"null", b'"x"'],
)
def test_cache_05_empty_or_truncated_is_cache_error(tmp_path: Path, content: bytes) -> None:
    """CACHE-05: an empty, truncated or non-object entry is a CacheError naming the file."""
    results = tmp_path / "results"
    results.mkdir()
    (results / "net1-c1-eth0").write_bytes(content)
    with pytest.raises(CacheError) as info:
        ResultCache(str(tmp_path)).read("net1", "c1", "eth0")
    assert f"{results}/net1-c1-eth0" in info.value.msg


@pytest.mark.parametrize(
    "document",
    [
        '{"kind":"cniCacheV1","config":"not base64!","networkName":"net1"}',
        '{"kind":"cniCacheV1","config":"","networkName":3}',
        '{"kind":"cniCacheV1","config":"","cniArgs":[["a"]]}',
        '{"kind":"cniCacheV1","config":"","result":[1]}',
        '{"kind":"cniCacheV1","config":"","capabilityArgs":"x"}',
    ],
)
def test_cache_05_malformed_v1_entry_is_cache_error(document: str) -> None:
    with pytest.raises(CacheError, match="^cache entry /c/x is malformed: "):
        parse_entry(document.encode(), path="/c/x")


def test_cache_delete_is_idempotent(tmp_path: Path) -> None:
    cache = ResultCache(str(tmp_path))
    cache.write(entry())
    cache.delete("net1", "c1", "eth0")
    cache.delete("net1", "c1", "eth0")
    assert os.listdir(tmp_path / "results") == []


def test_cache_05_entries_lists_v1_and_reports_unreadable_and_legacy(tmp_path: Path) -> None:
    """CACHE-05: damaged files and legacy bare results (no namespace in them) are reported, not listed."""
    cache = ResultCache(str(tmp_path))
    cache.write(entry())
    cache.write(entry(container_id="c2"))
    (tmp_path / "results" / "net1-c3-eth0").write_text("")
    (tmp_path / "results" / "legacy-c4-eth0").write_text('{"cniVersion":"0.3.1"}')
    (tmp_path / "results" / ".tmp-abc").write_text("")
    found, unreadable = cache.entries()
    assert [e.container_id for e in found] == ["c1", "c2"]
    assert unreadable == [str(tmp_path / "results" / "legacy-c4-eth0"), str(tmp_path / "results" / "net1-c3-eth0")]


def test_cache_01_missing_parents_created_0700(tmp_path: Path) -> None:
    """CACHE-01: like libcni's os.MkdirAll(dir, 0700), every directory created on the way is 0700."""
    old = os.umask(0o022)
    try:
        ResultCache(str(tmp_path / "var" / "lib" / "cni")).write(entry())
    finally:
        os.umask(old)
    for created in ("var", "var/lib", "var/lib/cni", "var/lib/cni/results"):
        assert stat.S_IMODE((tmp_path / created).stat().st_mode) == 0o700, created
