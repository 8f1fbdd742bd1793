"""``cnitool validate [NET|FILE|DIR]...``: lint network configurations without running ADD (LOAD-05, VER-05).

The checks live in :mod:`cnitool.core.lint`; this command picks the targets, passes the plugin
search and the VERSION probe in, and renders the findings.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import get_app, global_options
from cnitool.cli.complete import complete_network_or_path
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from cnitool.core.lint import Finding, LintReport


@click.command(
    short_help="Check network configurations without running them.",
    help="Check network configurations without running them.\n\n"
    "Without arguments, every file of the configuration directories. An argument that is an "
    "existing directory is checked as a configuration directory; an existing file, or any argument "
    "with a / (a network name has none), as a file (with its plugin folder); one ending in "
    ".conflist, .conf or .json as the network of that name if there is one, else as a file; "
    "anything else as a network name. A file that does not exist is an error.\n\n"
    "Checks: JSON syntax (file:line:col), required keys and their types, network and plugin "
    "names, cniVersion and cniVersions, keys reserved for the runtime, plugins present and "
    "executable in the plugin path, each plugin's VERSION answer including the network's "
    "version, capabilities that are not well known, and the same network name in several files "
    "(and which one wins). Plugins are asked VERSION in parallel, for at most --timeout seconds "
    "(default 10).\n\n"
    "Exit 0 when there are no errors, 2 when there are (or, with --strict, any warning)."
)
@click.argument("targets", nargs=-1, metavar="[NET|FILE|DIR]...", shell_complete=complete_network_or_path)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@global_options
def validate(targets: tuple[str, ...], strict: bool) -> int:
    import os

    from cnitool.cli.plugins import version_probe
    from cnitool.core.errors import ExitCode
    from cnitool.core.lint import Linter
    from cnitool.core.loader import LIST_EXTENSIONS, SINGLE_EXTENSIONS
    from cnitool.invoke import find_plugin

    app = get_app()
    output = Output(app)
    plugin_dirs = app.plugin_dirs
    linter = Linter(locate=lambda plugin_type: find_plugin(plugin_type, plugin_dirs),
                    probe=version_probe(app, plugin_dirs))
    if not targets:
        linter.add_directories(app.conf_dirs)
    for target in targets:
        if os.path.isdir(target):
            linter.add_directories([target])
        elif os.path.isfile(target) or "/" in target:  # a network name never holds "/" (VAL-02)
            linter.add_file(target)
        elif target.endswith(LIST_EXTENSIONS + SINGLE_EXTENSIONS):
            linter.add_network_or_file(target, app.conf_dirs)
        else:
            linter.add_network(target, app.conf_dirs)
    report = linter.run()
    ok = report.ok(strict)
    output.document(_document(report, ok, strict), lambda console: _draw(console, report, ok, strict))
    return int(ExitCode.OK) if ok else int(ExitCode.INVALID)


def _document(report: LintReport, ok: bool, strict: bool) -> dict[str, Any]:
    return {
        "ok": ok,
        "strict": strict,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "findings": [finding.to_dict() for finding in report.findings],
        "networks": report.network_names,
    }


def _draw(console: Console, report: LintReport, ok: bool, strict: bool) -> None:
    """Findings grouped per file, in lookup order; ✓ for each network of a file with nothing to say."""
    from rich.table import Table
    from rich.text import Text

    by_file: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_file[finding.file].append(finding)

    def grid() -> Table:
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)  # indent
        table.add_column(no_wrap=True, min_width=9)  # mark
        table.add_column(overflow="fold")
        return table

    if by_file.get(None):
        rows = grid()
        for finding in by_file[None]:
            _add_finding(rows, finding)
        console.print(rows)
    for path in report.files:
        console.print(Text(path, style="bold"))
        findings = by_file.get(path, [])
        flagged = {f.network for f in findings}
        rows = grid()
        for network in report.networks:
            if network.file == path and network.name not in flagged:
                rows.add_row("", Text("✓", style="green"), f"{network.name} ({network.version or 'no version'})")
        for finding in findings:
            _add_finding(rows, finding)
        console.print(rows)
    checked = len(report.network_names)
    summary = (f"{checked} network(s) checked, {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
               + (" (--strict: warnings count as errors)" if strict and report.warnings else ""))
    console.print(Text(summary, style="bold green" if ok else "bold red"))


def _add_finding(rows: Any, finding: Finding) -> None:
    from rich.text import Text

    mark = Text("✗ error", style="red") if finding.severity == "error" else Text("! warning", style="yellow")
    subject = finding.network or ""
    if finding.plugin:
        subject += f" / {finding.plugin}" if subject else finding.plugin
    body = Text()
    if subject:
        body.append(f"[{subject}] ", style="bold")
    if finding.line is not None and finding.column is not None:
        body.append(f"line {finding.line}, column {finding.column}: ")
    body.append(finding.message)
    if finding.detail:
        body.append("\n" + finding.detail, style="dim")
    rows.add_row("", mark, body)
