"""``cnitool list``: every network of the configuration directories, and the files that failed to load.

LOAD-01: every directory of a multi-directory ``NETCONFPATH``/``--conf-dir``, in order. LOAD-05: a
broken file does not hide the others; it is listed with the reason (file:line:col). LOAD-03: a
name defined again later in lookup order is marked as shadowed by the file every verb uses.
VAL-02, VAL-04: a network that loads but that every verb refuses (a name or plugin type that is a
path) is marked unusable, with validate's reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import get_app, global_options
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from cnitool.core.loader import Discovery
    from cnitool.core.netconf import NetworkConfig

PLUGIN_CHAIN_SEPARATOR = " → "


@click.command(
    name="list",
    short_help="List the networks of the config directories.",
    help="List every network found in the configuration directories: name, effective version, "
    "plugin chain, file and the disableCheck/disableGC flags, plus the files that could not be "
    "loaded and why. A network whose name an earlier file already defines is marked shadowed. "
    "A network that loads but that every command refuses (its name, or a plugin or IPAM type, is "
    "not a plain name) is marked unusable with the reasons (\"errors\" in JSON, empty for a usable "
    "one); nothing is run. Exit 0 even when some files are broken (use validate to fail on them).",
)
@global_options
def list_networks() -> int:
    from cnitool.core.lint import file_warnings, refused_names, shadowing
    from cnitool.core.loader import discover

    app = get_app()
    output = Output(app)
    dirs = app.conf_dirs
    discovery = discover(dirs)
    for source, message in file_warnings(discovery):
        output.warning(f"{source}: {message}" if source else message)
    document = _document(discovery, shadowing(discovery, dirs), refused_names)
    output.document(document, lambda console: _draw(console, document, dirs))
    return 0


def _document(discovery: Discovery, shadowed: dict[str, str],
              refused: Callable[[NetworkConfig], list[str]]) -> dict[str, Any]:
    networks = []
    for network in discovery.networks:
        entry: dict[str, Any] = {
            "name": network.name,
            "cniVersion": network.cni_version,
            "cniVersions": list(network.cni_versions) if network.cni_versions is not None else None,
            "effectiveVersion": network.version,
            "plugins": [plugin.type for plugin in network.plugins],
            "file": network.source,
            "disableCheck": network.disable_check,
            "disableGC": network.disable_gc,
            "errors": refused(network),  # VAL-02, VAL-04: why every verb would refuse it; [] when usable
        }
        if network.source in shadowed:
            entry["shadowedBy"] = shadowed[network.source]
        networks.append(entry)
    problems = [
        {"file": p.path, "line": p.line, "column": p.column, "message": p.message,
         **({"shadowedBy": shadowed[p.path]} if p.path in shadowed else {})}
        for p in discovery.problems
    ]
    return {"networks": networks, "problems": problems}


def _draw(console: Console, document: dict[str, Any], dirs: list[str]) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from cnitool.render import human

    where = ":".join(dirs)
    if document["networks"]:
        table = Table(title=f"Networks in {where}", title_justify="left", title_style="bold",
                      box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("Name", overflow="fold")
        table.add_column("Version", no_wrap=True)
        table.add_column("Plugins", overflow="fold")
        table.add_column("File", overflow="fold")
        table.add_column("Flags", overflow="fold")
        for network in document["networks"]:
            version = network["effectiveVersion"] or "(none)"
            if network["cniVersions"] is not None and network["effectiveVersion"] != network["cniVersion"]:
                version += " (cniVersions)"
            flags = [flag for flag in ("disableCheck", "disableGC") if network[flag]]
            notes = Text(" ".join(flags))
            name = Text(network["name"])
            if "shadowedBy" in network:
                name.stylize("dim")
                notes.append((" " if notes else "") + "shadowed", style="yellow")
            if network["errors"]:
                name.stylize("red")
                notes.append((" " if notes else "") + "unusable", style="red")
            table.add_row(name, version, PLUGIN_CHAIN_SEPARATOR.join(network["plugins"]), network["file"] or "", notes)
        console.print(table)
        for network in document["networks"]:
            if "shadowedBy" in network:
                console.print(Text(f'Shadowed: {network["file"]} defines network "{network["name"]}" again; '
                                   f'{network["shadowedBy"]} comes first and is the one used.', style="yellow"))
            if network["errors"]:
                console.print(Text(f'Unusable: {network["file"]}: network "{network["name"]}": '
                                   + "; ".join(network["errors"]), style="red"))
    else:
        human.write_line(console, f"No networks found in {where}", "yellow")
    if document["problems"]:
        console.print(Text("Files that could not be loaded:", style="bold red"))
        for problem in document["problems"]:
            location = problem["file"]
            if problem["line"] is not None and problem["column"] is not None:
                location += f":{problem['line']}:{problem['column']}"
            console.print(Text.assemble("  ", (location, "red"), f": {problem['message']}"))
