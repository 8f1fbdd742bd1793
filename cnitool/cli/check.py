"""``cnitool check NET NETNS``: ask every plugin whether the attachment is as it left it (SPEC.md CHECK)."""

from __future__ import annotations

from typing import Any

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


@attachment_command("Check that NETNS is still attached to NETWORK as the cached result says.",
                    short_help="Check an attachment against the cached result.")
def check(network: str, netns: str, **options: Any) -> None:
    from cnitool import netns as netns_adapter

    app = get_app()
    output = Output(app)
    attachment = resolve_attachment(app, netns, options)
    netns_adapter.refuse_host_namespace(attachment.netns_path)  # whether it exists: asked later
    cni = make_cni(app, output)
    attachment = find_cached_attachment(output, cni, network, attachment, options)
    config = load_network_or_cached(app, output, cni, network, attachment.runtime, options["conf_file"])
    cni.check(config, with_cached_arguments(cni, config.name, attachment.runtime),
              check_netns=netns_adapter.check_netns)  # CLI-03: before any plugin runs
    if config.disable_check:
        output.done(f"Network {config.name} has disableCheck set: nothing was checked")
    else:
        output.done(f"{attachment.runtime.ifname} in {netns} is attached to network {config.name} as cached")
