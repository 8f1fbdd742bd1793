"""``cnitool del NET NETNS``: detach a namespace from a network (SPEC.md DEL)."""

from __future__ import annotations

from typing import Any

import click

from cnitool.cli.app import get_app
from cnitool.cli.common import (
    attachment_command,
    find_cached_attachment,
    load_network_or_cached,
    make_cni,
    resolve_attachment,
    with_cached_arguments,
)
from cnitool.cli.output import Output


@attachment_command(
    "Detach NETNS from network NETWORK. Succeeds when there is nothing to remove, and when the "
    "namespace is already gone (DEL is best effort).",
    short_help="Detach a namespace from a network.",
)
@click.option("--remove-netns", is_flag=True, help="Afterwards remove the namespace too (only one under /var/run/netns).")
def delete(network: str, netns: str, remove_netns: bool, **options: Any) -> None:
    from cnitool import netns as netns_adapter
    from cnitool.core.errors import UsageError

    app = get_app()
    output = Output(app)
    attachment = resolve_attachment(app, netns, options)
    if remove_netns and not netns_adapter.is_named(attachment.netns_path):
        raise UsageError(f"--remove-netns removes only namespaces under {netns_adapter.NETNS_DIR}, not {attachment.netns_path}")
    netns_adapter.refuse_host_namespace(attachment.netns_path)  # before any plugin runs (CLI-03)
    cni = make_cni(app, output)
    attachment = find_cached_attachment(output, cni, network, attachment, options)
    config = load_network_or_cached(app, output, cni, network, attachment.runtime, options["conf_file"])
    was_cached = cni.cache.has_entry(config.name, attachment.runtime.container_id, attachment.runtime.ifname)
    cni.delete(config, with_cached_arguments(cni, config.name, attachment.runtime))
    if was_cached:
        message = f"Deleted {attachment.runtime.ifname} in {netns} from network {config.name}"
    else:  # DEL still ran: the plugins release whatever may be left (DEL is idempotent)
        message = (f"Nothing was cached for {attachment.runtime.ifname} in {netns} on network {config.name}; "
                   "DEL ran anyway")
    if remove_netns and netns_adapter.exists(attachment.netns_path):
        netns_adapter.remove(attachment.netns_path)
        message += f"; removed namespace {attachment.netns_path}"
    output.done(message)
