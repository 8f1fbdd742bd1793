"""``cnitool add NET NETNS``: attach a namespace to a network (SPEC.md ADD)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import get_app
from cnitool.cli.common import attachment_command, load_network, make_cni, resolve_attachment, warn_unused_capabilities
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from cnitool.core.api import Cni
    from cnitool.core.runtime import RuntimeConf


@attachment_command(
    "Attach NETNS to network NETWORK and print the result.\n\n"
    "NETNS is a path (/var/run/netns/x, /proc/PID/ns/net) or a bare name meaning "
    "/var/run/netns/NAME, which is created (visible to `ip netns`) when it does not exist.",
    short_help="Attach a namespace to a network; print the result.",
)
@click.option("--no-rollback", is_flag=True, help="On failure, keep what the plugins built (for debugging) instead of DEL-ing it.")
def add(network: str, netns: str, no_rollback: bool, **options: Any) -> None:
    from cnitool import netns as netns_adapter
    from cnitool.core.errors import CniError

    app = get_app()
    output = Output(app)
    attachment = resolve_attachment(app, netns, options)
    config = load_network(app, output, network, options["conf_file"])
    warn_unused_capabilities(output, config, attachment.runtime)
    cni = make_cni(app, output)
    created = False
    if netns_adapter.is_bare_name(netns) and not netns_adapter.exists(attachment.netns_path):
        netns_adapter.create(netns)  # CLI-03: a bare name that does not exist yet
        created = True
    try:
        netns_adapter.check_netns(attachment.netns_path)
        _refuse_interface_taken(cni, attachment.netns_path, attachment.runtime)
        result = cni.add(config, attachment.runtime, rollback=not no_rollback)
    except (CniError, KeyboardInterrupt):
        if created and not no_rollback:
            netns_adapter.remove(netns)  # a failed add leaves nothing behind, the namespace included
        raise
    where = f"{netns} (new namespace)" if created else netns
    output.result(result, f"Added {attachment.runtime.ifname} in {where} to network {config.name} "
                          f"(container {attachment.runtime.container_id}, cniVersion {config.version})")


def _refuse_interface_taken(cni: Cni, netns_path: str, runtime: RuntimeConf) -> None:
    """The interface is already attached in this namespace under another name for it (another
    path, another container ID) or by another network: ADD would fail in the plugin, and the
    rollback DEL would then remove the interface that is in use."""
    from cnitool import netns as netns_adapter
    from cnitool.core.errors import AlreadyAttached

    entries, _unreadable = cni.cache.entries()
    for entry in entries:
        if entry.ifname != runtime.ifname or not netns_adapter.same_namespace(entry.netns, netns_path):
            continue
        if entry.container_id == runtime.container_id:
            continue  # the same attachment: core refuses it with its own message
        raise AlreadyAttached(
            f"{runtime.ifname} in {netns_path} is already attached to network \"{entry.network_name}\" "
            f"(container {entry.container_id}, namespace given as {entry.netns})",
            hint="delete that attachment first (cnitool del), or attach another interface with -i",
        )
