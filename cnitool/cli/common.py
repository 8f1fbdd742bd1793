"""What the attachment verbs (add, check, del) share: their options and the building of a request.

Only click and the standard library are imported at module level; core, invoke and netns are
imported in the functions so that ``cnitool --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from cnitool.cli.app import EXIT_STATUS_HELP, App, global_options
from cnitool.cli.complete import complete_netns, complete_network

if TYPE_CHECKING:
    from cnitool.cli.output import Output
    from cnitool.core.api import Cni
    from cnitool.core.netconf import NetworkConfig
    from cnitool.core.runtime import RuntimeConf
    from cnitool.invoke import SubprocessRunner
    from cnitool.netns import Occupancy


conf_file_option = click.option(
    "--conf-file", metavar="PATH", help="Use this config file (or - for stdin) instead of searching the config directories."
)


# The runtime options of every verb that adds, checks or deletes an attachment (CLI-01, REQ-07).
ATTACHMENT_OPTIONS = [
    click.option("-i", "--ifname", metavar="NAME",
                 help="Interface name inside the namespace [env var: CNI_IFNAME; default: eth0]."),
    click.option("--container-id", metavar="ID",
                 help="Container ID [default: cnitool- + SHA-512 of the netns path, as the Go cnitool]."),
    click.option("--arg", "args", multiple=True, metavar="KEY=VALUE",
                 help="A CNI_ARGS pair (repeatable); given at all, replaces CNI_ARGS [env var: CNI_ARGS]."),
    click.option("--cap", "caps", multiple=True, metavar="NAME=JSON",
                 help="A capability argument (repeatable); overrides that name in CAP_ARGS [env var: CAP_ARGS]."),
    click.option("--port", "ports", multiple=True, metavar="HOST:CONTAINER[/PROTO][@HOSTIP]",
                 help="Shortcut for the portMappings capability (repeatable)."),
    click.option("--ip", "ips", multiple=True, metavar="ADDR[/PREFIX]", help="Shortcut for the ips capability (repeatable)."),
    click.option("--mac", metavar="MAC", help="Shortcut for the mac capability."),
    click.option("--bandwidth", "bandwidth_spec", metavar="KEY=N[,KEY=N]",
                 help="Shortcut for the bandwidth capability: ingressRate, ingressBurst, egressRate, egressBurst."),
    click.option("--dns", "dns_servers", multiple=True, metavar="SERVER", help="Shortcut for the dns capability's servers (repeatable)."),
    conf_file_option,
    global_options,
]


def attachment_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Attach ATTACHMENT_OPTIONS; the command receives them as ``**options`` for resolve_attachment."""
    for option in reversed(ATTACHMENT_OPTIONS):
        function = option(function)
    return function


def attachment_command(help_text: str, short_help: str) -> Callable[[Callable[..., Any]], click.Command]:
    """An attachment verb: ``NETWORK NETNS`` and the attachment options (CLI-01)."""

    def decorate(function: Callable[..., Any]) -> click.Command:
        function = attachment_options(function)
        function = click.argument("netns", shell_complete=complete_netns)(function)
        function = click.argument("network", shell_complete=complete_network)(function)
        return click.command(help=help_text, short_help=short_help, epilog=EXIT_STATUS_HELP)(function)

    return decorate


@dataclass(frozen=True)
class Attachment:
    """The resolved target of an attachment verb."""

    netns_path: str
    netns_arg: str
    runtime: RuntimeConf


def resolve_attachment(app: App, netns: str, options: dict[str, Any]) -> Attachment:
    """Turn the command line and environment into runtime parameters (CLI-01, CLI-02, CLI-03, REQ-07).

    ``options`` are the keyword arguments of an ``attachment_command``.
    """
    from cnitool import netns as netns_adapter
    from cnitool.core.capabilities import shortcut_capabilities
    from cnitool.core.runtime import RuntimeConf, container_id_for_netns, parse_cap_args, parse_cap_option

    ifname, container_id, args, caps = options["ifname"], options["container_id"], options["args"], options["caps"]
    path = netns_adapter.resolve(netns)  # Go's rule: relative to $PWD when it names the cwd (CLI-02)
    cni_args = cni_args_from(app, args)
    capability_args: dict[str, Any] = {}
    if app.environ.get("CAP_ARGS", ""):
        capability_args.update(parse_cap_args(app.environ["CAP_ARGS"]))
    for cap in caps:
        name, value = parse_cap_option(cap)
        capability_args[name] = value
    capability_args.update(shortcut_capabilities(
        ports=options["ports"], ips=options["ips"], mac=options["mac"],
        bandwidth_spec=options["bandwidth_spec"], dns_servers=options["dns_servers"],
    ))
    runtime = RuntimeConf(
        container_id=container_id or container_id_for_netns(path),
        netns=path,
        # A set-but-empty CNI_IFNAME means eth0, as in upstream main.
        ifname=ifname if ifname is not None else (app.environ.get("CNI_IFNAME") or "eth0"),
        args=cni_args,
        capability_args=capability_args,
    )
    return Attachment(netns_path=path, netns_arg=netns, runtime=runtime)




def find_cached_attachment(output: Output, cni: Cni, network: str, attachment: Attachment,
                           options: dict[str, Any]) -> Attachment:
    """OURS: ``del`` and ``check`` of a namespace given under another path than at ADD
    (/run/netns/x for /var/run/netns/x, /proc/PID/ns/net) act on the attachment cached for it.

    The container ID is derived from the path as written (CLI-02, as the Go tool), so the other
    spelling gives another ID: DEL would reach no plugin state under it (host-local would keep
    the address) and leave the entry behind, CHECK would say "not added". The plugins get the
    path as cached too: it names the same namespace, and they compare the result's ``sandbox``
    with CNI_NETNS as strings (bridge's CHECK does). An explicit ``--container-id`` is taken as
    it is, and only an entry whose container ID cnitool derived from its own path qualifies: an
    attachment that a runtime (containerd, CRI-O) made in the namespace under its own container
    ID, in a shared cache, is never taken over.
    """
    from dataclasses import replace

    from cnitool.core.runtime import container_id_for_netns

    runtime = attachment.runtime
    if options["container_id"] or cni.cache.has_entry(network, runtime.container_id, runtime.ifname):
        return attachment
    entry = cni.attachment_in_namespace(network, runtime.netns, runtime.ifname)
    if entry is None or entry.netns == runtime.netns or entry.container_id != container_id_for_netns(entry.netns):
        return attachment
    output.info(f"using the attachment of container {entry.container_id}: it was added with the namespace "
                f"given as {entry.netns}")
    return replace(attachment, runtime=replace(runtime, container_id=entry.container_id, netns=entry.netns))


def remove_namespace_unless_used(output: Output, cni: Cni, occupancy: Occupancy, name: str,
                                 before_removing: Callable[[], None] | None = None) -> None:
    """Remove the namespace this command created, unless another attachment is being made in it
    (another add holds it) or is in it (cached): a concurrent add of the same new name joined it
    (CLI-03). The cache is read only once we hold the namespace alone, so no add can finish
    meanwhile. A cache that cannot be read holds no attachment either: an add that joined our
    namespace with this cache failed on it too (the cache is often why this command failed).
    ``before_removing`` runs only when the namespace goes (exec ends what CMD left in it)."""
    from cnitool import netns as netns_adapter
    from cnitool.core.errors import CacheError

    in_use = not occupancy.alone()
    if not in_use:
        try:
            in_use = bool(cni.attachments_in_namespace(occupancy.path))
        except CacheError:
            in_use = False
    if in_use:
        output.warning(f'keeping network namespace "{name}", which this command created: '
                       "another attachment is in it or being made in it")
        return
    if before_removing is not None:
        before_removing()
    netns_adapter.remove(occupancy.path)


def cni_args_from(app: App, args: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The CNI_ARGS pairs: the --arg options when given, else the CNI_ARGS variable (REQ-07)."""
    from cnitool.core.errors import UsageError
    from cnitool.core.runtime import parse_cni_args

    for arg in args:
        if ";" in arg:  # CNI_ARGS has no escape for it: "a=b;c=d" would reach the plugins as two pairs
            raise UsageError(f'invalid --arg "{arg}": a ";" separates CNI_ARGS pairs and cannot be part of one',
                             code=4, hint="give each pair its own --arg K=V")
    if args:
        return parse_cni_args(";".join(args), what="--arg")
    return parse_cni_args(app.environ.get("CNI_ARGS", ""))


def load_network(app: App, output: Output, name: str, conf_file: str | None = None) -> NetworkConfig:
    """Find the network in the config directories (skipped files become warnings, LOAD-05), or
    read it from ``--conf-file`` (LOAD-12), whose network must then be the one named."""
    from cnitool.core.errors import ConfigError
    from cnitool.core.loader import find_network, load_file, load_network_bytes
    from cnitool.core.names import validate_network_name

    validate_network_name(name)
    if conf_file is None:
        network, warnings = find_network(name, app.conf_dirs)
    elif conf_file == "-":
        network, warnings = load_network_bytes(click.get_binary_stream("stdin").read(), source="<stdin>", is_list=None)
    else:
        network, warnings = load_file(conf_file)
    if network.name != name:
        source = "the config on stdin" if conf_file == "-" else conf_file
        raise ConfigError(f'{source} defines network "{network.name}", not "{name}"')
    for warning in warnings:
        output.warning(warning)
    return network


def make_runner(app: App, output: Output, timeout: float | None = None) -> SubprocessRunner:
    """The real plugin runner, traced when ``--trace``/``--trace-file`` ask for it.

    The trace is best effort once plugins run: what cannot be written, and even a bug in the
    tracer, becomes a warning, never an error half-way through a plugin chain.
    """
    from cnitool.cli.trace import Tracer
    from cnitool.invoke import SubprocessRunner

    if not (app.trace or app.trace_file):
        return SubprocessRunner(timeout=timeout or app.timeout, base_env=app.environ)
    tracer = Tracer(app.stderr if app.trace else None, app.diagnostics_json, app.trace_file, warn=output.warning)

    def tracer_failed(err: Exception) -> None:
        output.warning(f"the trace stops here: {type(err).__name__}: {err} (this is a bug in cnitool; "
                       "the command goes on)")

    return SubprocessRunner(timeout=timeout or app.timeout, base_env=app.environ, observer=tracer,
                            on_observer_error=tracer_failed)


def make_cni(app: App, output: Output) -> Cni:
    from cnitool.core.api import Cni
    from cnitool.core.runner import PluginRunner

    runner: PluginRunner = make_runner(app, output)
    if output.wants_progress:
        from cnitool.cli.progress import SpinnerRunner

        runner = SpinnerRunner(runner, output.stderr_console)
    return Cni(
        plugin_dirs=tuple(app.plugin_dirs),
        runner=runner,
        cache_dir=app.cache_dir,
        stderr_sink=output.plugin_stderr,
        notice=output.info,
    )


def load_network_or_cached(app: App, output: Output, cni: Cni, name: str, runtime: RuntimeConf,
                           conf_file: str | None) -> NetworkConfig:
    """The network for DEL and CHECK: from the config directories, else the config cached with the
    attachment (DEL-01 OURS: its file was removed, or it was added with --conf-file)."""
    from cnitool.core.errors import NetworkNotFound

    try:
        return load_network(app, output, name, conf_file)
    except NetworkNotFound:
        cached = cni.cached_network(name, runtime)
        if cached is None:
            raise
        output.warning(f'network "{name}" is not in the config directories; using the config cached with the attachment')
        return cached


def with_cached_arguments(cni: Cni, network: str, runtime: RuntimeConf) -> RuntimeConf:
    """OURS: a DEL or CHECK given no capability args (or no CNI_ARGS) uses those cached at ADD.

    The reference passes only what the caller gives, so ``cnitool del`` without the ADD's
    ``CAP_ARGS`` leaves portmap's DNAT rules behind, and CHECK would not check them; a runtime
    passes the same arguments on every verb, and the cache entry knows what they were.
    """
    from dataclasses import replace

    entry = cni.cached_entry(network, runtime)
    if entry is None:
        return runtime
    if not runtime.capability_args and entry.capability_args:
        runtime = replace(runtime, capability_args=dict(entry.capability_args))
    if not runtime.args and entry.cni_args:
        runtime = replace(runtime, args=entry.cni_args)
    return runtime


def warn_unused_capabilities(output: Output, network: NetworkConfig, runtime: RuntimeConf) -> None:
    """A capability argument no plugin of the network declares is not passed to any plugin
    (REQ-02): say so, or ``--mac`` on a network without a mac-capable plugin silently does nothing."""
    declared = {name for plugin in network.plugins for name, on in plugin.capabilities.items() if on is True}
    for name in sorted(set(runtime.capability_args) - declared):
        output.warning(f'capability "{name}" was given but no plugin of network "{network.name}" declares it; '
                       "it is not passed on")
