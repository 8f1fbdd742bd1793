"""``cnitool del NET NETNS``: detach a namespace from a network (SPEC.md DEL)."""

from __future__ import annotations

from typing import Any

import click

from cnitool.cli.app import get_app
from cnitool.cli.common import attachment_command, load_network, make_cni, resolve_attachment
from cnitool.cli.output import Output


@attachment_command(
    "Detach NETNS from network NETWORK. Succeeds when there is nothing to remove, and when the "
    "namespace is already gone (DEL is best effort)."
)
@click.option("--remove-netns", is_flag=True, help="Afterwards remove the namespace too (only one under /var/run/netns).")
def delete(network: str, netns: str, remove_netns: bool, **options: Any) -> None:
    from cnitool import netns as netns_adapter
    from cnitool.core.errors import NetworkNotFound, UsageError

    app = get_app()
    output = Output(app)
    attachment = resolve_attachment(app, netns, options)
    if remove_netns and not netns_adapter.is_named(attachment.netns_path):
        raise UsageError(f"--remove-netns removes only namespaces under {netns_adapter.NETNS_DIR}, not {attachment.netns_path}")
    cni = make_cni(app, output)
    try:
        config = load_network(app, output, network, options["conf_file"])
    except NetworkNotFound:
        # DEL-01 OURS: the network's file is gone, but the attachment cached its config.
        cached = cni.cached_network(network, attachment.runtime)
        if cached is None:
            raise
        output.warning(f'network "{network}" is no longer in the config directories; using the config cached with the attachment')
        config = cached
    cni.delete(config, attachment.runtime)
    message = f"Deleted {attachment.runtime.ifname} in {netns} from network {config.name}"
    if remove_netns and netns_adapter.exists(attachment.netns_path):
        netns_adapter.remove(attachment.netns_path)
        message += f"; removed namespace {attachment.netns_path}"
    output.done(message)
