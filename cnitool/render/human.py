"""Human output with rich: result tables, error panels, one-line confirmations and warnings.

Every console that prints data uses ``markup=False, highlight=False``: plugin text such as
``[bridge]`` must come out as written, not as rich markup.
"""

from __future__ import annotations

from typing import TextIO

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cnitool.core.errors import CniError, describe_code
from cnitool.core.pluginexec import VERB_WORDS
from cnitool.core.result import Result
from cnitool.render.text import printable

STDERR_TAIL_LINES = 20


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """rich's own answer to a broken pipe is to point *stdout* at /dev/null and raise
        SystemExit(1), whichever stream broke; the command line decides what a broken pipe
        means (cnitool.cli.output), so the error goes on as it came."""
        self.quiet = True
        raise


def console(stream: TextIO, color: bool | None) -> Console:
    """``color`` True forces colour, False means no escape sequence at all, None lets rich decide.

    rich's own ``no_color`` drops colours but keeps bold and dim, so with colour off (NO_COLOR,
    --no-color) the console is told it is not a terminal, whatever FORCE_COLOR says (CLI-04).
    """
    return _Console(
        file=stream,
        markup=False,
        emoji=False,  # a MAC such as 52:82:79:cd:19:30 holds ":cd:", which rich would turn into 💿
        highlight=False,
        soft_wrap=False,
        force_terminal=color,
        no_color=color is False,
    )


def write_result(out: Console, result: Result, summary: str) -> None:
    """A summary line, then interfaces, IPs, routes and DNS as tables (empty sections left out)."""
    out.print(Text(summary, style="bold green"), soft_wrap=True)
    if result.interfaces:
        show_mtu = any(interface.mtu is not None for interface in result.interfaces)  # 1.1.0 only
        table = _table("Interfaces", "#", "Name", "MAC", *(["MTU"] if show_mtu else []), "Sandbox")
        for index, interface in enumerate(result.interfaces):
            mtu = ["" if interface.mtu is None else str(interface.mtu)] if show_mtu else []
            table.add_row(str(index), printable(interface.name), printable(interface.mac), *mtu,
                          printable(interface.sandbox) or "(host)")
        out.print(table)
    if result.ips:
        table = _table("IP addresses", "Address", "Gateway", "Interface")
        for ip in result.ips:
            table.add_row(ip.address, ip.gateway or "", printable(_interface_name(result, ip.interface)))
        out.print(table)
    if result.routes:
        extras = [_route_extras(route) for route in result.routes]
        show_extras = any(extras)  # 1.1.0 route attributes: mtu, advmss, priority, table, scope
        table = _table("Routes", "Destination", "Gateway", *(["Extra"] if show_extras else []))
        for route, extra in zip(result.routes, extras):
            table.add_row(route.dst, route.gw or "(default gateway)", *([extra] if show_extras else []))
        out.print(table)
    dns = result.dns
    if not dns.is_empty:
        table = _table("DNS", "Field", "Value")
        for label, value in (
            ("nameservers", ", ".join(dns.nameservers)),
            ("domain", dns.domain),
            ("search", ", ".join(dns.search)),
            ("options", ", ".join(dns.options)),
        ):
            if value:
                table.add_row(label, printable(value))
        out.print(table)


def write_line(out: Console, message: str, style: str = "green") -> None:
    # One line whatever its length: rich would break it at 80 columns in a pipe.
    out.print(Text(message, style=style), soft_wrap=True)


def write_warning(err: Console, message: str) -> None:
    err.print(Text.assemble(("warning: ", "bold yellow"), message), soft_wrap=True)


def write_error(err: Console, error: CniError) -> None:
    """A panel: what failed, the CNI code and its meaning, message, details, stderr, hint."""
    rows = Table.grid(padding=(0, 1))
    rows.add_column(style="bold", no_wrap=True)
    rows.add_column(overflow="fold")
    if error.plugin:
        rows.add_row("Plugin", printable(error.plugin))
    if error.command:
        rows.add_row("Verb", error.command)
    if error.code is not None:
        meaning = describe_code(error.code)
        rows.add_row("CNI code", f"{error.code} ({meaning})" if meaning else str(error.code))
    rows.add_row("Message", printable(error.msg))
    if error.details:
        rows.add_row("Details", printable(error.details))
    parts: list[object] = [rows]
    stderr = error.stderr.strip()
    if stderr:
        tail = stderr.splitlines()[-STDERR_TAIL_LINES:]
        parts.append(Text("\nPlugin stderr:", style="bold"))
        parts.append(Text(printable("\n".join(tail)), style="dim"))
    for rollback_error in error.rollback_errors:
        parts.append(Text(f"\nRollback also failed: {printable(str(rollback_error))}", style="yellow"))
    if error.hint:
        parts.append(Text(f"\nHint: {printable(error.hint)}", style="cyan"))
    err.print(Panel(Group(*parts), title=_title(error), title_align="left", border_style="red", box=box.ROUNDED))


def write_internal_error(err: Console, message: str) -> None:
    err.print(Text.assemble(("internal error: ", "bold red"), message), soft_wrap=True)


def _title(error: CniError) -> str:
    if error.command:
        verb = VERB_WORDS.get(error.command, error.command.lower()).upper()
        return f"{verb} failed ({error.kind})"
    return f"Error ({error.kind})"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _interface_name(result: Result, index: int | None) -> str:
    if index is None:
        return ""
    if 0 <= index < len(result.interfaces):
        return f"{result.interfaces[index].name} (#{index})"
    return f"#{index} (no such interface)"


def _route_extras(route: object) -> str:
    extras = []
    for name in ("mtu", "advmss", "priority", "table", "scope"):
        value = getattr(route, name, None)
        if value is not None:
            extras.append(f"{name}={value}")
    return " ".join(extras)
