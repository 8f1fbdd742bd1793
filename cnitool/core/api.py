"""The verb algorithms: libcni's CNIConfig in Python (SPEC.md "Execution protocol" / "Attachment lifecycle").

Everything comes in as arguments (plugin dirs, a plugin runner, the cache directory) and goes out
as values or errors: no printing, no environment, no flags.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cnitool.core.cache import CacheEntry, ResultCache
from cnitool.core.excerpt import excerpt
from cnitool.core.errors import (
    AlreadyAttached,
    CacheError,
    CniError,
    ConfigError,
    InterfaceInUse,
    NotAdded,
    PluginFailed,
    PluginNotFound,
    VersionError,
)
from cnitool.core.loader import load_network_bytes
from cnitool.core.lock import Locks
from cnitool.core.names import validate_attachment, validate_plugin_type
from cnitool.core.netconf import NetworkConfig, PluginConfig
from cnitool.core.pluginexec import PluginCaller, StderrSink, describe_plugin, failure_prefix
from cnitool.core.request import build_request
from cnitool.core.result import Result, convert_result, parse_result, result_to_wire
from cnitool.core.runner import PluginRunner
from cnitool.core.runtime import RuntimeConf, same_namespace
from cnitool.core.version import parse_version


@dataclass(frozen=True)
class Cni:
    """Runs network configurations with one plugin path, runner and cache directory."""

    plugin_dirs: Sequence[str]
    runner: PluginRunner
    cache_dir: str
    stderr_sink: StderrSink | None = None
    notice: Callable[[str], None] | None = None  # what a person waiting should know, as it happens

    @property
    def caller(self) -> PluginCaller:
        return PluginCaller(self.runner, self.plugin_dirs, self.stderr_sink)

    @property
    def cache(self) -> ResultCache:
        return ResultCache(self.cache_dir)

    @property
    def locks(self) -> Locks:
        return Locks(self.cache_dir)

    # ----------------------------------------------------------------------------- ADD

    def add(self, network: NetworkConfig, runtime: RuntimeConf, *, rollback: bool = True) -> Result:
        """Run ADD through the chain, cache the final result and return it (ADD-01, CACHE-03).

        ADD-02 OURS: when a plugin fails or the cache cannot be written, every plugin that was
        started gets DEL in reverse order, unless ``rollback`` is False.
        """
        validate_inputs(network, runtime)
        started: list[PluginConfig] = []
        result: Result | None = None
        undoing_a_failure = False
        try:
            with self.locks.attachment(network.name, runtime.container_id, runtime.ifname):
                self._refuse_interface_taken(network, runtime)
                try:
                    for plugin in network.plugins:
                        request = build_request(network, plugin, prev_result=result, capability_args=runtime.capability_args)
                        started.append(plugin)
                        stdout = self.caller.call(plugin, "ADD", request, runtime)
                        result = self._add_result(network, plugin, stdout)
                    assert result is not None  # a network has at least one plugin (LOAD-11)
                    self.cache.write(self._cache_entry(network, runtime, result))
                except CniError as err:
                    if _was_not_started(err):
                        started.pop()
                    if rollback:
                        undoing_a_failure = True  # an interrupt now stops this rollback, it does not restart it
                        self._roll_back(network, runtime, started, result, err)
                    raise
            return result
        except KeyboardInterrupt as interrupt:
            if rollback and started and not undoing_a_failure:
                self._roll_back_interrupted(network, runtime, started, result, interrupt)
            raise

    def _roll_back_interrupted(self, network: NetworkConfig, runtime: RuntimeConf, started: list[PluginConfig],
                               result: Result | None, interrupt: KeyboardInterrupt) -> None:
        """Ctrl-C (or SIGTERM) during ADD: the runner killed the running plugin; what the chain
        built is rolled back, with the cache entry when the interrupt came after it was written
        (even as the lock was being released: it is taken again). Any entry now is ours: a
        present one was refused under the lock. A second interrupt stops this."""
        if self.notice is not None:
            self.notice(f"interrupted: rolling back the ADD ({len(started)} plugin(s) to DEL, "
                        "in reverse order); interrupt again to stop at once")
        failure = CniError("interrupted")
        interrupt.rollback_errors = failure.rollback_errors  # type: ignore[attr-defined]  # filled below
        with self.locks.attachment(network.name, runtime.container_id, runtime.ifname):
            self._roll_back(network, runtime, started, result, failure)
            self.cache.delete(network.name, runtime.container_id, runtime.ifname)

    def _refuse_interface_taken(self, network: NetworkConfig, runtime: RuntimeConf) -> None:
        """SPEC.md "Attachment lifecycle": no second ADD of an attachment without a DEL between;
        nor an ADD of an interface that another attachment already made in this namespace
        (another network, or the namespace under another path and so another container ID).

        Running it anyway would fail in a plugin (the interface exists) and our rollback DEL, sent
        with the same interface name, would then tear down the interface that is in use. A damaged
        entry of this attachment still records an ADD.
        """
        if self.cache.has_entry(network.name, runtime.container_id, runtime.ifname):
            raise AlreadyAttached(
                f'{runtime.ifname} in {runtime.netns} is already attached to network "{network.name}" '
                f"(container {runtime.container_id})",
                hint="delete it first (cnitool del), or attach another interface with -i",
            )
        for entry in self._entries_in_namespace(runtime.netns, runtime.ifname):
            raise AlreadyAttached(
                f'{runtime.ifname} in {runtime.netns} is already attached to network "{entry.network_name}" '
                f"(container {entry.container_id}, namespace given as {entry.netns})",
                hint="delete that attachment first (cnitool del), or attach another interface with -i",
            )

    def attachments_in_namespace(self, netns: str) -> list[CacheEntry]:
        """The readable cache entries of every network and interface in the namespace at ``netns``,
        under whatever path each was added (/run/netns/x, /var/run/netns/x, a /proc/PID/ns/net)."""
        entries, _unreadable = self.cache.entries()
        return [entry for entry in entries if same_namespace(entry.netns, netns)]

    def _entries_in_namespace(self, netns: str, ifname: str) -> list[CacheEntry]:
        return [entry for entry in self.attachments_in_namespace(netns) if entry.ifname == ifname]

    def attachment_in_namespace(self, network_name: str, netns: str, ifname: str) -> CacheEntry | None:
        """The one cached attachment of this network for ``ifname`` in the namespace at ``netns``,
        or None (none, or several: then which one is meant is not ours to guess)."""
        found = [entry for entry in self._entries_in_namespace(netns, ifname) if entry.network_name == network_name]
        return found[0] if len(found) == 1 else None

    def _add_result(self, network: NetworkConfig, plugin: PluginConfig, stdout: bytes) -> Result:
        """EXEC-06 and RES-03: a result, in the network's version, or an error naming the plugin."""
        if not stdout.strip():
            raise PluginFailed(f"{failure_prefix(plugin, 'ADD')}: the plugin printed no result", plugin=plugin.type, command="ADD")
        try:
            result = parse_result(stdout, default_version=network.version)
            return self._in_network_version(network, result)
        except CniError as err:
            message = err.msg
            raise PluginFailed(
                f"{failure_prefix(plugin, 'ADD')}: invalid result: {message}",
                plugin=plugin.type,
                command="ADD",
                details=excerpt(stdout).decode(errors="replace"),
            ) from None

    def _roll_back(
        self,
        network: NetworkConfig,
        runtime: RuntimeConf,
        started: list[PluginConfig],
        last_good: Result | None,
        failure: CniError,
    ) -> None:
        """DEL, in reverse order, every plugin that was started; failures are attached to ``failure``.

        An interrupt stops it; what was left undone is attached too, so the user learns that the
        plugins may have left state behind (and which DELs to run again: ``cnitool del``)."""
        pending = list(reversed(started))
        while pending:
            plugin = pending[0]
            request = build_request(network, plugin, prev_result=self._del_prev_result(network, last_good), capability_args=runtime.capability_args)
            try:
                self.caller.call(plugin, "DEL", request, runtime)
            except CniError as err:
                failure.rollback_errors.append(err)
            except KeyboardInterrupt:
                undone = ", ".join(f"plugin {describe_plugin(p)}" for p in pending)
                failure.rollback_errors.append(CniError(f"rollback interrupted: DEL did not finish for {undone}",
                                                         hint="cnitool del runs the DELs again"))
                raise
            pending.pop(0)

    @staticmethod
    def _cache_entry(network: NetworkConfig, runtime: RuntimeConf, result: Result) -> CacheEntry:
        return CacheEntry(
            network_name=network.name,
            container_id=runtime.container_id,
            ifname=runtime.ifname,
            config=network.raw_bytes,
            result=result_to_wire(result),
            netns=runtime.netns,
            cni_args=runtime.args,
            capability_args=dict(runtime.capability_args),
        )

    # ----------------------------------------------------------------------------- DEL

    def delete(self, network: NetworkConfig, runtime: RuntimeConf) -> None:
        """DEL-01: plugins in reverse order with the cached result; the cache entry goes on success.

        A missing or unusable cache entry is not an error: DEL is best effort (CACHE-05).
        """
        validate_inputs(network, runtime)
        with self.locks.attachment(network.name, runtime.container_id, runtime.ifname):
            self._refuse_interface_of_another(network, runtime)
            self.delete_locked(network, runtime)

    def _refuse_interface_of_another(self, network: NetworkConfig, runtime: RuntimeConf) -> None:
        """OURS: DEL of an attachment with no cache entry still runs (DEL is best effort, DEL-01),
        unless another cached attachment has this interface in this namespace: the plugins go by
        namespace and interface name (bridge deletes that eth0 whatever the container ID), so a
        typo in the network name, or a runtime's attachment under its own container ID, would be
        torn down while its entry and host-local's address stayed behind. add refuses the same
        case; the Go tool runs the DEL."""
        if self.cache.has_entry(network.name, runtime.container_id, runtime.ifname) or not os.path.exists(runtime.netns):
            return
        for entry in self._entries_in_namespace(runtime.netns, runtime.ifname):
            raise InterfaceInUse(
                f'{runtime.ifname} in {runtime.netns} belongs to the attachment of network "{entry.network_name}" '
                f"(container {entry.container_id}); no attachment of network \"{network.name}\" with container "
                f"{runtime.container_id} is cached there, and its DEL would remove that interface",
                hint=f"delete that attachment (cnitool del {entry.network_name} NETNS --container-id {entry.container_id}), "
                     "or name the interface of yours with -i",
            )

    def delete_locked(self, network: NetworkConfig, runtime: RuntimeConf) -> None:
        """DEL for a caller that already holds the network's lock (GC holds it exclusively)."""
        prev = self._del_prev_result(network, self._usable_cached_result(network, runtime))
        for plugin in reversed(network.plugins):
            request = build_request(network, plugin, prev_result=prev, capability_args=runtime.capability_args)
            self.caller.call(plugin, "DEL", request, runtime)
        self.cache.delete(network.name, runtime.container_id, runtime.ifname)

    def _usable_cached_result(self, network: NetworkConfig, runtime: RuntimeConf) -> Result | None:
        """The cached result for DEL, or None; a broken entry is removed (libcni DelNetworkList)."""
        if not _at_least(network.version, "0.4.0"):
            return None  # libcni reads no cache below 0.4.0
        try:
            return self._cached_result(network, runtime)
        except CniError:
            self.cache.delete(network.name, runtime.container_id, runtime.ifname)
            return None

    @staticmethod
    def _del_prev_result(network: NetworkConfig, result: Result | None) -> Result | None:
        """REQ-03: prevResult on DEL exists since spec 0.4.0."""
        return result if _at_least(network.version, "0.4.0") else None

    def cached_entry(self, network_name: str, runtime: RuntimeConf) -> CacheEntry | None:
        """The attachment's cache entry, or None when there is none or it cannot be read."""
        validate_attachment(network_name, runtime.container_id, runtime.ifname)
        try:
            return self.cache.read(network_name, runtime.container_id, runtime.ifname)
        except CacheError:
            return None

    def cached_network(self, network_name: str, runtime: RuntimeConf) -> NetworkConfig | None:
        """The network config cached with an attachment, for DEL after its file was removed (DEL-01 OURS)."""
        entry = self.cached_entry(network_name, runtime)
        if entry is None or not entry.config:
            return None
        try:
            network, _warnings = load_network_bytes(entry.config, source=self.cache.path(network_name, runtime.container_id, runtime.ifname), is_list=True)
        except CniError:
            return None
        return network if network.name == network_name else None

    # ----------------------------------------------------------------------------- CHECK

    def check(self, network: NetworkConfig, runtime: RuntimeConf, *,
              check_netns: Callable[[str], None] | None = None) -> None:
        """CHECK-01, in the reference's order of tests. ``check_netns(path)`` raises when the
        namespace cannot be used; it is asked only when plugins are about to run (CLI-03), so a
        network that checks nothing answers the same whatever became of the namespace."""
        validate_inputs(network, runtime)
        if not _at_least(network.version, "0.4.0"):
            raise ConfigError(f'configuration version "{network.version}" does not support the CHECK command', code=1)
        if network.disable_check:
            return
        with self.locks.attachment(network.name, runtime.container_id, runtime.ifname):
            try:
                cached = self._cached_result(network, runtime)
            except CniError as err:
                raise CacheError(f'failed to get network "{network.name}" cached result: {err.msg}') from None
            if cached is None:
                raise NotAdded(
                    f'network "{network.name}" has no cached result for container "{runtime.container_id}" '
                    f'interface "{runtime.ifname}": it was not added (CHECK needs a previous ADD)',
                    hint=f"looked for {self.cache.path(network.name, runtime.container_id, runtime.ifname)}",
                )
            if check_netns is not None:
                check_netns(runtime.netns)
            for plugin in network.plugins:
                request = build_request(network, plugin, prev_result=cached, capability_args=runtime.capability_args)
                self.caller.call(plugin, "CHECK", request, runtime)

    # ----------------------------------------------------------------------------- helpers

    def _cached_result(self, network: NetworkConfig, runtime: RuntimeConf) -> Result | None:
        """The cached ADD result converted to the network's version; None when nothing is cached."""
        entry = self.cache.read(network.name, runtime.container_id, runtime.ifname)
        if entry is None:
            return None
        if not entry.result:
            raise CacheError(f"cache entry {self.cache.path(network.name, runtime.container_id, runtime.ifname)} holds no result")
        result = parse_result(dict(entry.result), default_version=network.version)
        return self._in_network_version(network, result)

    @staticmethod
    def _in_network_version(network: NetworkConfig, result: Result) -> Result:
        """RES-03 OURS: results travel in the network's version, whatever the plugin answered in."""
        target = network.version or "0.1.0"  # no cniVersion at all means 0.1.0 (VER-02)
        if result.cni_version == target:
            return result
        return convert_result(result, target)


def _was_not_started(err: CniError) -> bool:
    """A plugin that was not found never ran, so rollback must not DEL it (ADD-02)."""
    return isinstance(err, PluginNotFound) and err.command == "ADD"


def validate_inputs(network: NetworkConfig, runtime: RuntimeConf) -> None:
    """Every name that reaches a plugin or a cache path, checked before any plugin runs (VAL-01 … VAL-05)."""
    validate_attachment(network.name, runtime.container_id, runtime.ifname)
    for plugin in network.plugins:
        validate_plugin_type(plugin.type)
        ipam = plugin.raw.get("ipam")
        if isinstance(ipam, dict) and isinstance(ipam.get("type"), str):
            validate_plugin_type(ipam["type"])


def _at_least(version: str, minimum: str) -> bool:
    try:
        return parse_version(version) >= parse_version(minimum)
    except VersionError:
        return False
