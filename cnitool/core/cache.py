"""The result cache, in libcni's ``cniCacheV1`` format (CACHE-01 … CACHE-05).

One file per attachment at ``<cache-dir>/results/<network>-<containerID>-<ifname>``, so that
libcni-based runtimes and the Go cnitool read what we write and we read what they write.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cnitool.core import jsondecode
from cnitool.core.errors import CacheError
from cnitool.core.gojson import dumps_compact, dumps_go_interface

CACHE_KIND = "cniCacheV1"
RESULTS_SUBDIR = "results"
# An entry holds the capability args and the result one level down: as deep as what we accept
# for those (jsondecode.MAX_NESTING), plus one.
ENTRY_NESTING = jsondecode.MAX_NESTING + 1


@dataclass(frozen=True)
class CacheEntry:
    """One attachment as libcni caches it after a successful ADD."""

    network_name: str
    container_id: str
    ifname: str
    config: bytes  # the network config list's bytes (what DEL and GC can run again)
    result: Mapping[str, Any] | None  # the final ADD result in its own version's layout
    netns: str = ""
    cni_args: tuple[tuple[str, str], ...] = ()
    capability_args: Mapping[str, Any] = field(default_factory=dict)
    legacy: bool = False  # a bare result file written before cniCacheV1 existed (no "kind")

    def to_json(self) -> str:
        """libcni's cachedInfo marshalled: struct field order, ``omitempty`` where libcni has it."""
        document: dict[str, Any] = {
            "kind": CACHE_KIND,
            "containerId": self.container_id,
            "config": base64.b64encode(self.config).decode("ascii"),
            "ifName": self.ifname,
            "networkName": self.network_name,
        }
        if self.netns:
            document["netns"] = self.netns
        if self.cni_args:
            document["cniArgs"] = [[key, value] for key, value in self.cni_args]
        # capabilityArgs and result are map[string]interface{} in cachedInfo: sorted keys and
        # float64 numbers (1.0 is written 1), so they go through dumps_go_interface.
        members = [f"{dumps_compact(key)}:{dumps_compact(value)}" for key, value in document.items()]
        if self.capability_args:
            members.append(f'"capabilityArgs":{dumps_go_interface(dict(self.capability_args))}')
        if self.result:
            members.append(f'"result":{dumps_go_interface(dict(self.result))}')
        return "{" + ",".join(members) + "}"


class ResultCache:
    """Reads and writes cache entries under one cache directory."""

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = cache_dir
        self.results_dir = os.path.join(cache_dir, RESULTS_SUBDIR)

    def path(self, network: str, container_id: str, ifname: str) -> str:
        # The three names were validated (VAL-05), so this stays inside results/.
        return os.path.join(self.results_dir, f"{network}-{container_id}-{ifname}")

    def write(self, entry: CacheEntry) -> None:
        """Write atomically: a temp file in the same directory renamed over the entry (CACHE-03 OURS)."""
        target = self.path(entry.network_name, entry.container_id, entry.ifname)
        try:
            make_private_dirs(self.results_dir)
            fd, temp_path = tempfile.mkstemp(dir=self.results_dir, prefix=".tmp-")
        except OSError as err:
            raise CacheError(f"failed to write cache entry {target}: {err.strerror}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp creates it 0600
                handle.write(entry.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_path, target)
        except OSError as err:
            _unlink_quietly(temp_path)
            raise CacheError(f"failed to write cache entry {target}: {err.strerror}") from None
        except BaseException:  # Ctrl-C or SIGTERM half-way: no stray temp file in results/
            _unlink_quietly(temp_path)
            raise

    def has_entry(self, network: str, container_id: str, ifname: str) -> bool:
        """Whether an entry file exists, readable or not (a damaged entry still records an ADD)."""
        return os.path.isfile(self.path(network, container_id, ifname))

    def read(self, network: str, container_id: str, ifname: str) -> CacheEntry | None:
        """The entry, or None when there is none; CacheError when it exists but cannot be read."""
        path = self.path(network, container_id, ifname)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            raise not_a_directory(self.results_dir) from None
        except OSError as err:
            raise CacheError(f"failed to read cache entry {path}: {err.strerror}") from None
        return parse_entry(data, path=path, network=network, container_id=container_id, ifname=ifname)

    def delete(self, network: str, container_id: str, ifname: str) -> None:
        _unlink_quietly(self.path(network, container_id, ifname))

    def entries(self) -> tuple[list[CacheEntry], list[str]]:
        """Every readable cniCacheV1 entry, and the files that are not one (for GC and show): damaged,
        unreadable, or legacy bare results, which do not say which namespace they were for."""
        try:
            names = sorted(os.listdir(self.results_dir))
        except FileNotFoundError:
            return [], []
        except NotADirectoryError:
            raise not_a_directory(self.results_dir) from None
        except OSError as err:
            raise CacheError(f"failed to list cache entries in {self.results_dir}: {err.strerror}") from None
        found: list[CacheEntry] = []
        unreadable: list[str] = []
        for name in names:
            if name.startswith(".tmp-"):
                continue
            path = os.path.join(self.results_dir, name)
            try:
                with open(path, "rb") as handle:
                    entry = parse_entry(handle.read(), path=path)
            except (OSError, CacheError):
                unreadable.append(path)
                continue
            if entry.legacy:  # a bare result: which namespace and arguments it was for is lost
                unreadable.append(path)
            else:
                found.append(entry)
        return found, unreadable


def parse_entry(
    data: bytes,
    *,
    path: str,
    network: str = "",
    container_id: str = "",
    ifname: str = "",
) -> CacheEntry:
    """Parse a cache file: a cniCacheV1 document, or a legacy bare result (CACHE-02)."""
    try:
        document = jsondecode.loads(data, max_nesting=ENTRY_NESTING)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise _not_json(path, data, err) from None
    if not isinstance(document, dict):
        raise CacheError(f"cache entry {path} is not a JSON object")
    if document.get("kind") != CACHE_KIND:
        # Written by libcni before cniCacheV1: the file is the result itself.
        return CacheEntry(network, container_id, ifname, b"", document, legacy=True)
    try:
        return CacheEntry(
            network_name=_string(document, "networkName"),
            container_id=_string(document, "containerId"),
            ifname=_string(document, "ifName"),
            config=base64.b64decode(_string(document, "config"), validate=True),
            result=_optional_object(document, "result"),
            netns=_string(document, "netns"),
            cni_args=_pairs(document.get("cniArgs")),
            capability_args=_optional_object(document, "capabilityArgs") or {},
        )
    except (ValueError, binascii.Error) as err:
        raise CacheError(f"cache entry {path} is malformed: {err}") from None


def _not_json(path: str, data: bytes, err: ValueError) -> CacheError:
    """What is wrong with a cache file that does not parse (CACHE-05): nothing in it, cut short
    (the JSON stops unfinished, as after a crash during a non-atomic write by another tool), or
    something else that is not JSON, with the decoder's reason and position."""
    if not data.strip():
        return CacheError(f"cache entry {path} is empty")
    if isinstance(err, UnicodeDecodeError):
        return CacheError(f"cache entry {path} is not valid JSON: not UTF-8 text "
                          f"(byte 0x{data[err.start]:02x} at offset {err.start})")
    assert isinstance(err, json.JSONDecodeError)
    if isinstance(err, jsondecode.NestingTooDeep):
        return CacheError(f"cache entry {path} is {err.msg} at line {err.lineno} column {err.colno}")
    # The decoder wanted more where the text ends, or a string runs to the end unterminated.
    if err.pos >= len(err.doc.rstrip()) or err.msg.startswith("Unterminated string"):
        return CacheError(f"cache entry {path} is truncated: its JSON ends unfinished after {len(data)} bytes")
    return CacheError(f"cache entry {path} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}")


def _string(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f'"{key}" must be a string')
    return value


def _optional_object(document: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = document.get(key)
    if value is not None and not isinstance(value, dict):
        raise ValueError(f'"{key}" must be an object')
    return value


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) for pair in value
    ):
        raise ValueError('"cniArgs" must be a list of [key, value] string pairs')
    return tuple((key, val) for key, val in value)


def make_private_dirs(path: str) -> None:
    """``os.MkdirAll(path, 0o700)``: every directory created on the way is 0700 (CACHE-01).

    Python's os.makedirs applies ``mode`` to the last component only. A file where a directory
    must be (``--cache-dir`` naming a regular file) is a CacheError saying so, rather than the
    caller's "cannot create lock file …: File exists".
    """
    try:
        _make_dirs(path)
    except (FileExistsError, NotADirectoryError):
        raise not_a_directory(path) from None


def _make_dirs(path: str) -> None:
    parent = os.path.dirname(path.rstrip(os.sep))
    if parent and parent != path and not os.path.isdir(parent):
        _make_dirs(parent)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not os.path.isdir(path):
            raise


def not_a_directory(path: str) -> CacheError:
    """The error for a cache directory ``path`` that cannot be used because it, or a directory on
    the way to it, exists and is not a directory; it names which one."""
    return CacheError(
        f"cannot use cache directory {path}: {_first_non_directory(path)} is not a directory",
        hint="the cache directory (--cache-dir, CNI_CACHE_DIR) must be a directory or a path where one can be created",
    )


def _first_non_directory(path: str) -> str:
    """The first component of ``path``, from the top, that exists and is not a directory
    (``path`` itself when there is none any more: it changed meanwhile)."""
    prefix = ""
    for part in os.path.normpath(path).split(os.sep):
        prefix = os.path.join(prefix, part) if prefix else (part or os.sep)
        if os.path.exists(prefix) and not os.path.isdir(prefix):
            return prefix
    return path


def _unlink_quietly(path: str) -> None:
    """Remove a file that may already be gone (a repeated DEL is not an error, DEL-01)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise CacheError(f"failed to remove cache entry {path}: {err.strerror}") from None
