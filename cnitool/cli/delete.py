"""``cnitool del NET NETNS``: detach a namespace from a network (SPEC.md DEL)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import get_app
from cnitool.cli.common import attachment_command, load_network, make_cni, resolve_attachment
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from cnitool.core.api import Cni
    from cnitool.core.runtime import RuntimeConf


@attachment_command(
    "Detach NETNS from network NETWORK. Succeeds when there is nothing to remove, and when the "
    "namespace is already gone (DEL is best effort).",
    short_help="Detach a namespace from a network.",
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
    cni.delete(config, with_cached_arguments(cni, config.name, attachment.runtime))
    message = f"Deleted {attachment.runtime.ifname} in {netns} from network {config.name}"
    if remove_netns and netns_adapter.exists(attachment.netns_path):
        netns_adapter.remove(attachment.netns_path)
        message += f"; removed namespace {attachment.netns_path}"
    output.done(message)


def with_cached_arguments(cni: Cni, network: str, runtime: RuntimeConf) -> RuntimeConf:
    """OURS: a DEL given no capability args (or no CNI_ARGS) uses the ones cached at ADD.

    The reference passes only what the caller gives, so ``cnitool del`` without the ADD's
    ``CAP_ARGS`` leaves portmap's DNAT rules behind; the cache entry knows what was added.
    """
    from dataclasses import replace

    entry = cni.cached_entry(network, runtime)
    if entry is None:
        return runtime
    if not runtime.capability_args and entry.capability_args:
        runtime = replace(runtime, capability_args=dict(entry.capability_args))
    if not runtime.args and entry.cni_args:
        runtime = replace(runtime, args=entry.cni_args)
    return runtime
