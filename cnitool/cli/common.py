"""What the attachment verbs (add, check, del) share: their options and the building of a request.

Only click and the standard library are imported at module level; core, invoke and netns are
imported in the functions so that ``cnitool --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import App, global_options

if TYPE_CHECKING:
    from cnitool.cli.output import Output
    from cnitool.core.api import Cni
    from cnitool.core.netconf import NetworkConfig
    from cnitool.core.runtime import RuntimeConf


def attachment_command(help_text: str) -> Callable[[Callable[..., Any]], click.Command]:
    """The arguments and options every attachment verb takes (CLI-01)."""

    def decorate(function: Callable[..., Any]) -> click.Command:
        for option in reversed(
            [
                click.argument("network"),
                click.argument("netns"),
                click.option("-i", "--ifname", metavar="NAME",
                             help="Interface name inside the namespace [env var: CNI_IFNAME; default: eth0]."),
                click.option("--container-id", metavar="ID",
                             help="Container ID [default: cnitool- + SHA-512 of the netns path, as the Go cnitool]."),
                click.option("--arg", "args", multiple=True, metavar="KEY=VALUE",
                             help="A CNI_ARGS pair (repeatable); given at all, replaces CNI_ARGS [env var: CNI_ARGS]."),
                click.option("--cap", "caps", multiple=True, metavar="NAME=JSON",
                             help="A capability argument (repeatable); overrides that name in CAP_ARGS [env var: CAP_ARGS]."),
                global_options,
            ]
        ):
            function = option(function)
        return click.command(help=help_text)(function)

    return decorate


@dataclass(frozen=True)
class Attachment:
    """The resolved target of an attachment verb."""

    netns_path: str
    netns_arg: str
    runtime: RuntimeConf


def resolve_attachment(app: App, netns: str, ifname: str | None, container_id: str | None,
                       args: tuple[str, ...], caps: tuple[str, ...]) -> Attachment:
    """Turn the command line and environment into runtime parameters (CLI-01, CLI-02, CLI-03, REQ-07)."""
    from cnitool import netns as netns_adapter
    from cnitool.core.runtime import RuntimeConf, container_id_for_netns, parse_cap_args, parse_cap_option, parse_cni_args

    path = netns_adapter.resolve(netns)  # Go's rule: relative to $PWD when it names the cwd (CLI-02)
    if args:
        cni_args = parse_cni_args(";".join(args))
    else:
        cni_args = parse_cni_args(app.environ.get("CNI_ARGS", ""))
    capability_args: dict[str, Any] = {}
    if app.environ.get("CAP_ARGS", ""):
        capability_args.update(parse_cap_args(app.environ["CAP_ARGS"]))
    for cap in caps:
        name, value = parse_cap_option(cap)
        capability_args[name] = value
    runtime = RuntimeConf(
        container_id=container_id or container_id_for_netns(path),
        netns=path,
        # A set-but-empty CNI_IFNAME means eth0, as in upstream main.
        ifname=ifname if ifname is not None else (app.environ.get("CNI_IFNAME") or "eth0"),
        args=cni_args,
        capability_args=capability_args,
    )
    return Attachment(netns_path=path, netns_arg=netns, runtime=runtime)


def load_network(app: App, output: Output, name: str) -> NetworkConfig:
    """Find the network in the config directories; skipped files become warnings (LOAD-05)."""
    from cnitool.core.loader import find_network
    from cnitool.core.names import validate_network_name

    validate_network_name(name)
    network, warnings = find_network(name, app.conf_dirs)
    for warning in warnings:
        output.warning(warning)
    return network


def make_cni(app: App, output: Output) -> Cni:
    from cnitool.core.api import Cni
    from cnitool.invoke import SubprocessRunner

    return Cni(
        plugin_dirs=tuple(app.plugin_dirs),
        runner=SubprocessRunner(timeout=app.timeout, base_env=app.environ),
        cache_dir=app.cache_dir,
        stderr_sink=output.plugin_stderr,
    )
