"""GC of one network: remove stale attachments, then ask each plugin to collect its garbage (GC-01, GC-02).

The reference's ``cnitool gc`` passes an empty valid set, so it DELs every attachment of the
network, including live ones that other runtimes sharing the cache directory still use. Ours
keeps, by default, every cached attachment whose namespace still exists (GC-02 OURS).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cnitool.core.api import Cni, validate_inputs
from cnitool.core.cache import CacheEntry
from cnitool.core.errors import CacheError, CniError
from cnitool.core.loader import load_network_bytes
from cnitool.core.netconf import NetworkConfig
from cnitool.core.request import build_gc_request
from cnitool.core.runtime import RuntimeConf
from cnitool.core.version import version_at_least

Attachment = tuple[str, str]  # (container ID, interface name), the spec's GC attachment key


@dataclass
class GcReport:
    network: str
    disabled: bool = False  # disableGC: nothing was done
    dry_run: bool = False
    kept: list[Attachment] = field(default_factory=list)
    removed: list[CacheEntry] = field(default_factory=list)  # stale attachments DELeted (or, dry run, to DEL)
    failed: list[CacheEntry] = field(default_factory=list)  # stale attachments whose DEL failed: still cached
    plugin_gc: bool = False  # whether plugins were sent GC (spec ≥ 1.1.0)
    errors: list[CniError] = field(default_factory=list)


def collect_garbage(
    cni: Cni,
    network: NetworkConfig,
    *,
    netns_exists: Callable[[str], bool],
    keep: Iterable[Attachment] = (),
    dry_run: bool = False,
) -> GcReport:
    """Run GC on ``network``; every error is collected, none stops the rest (GC-01)."""
    report = GcReport(network=network.name, dry_run=dry_run)
    if network.disable_gc:
        report.disabled = True
        return report
    with cni.locks.network_exclusive(network.name):  # spec: no ADD/DEL of this network during GC
        entries, unreadable = cni.cache.entries()
        mine = [entry for entry in entries if entry.network_name == network.name]
        plugin_gc_due = version_at_least(network.version or "0.1.0", "1.1.0")
        unknown = _possibly_mine(unreadable, network.name)
        report.errors.extend(_unreadable_error(path, network.name, plugin_gc_due) for path in unknown)
        valid = set(keep) | {_key(entry) for entry in mine if entry.netns and netns_exists(entry.netns)}
        report.kept = sorted(valid)
        for entry in mine:
            if _key(entry) in valid:
                continue
            if dry_run or _delete_stale(cni, network, entry, report):
                report.removed.append(entry)
            else:
                report.failed.append(entry)
        # An entry we cannot read may be a live attachment of this network that is missing from the
        # valid set; plugin GC would then release what it holds (its IP, its rules). Better none.
        if plugin_gc_due and not dry_run and not unknown:
            report.plugin_gc = True
            for plugin in network.plugins:
                try:
                    cni.caller.call(plugin, "GC", build_gc_request(network, plugin, report.kept), None)
                except CniError as err:
                    report.errors.append(err)
    return report


def _delete_stale(cni: Cni, current: NetworkConfig, entry: CacheEntry, report: GcReport) -> bool:
    """DEL a stale attachment with what was cached with it: its config, netns, args (GC-01 OURS).
    False when it failed (the error is in the report; the entry stays for the next GC)."""
    runtime = RuntimeConf(
        container_id=entry.container_id,
        netns=entry.netns,
        ifname=entry.ifname,
        args=entry.cni_args,
        capability_args=dict(entry.capability_args),
    )
    # Unchanged since ADD: the current config, whose plugin-folder plugins (LOAD-11) the cached
    # bytes do not hold. Changed or unknown: what was cached, so DEL undoes what ADD did.
    network = current if entry.config == current.raw_bytes else (_cached_config(entry) or current)
    try:
        validate_inputs(network, runtime)
        cni.delete_locked(network, runtime)
    except CniError as err:
        report.errors.append(err)
        return False
    return True


def _cached_config(entry: CacheEntry) -> NetworkConfig | None:
    """The config the attachment was added with, or None when it cannot be used (then: the current one)."""
    if not entry.config:
        return None
    try:
        network, _warnings = load_network_bytes(entry.config, source="<cache>", is_list=True)
    except CniError:
        return None
    return network if network.name == entry.network_name else None


def _possibly_mine(paths: Iterable[str], network_name: str) -> list[str]:
    """Unreadable entry files whose name (NETWORK-CONTAINERID-IFNAME) could be this network's."""
    return [path for path in paths if os.path.basename(path).startswith(network_name + "-")]


def _unreadable_error(path: str, network_name: str, plugin_gc_due: bool) -> CacheError:
    msg = f"cache entry {path} is not a readable cniCacheV1 entry and may belong to network {network_name}"
    if plugin_gc_due:
        msg += ": plugin GC is not run while it is there, so that it cannot release what that attachment holds"
    return CacheError(msg, hint="inspect the file; remove it if its attachment is gone, then run gc again")


def _key(entry: CacheEntry) -> Attachment:
    return (entry.container_id, entry.ifname)
