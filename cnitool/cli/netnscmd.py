"""``cnitool netns add|del|list|exec``: named namespaces, the same ones ``ip netns`` manages.

A name means ``/var/run/netns/NAME`` (a bind mount), so ``ip netns list`` shows what ``cnitool
netns add`` made and the other way round. ``list`` adds what the cache knows: the attachments of
each namespace (network, interface, addresses), matched by path or by the namespace's inode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import get_app, global_options
from cnitool.cli.complete import complete_netns
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from cnitool.core.cache import CacheEntry


@click.group(
    "netns",
    short_help="Named namespaces, compatible with ip netns.",
    help="Named network namespaces, compatible with `ip netns` (the same /var/run/netns entries); "
    "`list` also shows each namespace's attachments from the cache.",
)
@global_options
def netns_group() -> None:
    pass


@netns_group.command("add", help="Create network namespace NAME (like `ip netns add NAME`).")
@click.argument("name")
@global_options
def netns_add(name: str) -> None:
    from cnitool import netns as netns_adapter

    output = Output(get_app())
    path = netns_adapter.create(name)
    output.document({"name": name, "path": path, "created": True},
                    lambda console: _line(console, f"Created network namespace {name} ({path})"))


@netns_group.command(
    "del",
    help="Remove network namespace NAME (like `ip netns del NAME`). Attachments still cached for it "
    "are reported: run `cnitool del NET NAME` for them, or their addresses stay allocated. Like `ip "
    "netns del`, only the name goes: processes still inside are left running, and a warning lists "
    "them, as the namespace lives on (unnamed) until they end.",
)
@click.argument("name", shell_complete=complete_netns)
@global_options
def netns_del(name: str) -> None:
    from cnitool import netns as netns_adapter
    from cnitool.core.cache import ResultCache
    from cnitool.core.errors import CacheError, NetnsError
    from cnitool.core.runtime import same_namespace

    app = get_app()
    output = Output(app)
    path = netns_adapter.resolve(name)
    try:
        entries, _unreadable = ResultCache(app.cache_dir).entries()
    except CacheError:
        entries = []
    attached = [entry for entry in entries if same_namespace(entry.netns, path)]
    try:
        inside = netns_adapter.processes_in(path)
    except NetnsError:
        inside = []  # a leftover mount point or file: no namespace, no process (remove says what it is)
    netns_adapter.remove(name)
    for entry in attached:
        output.warning(f"{entry.ifname} was still attached to network {entry.network_name} in the cache; "
                       f"release it with: cnitool del {entry.network_name} {path} -i {entry.ifname}")
    if inside:
        # As `ip netns del`: a namespace cnitool did not make may hold a service someone keeps on
        # purpose, so nothing is killed; but its staying alive is said, never silent.
        output.warning(f"network namespace {name} lives on, unnamed, while processes are still in it: "
                       f"{_describe(inside)}; it goes when they end (kill {' '.join(map(str, inside))})")
    output.document(
        {"name": name, "path": path, "removed": True, "attachments": [_attachment(entry) for entry in attached],
         "processes": inside},
        lambda console: _line(console, f"Removed network namespace {name} ({path})"),
    )


@netns_group.command("list", help="List named namespaces (like `ip netns list`) with their cached attachments.")
@global_options
def netns_list() -> None:
    from cnitool import netns as netns_adapter
    from cnitool.core.cache import ResultCache
    from cnitool.core.runtime import same_namespace

    app = get_app()
    output = Output(app)
    entries, unreadable = ResultCache(app.cache_dir).entries()
    for bad in unreadable:
        output.warning(f"cache entry {bad} is not a readable cniCacheV1 entry; skipped")
    documents = []
    for name in netns_adapter.list_names():
        path = f"{netns_adapter.NETNS_DIR}/{name}"
        documents.append({
            "name": name,
            "path": path,
            "valid": netns_adapter.exists(path),  # False: a leftover mount point or file
            "attachments": [_attachment(entry) for entry in entries if same_namespace(entry.netns, path)],
        })
    output.document(documents, lambda console: _draw_list(console, documents))


@netns_group.command(
    "exec",
    help="Run CMD inside network namespace NAME (like `ip netns exec NAME CMD`, network only) with "
    "this terminal's stdin, stdout and stderr; exit with CMD's status. Everything after NAME is CMD "
    "and its arguments, options included; the `--` is optional.",
    # As with `ip netns exec`, `cnitool netns exec ns1 ip -br addr` must not read -br as ours.
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
)
@click.argument("name", shell_complete=complete_netns)
@click.argument("command", nargs=-1, required=True, metavar="[--] CMD [ARG]...")
@global_options
def netns_exec(name: str, command: tuple[str, ...]) -> int:
    from cnitool import netns as netns_adapter

    if command[0] == "--":  # not consumed by click once the arguments after NAME are left alone
        command = command[1:]
    if not command:
        raise click.UsageError("missing CMD after the namespace name")
    path = netns_adapter.resolve(name)
    netns_adapter.check_netns(path)
    netns_adapter.find_command(command[0])  # cnitool's own error (127, 126), not nsenter's text line
    return netns_adapter.run_foreground(path, command).status


def _attachment(entry: CacheEntry) -> dict[str, Any]:
    from cnitool.cli.show import cached_result

    result = cached_result(entry)
    return {
        "network": entry.network_name,
        "containerId": entry.container_id,
        "ifName": entry.ifname,
        "ips": [ip.address for ip in result.ips] if result is not None else [],
    }


def _describe(pids: list[int]) -> str:
    """``123 (sleep), 456 (nginx)``: the pids with their command names, as ps shows them."""
    words = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as comm:
                words.append(f"{pid} ({comm.read().strip()})")
        except OSError:
            words.append(str(pid))  # gone meanwhile
    return ", ".join(words)


def _line(console: Console, message: str) -> None:
    from cnitool.render import human

    human.write_line(console, message)


def _draw_list(console: Console, documents: list[dict[str, Any]]) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if not documents:
        console.print(Text("no named network namespaces", style="yellow"))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("Name", "Path", "Attachments"):
        table.add_column(column, overflow="fold")
    for document in documents:
        if not document["valid"]:
            attachments = Text("not a namespace (leftover entry; `ip netns del` clears it)", style="red")
        elif document["attachments"]:
            attachments = Text("\n".join(
                f"{a['network']} {a['ifName']} {' '.join(a['ips'])}".rstrip() for a in document["attachments"]))
        else:
            attachments = Text("(none)", style="dim")
        table.add_row(document["name"], document["path"], attachments)
    console.print(table)
