"""``cnitool add NET NETNS``: attach a namespace to a network (SPEC.md ADD)."""

from __future__ import annotations

from typing import Any

import click

from cnitool.cli.app import get_app
from cnitool.cli.common import (
    attachment_command,
    load_network,
    make_cni,
    remove_namespace_unless_used,
    resolve_attachment,
    warn_unused_capabilities,
)
from cnitool.cli.output import Output, OutputFailed


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
    bare = netns_adapter.is_bare_name(netns)
    # CLI-03: a bare name that does not exist yet is created, or joined when a concurrent add
    # of the same name created it first; the hold keeps its creator from removing it under us.
    with netns_adapter.occupy(attachment.netns_path, create_name=netns if bare else None) as occupancy:
        try:
            netns_adapter.check_netns(attachment.netns_path)
            result = cni.add(config, attachment.runtime, rollback=not no_rollback)
        except (CniError, KeyboardInterrupt):
            if occupancy.created and not no_rollback:
                remove_namespace_unless_used(output, cni, occupancy, netns)  # a failed add leaves nothing behind
            raise
    where = f"{netns} (new namespace)" if occupancy.created else netns
    try:
        output.result(result, f"Added {attachment.runtime.ifname} in {where} to network {config.name} "
                              f"(container {attachment.runtime.container_id}, cniVersion {config.version})")
    except OutputFailed as err:  # only printing failed: the attachment is made and cached
        err.details = (f"{attachment.runtime.ifname} in {where} is attached to network {config.name} and cached: "
                       "the attachment is in place, only its result could not be printed")
        err.hint = _printing_failed_hint(network, netns, options)
        raise


def _printing_failed_hint(network: str, netns: str, options: dict[str, Any]) -> str:
    """How to see the result again and how to remove the attachment, naming it as this add did."""
    import shlex

    words = [network, netns]
    if options["ifname"] is not None:
        words += ["-i", options["ifname"]]
    if options["container_id"] is not None:
        words += ["--container-id", options["container_id"]]
    target = shlex.join(words)
    return f"`cnitool show {target}` prints it again; `cnitool del {target}` removes it"

