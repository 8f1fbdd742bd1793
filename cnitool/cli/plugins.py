"""``cnitool plugins``: what the plugin path holds and which spec versions each plugin supports (VER-04).

Also home of the VERSION probes ``validate`` uses: both ask plugins in parallel with a short
timeout of their own (``--timeout`` still wins), since a plugin that hangs on VERSION must not
hold an inventory up for the two minutes an ADD may take.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import App, get_app, global_options
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from cnitool.core.inventory import Inventory

# Default per-plugin VERSION timeout of the inventory commands (plugins, validate).
PROBE_TIMEOUT = 10.0


def probe_timeout(app: App) -> float:
    """``--timeout`` when given, else :data:`PROBE_TIMEOUT` (not the 120 s meant for ADD)."""
    return float(app.setting("timeout", PROBE_TIMEOUT))


def version_probe(app: App, plugin_dirs: Sequence[str]) -> Callable[[str], list[str]]:
    """``probe(type)``: ask the plugin found in ``plugin_dirs`` for its versions (VER-04)."""
    from cnitool.core.api import Cni
    from cnitool.core.versioninfo import plugin_versions
    from cnitool.invoke import SubprocessRunner

    cni = Cni(plugin_dirs=tuple(plugin_dirs), runner=SubprocessRunner(timeout=probe_timeout(app), base_env=app.environ),
              cache_dir=app.cache_dir)
    return lambda plugin_type: plugin_versions(cni, plugin_type)


@click.command(
    short_help="List plugins and the spec versions they support.",
    help="List every plugin in the plugin path with the CNI spec versions it supports.\n\n"
    "Each directory of CNI_PATH/--cni-path is listed in order; a name found again in a later "
    "directory is marked as shadowed (the first one is what every verb runs). Each executable that "
    "mentions CNI_COMMAND (every plugin does; other programs are not run), or is a #! script of at "
    "most 64 KiB one of whose command lines execs such a file (a wrapper: exec /usr/lib/cni/bridge "
    "\"$@\", exec \"$(dirname \"$0\")/x\", exec env VAR=1 NAME with NAME found on PATH; comments "
    "and other words do not count), is asked VERSION, in parallel, for at most --timeout seconds "
    "(default 10); `cnitool invoke PATH VERSION` asks any other file. A file that is not "
    "executable, does not answer or answers something that is not version info is flagged with "
    "the reason. Exit 0 whatever was found."
)
@global_options
def plugins() -> int:
    from cnitool.core.inventory import scan

    app = get_app()
    output = Output(app)
    dirs = app.plugin_dirs

    def probe(directory: str, name: str) -> list[str]:
        return version_probe(app, [directory])(name)

    try:
        cwd: str | None = os.getcwd()
    except OSError:  # removed under us: no ./x is known
        cwd = None
    # What a wrapper's exec runs: plugins get our PATH and current directory (invoke.py).
    inventory = scan(dirs, probe, search_path=app.environ.get("PATH"), cwd=cwd)
    output.document(_document(inventory), lambda console: _draw(console, inventory))
    return 0


def _document(inventory: Inventory) -> dict[str, Any]:
    plugins = []
    for plugin in inventory.plugins:
        entry: dict[str, Any] = {
            "name": plugin.name,
            "path": plugin.path,
            "executable": plugin.executable,
            "versions": list(plugin.versions) if plugin.versions is not None else None,
            "error": plugin.error,
        }
        if plugin.shadowed_by is not None:
            entry["shadowedBy"] = plugin.shadowed_by
        if plugin.wraps is not None:
            entry["wraps"] = plugin.wraps
        plugins.append(entry)
    return {
        "pluginDirs": [{"path": d.path, "error": d.error} for d in inventory.dirs if not d.duplicate],
        "plugins": plugins,
    }


def _draw(console: Console, inventory: Inventory) -> None:
    """One table per plugin directory, in path order (the path column would crowd out the errors)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from cnitool.render import human

    for directory in inventory.dirs:
        if directory.duplicate:
            continue
        if directory.error is not None:
            human.write_line(console, f"{directory.path}: {directory.error}", "dim")
            continue
        rows = [plugin for plugin in inventory.plugins if plugin.directory == directory.path]
        if not rows:
            human.write_line(console, f"{directory.path}: no plugins", "dim")
            continue
        table = Table(title=directory.path, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                      pad_edge=False)
        table.add_column("Name", no_wrap=True)
        table.add_column("Versions", overflow="fold")
        table.add_column("Status", overflow="fold")
        for plugin in rows:
            versions = ", ".join(plugin.versions) if plugin.versions else "-"
            status = Text("✗ " + plugin.error, style="red") if plugin.error is not None else Text("✓ ok", style="green")
            if plugin.wraps is not None:
                status.append(f" (runs {plugin.wraps})")
            if plugin.shadowed_by is not None:
                status.append(f" (shadowed by {plugin.shadowed_by})", style="yellow")
            table.add_row(plugin.name, versions, status)
        console.print(table)
    if not inventory.plugins:
        human.write_line(console, "No plugins found in " + ":".join(d.path for d in inventory.dirs), "yellow")
        return
    broken = sum(1 for p in inventory.plugins if p.error is not None)
    summary = f"{len(inventory.plugins)} plugin file(s), {broken} with problems"
    human.write_line(console, summary, "red" if broken else "green")
