"""``cnitool status NET``: ask each plugin whether it is ready for ADDs (STATUS-01)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import get_app, global_options
from cnitool.cli.common import conf_file_option, load_network, make_cni
from cnitool.cli.complete import complete_netns, complete_network
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from cnitool.core.status import StatusReport


@click.command(
    short_help="Ask each plugin whether it is ready.",
    help="Ask each plugin of NETWORK whether it is ready (spec 1.1.0 STATUS). Exit 1 when one is not. "
    "Below cniVersion 1.1.0 STATUS does not apply and nothing runs. NETNS is accepted for "
    "compatibility with the Go cnitool and ignored."
)
@click.argument("network", shell_complete=complete_network)
@click.argument("netns", required=False, shell_complete=complete_netns)
@conf_file_option
@global_options
def status(network: str, netns: str | None, conf_file: str | None) -> None:
    from cnitool.core.status import network_status

    app = get_app()
    output = Output(app)
    config = load_network(app, output, network, conf_file)
    report = network_status(make_cni(app, output), config)
    output.document(_document(report), lambda console: _draw(console, report))
    if report.error is not None:
        raise report.error


def _document(report: StatusReport) -> dict[str, Any]:
    return {
        "network": report.network,
        "cniVersion": report.version,
        "applicable": report.applicable,
        "plugins": [
            {"type": s.plugin, "state": s.state, "code": s.error.code if s.error else None, "msg": s.error.msg if s.error else None}
            for s in report.plugins
        ],
    }


def _draw(console: Console, report: StatusReport) -> None:
    from cnitool.core.errors import describe_code
    from cnitool.render import human

    if not report.applicable:
        human.write_line(console, f"STATUS does not apply to network {report.network}: its cniVersion "
                                  f"{report.version or '(none)'} is below 1.1.0", "yellow")
        return
    for plugin in report.plugins:
        if plugin.state == "ready":
            human.write_line(console, f"{plugin.plugin}: ready")
        elif plugin.error is not None:
            meaning = describe_code(plugin.error.code)
            human.write_line(console, f"{plugin.plugin}: not ready" + (f" ({meaning})" if meaning else ""), "red")
        else:
            human.write_line(console, f"{plugin.plugin}: not asked (an earlier plugin is not ready)", "default")
