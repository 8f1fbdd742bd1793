"""``cnitool gc NET``: remove the network's stale attachments, then plugin GC (GC-01, GC-02)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import get_app, global_options
from cnitool.cli.common import conf_file_option, load_network, make_cni
from cnitool.cli.complete import complete_netns, complete_network
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from cnitool.core.cache import CacheEntry
    from cnitool.core.gc import GcReport


@click.command(
    short_help="Remove stale attachments; plugin GC.",
    help="Remove stale attachments of NETWORK and let its plugins collect garbage.\n\n"
    "An attachment is kept when its namespace still exists or it is named with --keep; every "
    "other cached attachment of NETWORK is DELeted with the config, namespace and arguments cached "
    "with it. Then, for cniVersion 1.1.0 and later, each plugin gets GC with the attachments kept "
    "(not while a cache entry that may be NETWORK's cannot be read: that is an error). "
    "Only NETWORK is ever touched. NETNS is accepted for compatibility with the Go cnitool and ignored."
)
@click.argument("network", shell_complete=complete_network)
@click.argument("netns", required=False, shell_complete=complete_netns)
@click.option("--keep", "keep", multiple=True, metavar="CONTAINERID/IFNAME", help="Also keep this attachment (repeatable).")
@click.option("--dry-run", is_flag=True, help="Only show what would be removed.")
@conf_file_option
@global_options
def gc(network: str, netns: str | None, keep: tuple[str, ...], dry_run: bool, conf_file: str | None) -> int:
    from cnitool import netns as netns_adapter
    from cnitool.core.gc import collect_garbage

    app = get_app()
    output = Output(app)
    kept = [_parse_keep(item) for item in keep]
    config = load_network(app, output, network, conf_file)
    report = collect_garbage(make_cni(app, output), config, netns_exists=netns_adapter.exists, keep=kept, dry_run=dry_run)
    output.document(_document(report), lambda console: _draw(console, report))
    for error in report.errors:  # in the order they happened; the first one sets the exit status
        output.error(error)
    return int(report.errors[0].exit_code) if report.errors else 0


def _parse_keep(text: str) -> tuple[str, str]:
    from cnitool.core.errors import UsageError
    from cnitool.core.names import validate_container_id, validate_interface_name

    container_id, sep, ifname = text.rpartition("/")
    if not sep:
        raise UsageError(f'invalid --keep "{text}": expected CONTAINERID/IFNAME')
    validate_container_id(container_id)
    validate_interface_name(ifname)
    return container_id, ifname


def _document(report: GcReport) -> dict[str, Any]:
    return {
        "network": report.network,
        "disabled": report.disabled,
        "dryRun": report.dry_run,
        "kept": [{"containerID": cid, "ifname": ifname} for cid, ifname in report.kept],
        "removed": [_attachment(entry) for entry in report.removed],
        "failed": [_attachment(entry) for entry in report.failed],
        "pluginGC": report.plugin_gc,
        "errors": [error.to_dict() for error in report.errors],
    }


def _attachment(entry: CacheEntry) -> dict[str, str]:
    return {"containerID": entry.container_id, "ifname": entry.ifname, "netns": entry.netns}


def _draw(console: Console, report: GcReport) -> None:
    from cnitool.render import human

    if report.disabled:
        human.write_line(console, f"Network {report.network} has disableGC set: nothing was collected", "yellow")
        return
    verb = "Would remove" if report.dry_run else "Removed"
    failed = f", failed to remove {len(report.failed)}" if report.failed else ""
    human.write_line(console, f"GC of network {report.network}: kept {len(report.kept)}, "
                              f"{verb.lower()} {len(report.removed)} stale attachment(s){failed}")
    for cid, ifname in report.kept:
        human.write_line(console, f"  kept     {cid}/{ifname}", "default")
    for entry in report.removed:
        human.write_line(console, f"  {'to remove' if report.dry_run else 'removed'}  {entry.container_id}/{entry.ifname} "
                                  f"(netns {entry.netns or '-'})", "default")
    for entry in report.failed:
        human.write_line(console, f"  not removed  {entry.container_id}/{entry.ifname} (netns {entry.netns or '-'}): "
                                  "its DEL failed (below); the next gc tries again", "yellow")
    if report.plugin_gc:
        human.write_line(console, "  plugins were sent GC with the attachments kept", "default")
