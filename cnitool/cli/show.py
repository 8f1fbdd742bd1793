"""``cnitool show NET NETNS`` / ``show --all``: what the cache knows about attachments.

Each attachment: container ID, interface, network, namespace (and whether it still exists), CNI
args, capability args, and the cached ADD result (CACHE-02), as a table like ``add`` prints it,
or in JSON a list of entries whose ``result`` is the cached result in its own layout.

``--tree`` draws each attachment from the kernel's live state (cnitool.netinspect, pyroute2:
host side bridge and veth peer, namespace side interface, addresses and routes) and marks where
the kernel disagrees with the cached result. Inspecting never creates a namespace.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import get_app, global_options
from cnitool.cli.complete import complete_netns, complete_network
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    from cnitool.core.cache import CacheEntry
    from cnitool.core.result import Result
    from cnitool.netinspect import AttachmentState, InterfaceView, Route


@click.command(
    "show",
    short_help="Show cached attachments (--tree: live state).",
    help="Show what the cache knows about the attachments of NETNS to NETWORK (or of every "
    "namespace to NETWORK when NETNS is left out; --all: every cached attachment): container ID, "
    "interface, namespace and whether it still exists, args, capability args and the cached result.\n\n"
    "--tree draws each attachment from the kernel's live state (bridge, veth, interface, addresses, "
    "routes) and marks where it differs from the cached result.",
)
@click.argument("network", required=False, shell_complete=complete_network)
@click.argument("netns", required=False, shell_complete=complete_netns)
@click.option("--all", "show_all", is_flag=True, help="Every cached attachment, of every network.")
@click.option("--tree", is_flag=True, help="Draw the live state read from the kernel, with differences from the cache.")
@click.option("-i", "--ifname", metavar="NAME", help="Only the attachment with this interface name.")
@click.option("--container-id", metavar="ID", help="Only attachments with this container ID.")
@global_options
def show(network: str | None, netns: str | None, show_all: bool, tree: bool, ifname: str | None,
         container_id: str | None) -> None:
    from cnitool import netns as netns_adapter
    from cnitool.core.cache import ResultCache
    from cnitool.core.errors import NotAdded, UsageError
    from cnitool.core.names import validate_network_name
    from cnitool.core.runtime import container_id_for_netns, same_namespace

    app = get_app()
    output = Output(app)
    if show_all and network:
        raise UsageError("give NETWORK [NETNS] or --all, not both")
    if not show_all and not network:
        raise UsageError("give NETWORK [NETNS], or --all for every cached attachment")
    if network:
        validate_network_name(network)
    path = netns_adapter.resolve(netns) if netns else None
    cache = ResultCache(app.cache_dir)
    found, unreadable = cache.entries()
    for bad in unreadable:
        output.warning(f"cache entry {bad} is not a readable cniCacheV1 entry; skipped")
    wanted_id = container_id or (container_id_for_netns(path) if path else None)
    entries = [
        entry for entry in found
        if (show_all or entry.network_name == network)
        and (path is None or same_namespace(entry.netns, path) or entry.container_id == wanted_id)
        and (container_id is None or entry.container_id == container_id)
        and (ifname is None or entry.ifname == ifname)
    ]
    if not entries and not show_all:
        what = f"{netns} to network {network}" if netns else f"anything to network {network}"
        raise NotAdded(f"the cache has no attachment of {what}", hint=f"looked in {cache.results_dir}")
    documents = []
    states: list[AttachmentState | None] = []
    for entry in entries:
        document = entry_document(entry, cache.path(entry.network_name, entry.container_id, entry.ifname))
        state = None
        if tree:
            from cnitool.netinspect import inspect_attachment

            state = inspect_attachment(entry.netns, entry.ifname, cached_result(entry))
            live = state.to_dict()
            document["differences"] = live.pop("differences")
            document["live"] = live
        documents.append(document)
        states.append(state)
    output.document(documents, lambda console: _draw(console, app.cache_dir, entries, documents, states))


def entry_document(entry: CacheEntry, cache_file: str) -> dict[str, Any]:
    """One attachment in JSON: the cache's own field names, the result in its cached layout."""
    from cnitool import netns as netns_adapter

    return {
        "network": entry.network_name,
        "containerId": entry.container_id,
        "ifName": entry.ifname,
        "netns": entry.netns,
        "netnsExists": bool(entry.netns) and netns_adapter.exists(entry.netns),
        "cniArgs": [[key, value] for key, value in entry.cni_args],
        "capabilityArgs": dict(entry.capability_args),
        "cacheFile": cache_file,
        "result": dict(entry.result) if entry.result is not None else None,
    }


def cached_result(entry: CacheEntry) -> Result | None:
    """The cached result parsed; a result without cniVersion takes the cached config's version."""
    from cnitool.core.errors import CniError
    from cnitool.core.jsondecode import loads
    from cnitool.core.result import parse_result

    if not entry.result:
        return None
    try:
        version = loads(entry.config).get("cniVersion", "") if entry.config else ""
    except (ValueError, AttributeError):
        version = ""
    try:
        return parse_result(dict(entry.result), default_version=version if isinstance(version, str) else "")
    except CniError:
        return None


# ------------------------------------------------------------------------------------ drawing


def _draw(console: Console, cache_dir: str, entries: list[CacheEntry], documents: list[dict[str, Any]],
          states: list[AttachmentState | None]) -> None:
    from rich.text import Text

    from cnitool.render import human

    if not entries:
        human.write_line(console, f"no cached attachments in {cache_dir}", "yellow")
        return
    for number, (entry, document, state) in enumerate(zip(entries, documents, states, strict=True)):
        if number:
            console.print()
        console.print(Text(f"{entry.network_name} · {entry.ifname} · {entry.netns or '(no namespace)'}", style="bold"))
        console.print(_details(document))
        if state is not None:
            console.print(_tree(entry, state))
            continue
        result = cached_result(entry)
        if result is not None:
            human.write_result(console, result, "Cached result")
        elif entry.result:
            console.print(Text("Cached result (cannot be parsed):", style="bold yellow"))
            console.print(Text(json.dumps(entry.result, indent=2)))
        else:
            console.print(Text("No cached result", style="yellow"))


def _details(document: dict[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("Network", document["network"])
    grid.add_row("Container ID", document["containerId"])
    grid.add_row("Interface", document["ifName"])
    if document["netns"]:
        state = Text(" (exists)", style="green") if document["netnsExists"] else Text(" (gone)", style="bold red")
        grid.add_row("Namespace", Text(document["netns"]) + state)
    else:
        grid.add_row("Namespace", Text("(not recorded)", style="dim"))
    args = ";".join(f"{key}={value}" for key, value in document["cniArgs"])
    grid.add_row("CNI args", args or Text("(none)", style="dim"))
    caps = document["capabilityArgs"]
    grid.add_row("Capability args", json.dumps(caps, separators=(",", ":")) if caps else Text("(none)", style="dim"))
    grid.add_row("Cache file", document["cacheFile"])
    return grid


_BAD = "bold red"


def _tree(entry: CacheEntry, state: AttachmentState) -> Tree:
    from rich.text import Text
    from rich.tree import Tree

    root = Tree(Text(f"attachment {entry.network_name}/{entry.ifname} (container {entry.container_id})", style="bold"))
    host = root.add(Text("host", style="bold cyan"))
    if state.master is not None:
        bridge = host.add(_link_label(state.master))
        if state.peer is not None:
            bridge.add(_link_label(state.peer, f"⇄ {state.ifname} in the namespace"))
    elif state.peer is not None:
        host.add(_link_label(state.peer, f"⇄ {state.ifname} in the namespace"))
    for view in state.host:
        host.add(_link_label(view, "(from the cached result)"))
    if not host.children:
        host.add(Text("nothing found for this attachment", style="dim"))

    if not state.netns_exists:
        root.add(Text(f"namespace {state.netns}: does not exist ✗", style=_BAD))
    else:
        inside = root.add(Text(f"namespace {state.netns}", style="bold cyan"))
        for view in (state.interface, *state.others):
            if view is None:
                continue
            node = inside.add(_link_label(view))
            if view.link is None:
                continue
            addresses = node.add(Text("addresses", style="bold"))
            for address in view.addresses:
                addresses.add(_address_label(address.cidr, address.scope, view, state))
            for missing in view.missing_addresses:
                addresses.add(Text(f"{missing}  ✗ in the cached result, not on {view.name}", style=_BAD))
            if not addresses.children:
                addresses.add(Text("(none)", style="dim"))
            if view is state.interface:
                routes = node.add(Text("routes", style="bold"))
                for route in state.routes:
                    routes.add(Text(_route_text(route, state)))
                for missing in state.missing_routes:
                    routes.add(Text(f"{missing}  ✗ in the cached result, not in the namespace", style=_BAD))
                if not routes.children:
                    routes.add(Text("(none)", style="dim"))

    if state.differences:
        differences = root.add(Text(f"differences from the cached result ({len(state.differences)})", style=_BAD))
        for difference in state.differences:
            differences.add(Text(f"✗ {difference.message}", style="red"))
    else:
        root.add(Text("✓ the kernel matches the cached result", style="green"))
    return root


def _link_label(view: InterfaceView, note: str = "") -> Text:
    from rich.text import Text

    link = view.link
    role = view.role if view.role not in ("interface", "cached") else ""
    label = Text(f"{role} " if role else "", style="bold") + Text(view.name, style="bold")
    if link is None:
        where = "in the namespace" if view.side == "namespace" else "on the host"
        return label + Text(f"  ✗ missing: cached but not {where}", style=_BAD)
    facts = [f"#{link.index}"]
    if link.kind and link.kind != view.role:
        facts.append(link.kind)
    facts.append(link.mac or "no MAC")
    if link.mtu:
        facts.append(f"mtu {link.mtu}")
    facts.append(link.state.lower() or "?")
    label += Text("  " + "  ".join(facts))
    if view.cached_mac and link.mac and view.cached_mac != link.mac:
        label += Text(f"  ✗ cached MAC {view.cached_mac}", style=_BAD)
    if note:
        label += Text(f"  {note}", style="dim")
    return label


def _address_label(cidr: str, scope: str, view: InterfaceView, state: AttachmentState) -> Text:
    from rich.text import Text

    label = Text(cidr)
    if scope != "global":
        label += Text(f"  scope {scope}", style="dim")
    if any(d.kind == "address-not-cached" and d.subject == cidr and d.side == view.side for d in state.differences):
        label += Text("  ✗ not in the cached result", style=_BAD)
    return label


def _route_text(route: Route, state: AttachmentState) -> str:
    dst = "default" if route.dst in ("0.0.0.0/0", "::/0") else route.dst
    words = [dst]
    if route.gateway:
        words.append(f"via {route.gateway}")
    if route.oif is not None:
        names = {view.link.index: view.name for view in (state.interface, *state.others)
                 if view is not None and view.link is not None}
        words.append(f"dev {names.get(route.oif, f'#{route.oif}')}")
    if route.scope != "global":
        words.append(f"scope {route.scope}")
    if route.table != 254:
        words.append(f"table {route.table}")
    if route.metric is not None:
        words.append(f"metric {route.metric}")
    return " ".join(words)
