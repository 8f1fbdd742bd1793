"""``cnitool invoke PLUGIN VERB``: run one plugin once, exactly as given, and show everything (for plugin authors).

No chaining, no cache, no rollback, no conversion: the request config you give is the stdin the
plugin reads, and what it printed is shown as it printed it, all of it (only control characters
are made visible in the human view; ``-o json`` has the exact text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cnitool.cli.app import get_app, global_options
from cnitool.cli.complete import complete_netns
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from rich.console import Console

VERBS = ("ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION")


@click.command(
    short_help="Run one plugin once and show everything.",
    help="Run plugin PLUGIN once with CNI_COMMAND=VERB and show the environment and stdin it got, "
    "what it printed, its exit status and duration. Exits with the plugin's exit status.\n\n"
    "PLUGIN is a plugin name, looked up in the plugin path like a config's \"type\", or a path to a "
    "plugin file (one with a /, e.g. ./bin/myplugin): that file runs, and CNI_PATH still lists the "
    "plugin path so that it can delegate to IPAM plugins.\n\n"
    "The request config comes from --conf (a file, or - for stdin); VERSION needs none. NETNS is a "
    "namespace path or a bare name meaning /var/run/netns/NAME, as for add, but it is never created: "
    "a NETNS that does not exist, is not a network namespace or is the host's own is refused (exit 3) "
    "before the plugin runs; create one with `cnitool netns add NAME` or `ip netns add NAME`. For DEL "
    "a namespace that is gone is accepted, as for del.\n\n"
    "\b\nExamples:\n  cnitool invoke bridge VERSION\n"
    "  cnitool invoke ./bin/myplugin ADD ns1 --conf request.json"
)
@click.argument("plugin", metavar="PLUGIN|PATH")
@click.argument("verb", type=click.Choice(VERBS, case_sensitive=False))
@click.argument("netns", required=False, shell_complete=complete_netns)
@click.option("--conf", "conf", metavar="FILE", help="The request config to send on stdin (- for stdin).")
@click.option("-i", "--ifname", metavar="NAME", help="CNI_IFNAME [default: eth0; env var CNI_IFNAME].")
@click.option("--container-id", metavar="ID", help="CNI_CONTAINERID [default: derived from NETNS as for add].")
@click.option("--arg", "args", multiple=True, metavar="KEY=VALUE", help="A CNI_ARGS pair (repeatable).")
@global_options
def invoke(plugin: str, verb: str, netns: str | None, conf: str | None, ifname: str | None,
           container_id: str | None, args: tuple[str, ...]) -> None:
    import json
    import os

    from cnitool import netns as netns_adapter
    from cnitool.cli.common import cni_args_from, make_runner
    from cnitool.cli.trace import call_record, format_call
    from cnitool.core.errors import PluginNotFound, UsageError
    from cnitool.core.names import validate_plugin_type
    from cnitool.core.pluginexec import PluginCaller
    from cnitool.core.runner import PluginInvocation
    from cnitool.core.runtime import RuntimeConf, container_id_for_netns
    from cnitool.core.version import CURRENT_VERSION
    from cnitool.invoke import find_plugin

    app = get_app()
    output = Output(app)
    verb = verb.upper()
    search_dirs = tuple(app.plugin_dirs)
    if "/" in plugin:  # a plugin author's build, run where it is
        if not os.path.isfile(plugin):
            raise PluginNotFound(f"no plugin file at {plugin}", plugin=plugin)
        search_dirs = (os.path.dirname(os.path.abspath(plugin)),)
        plugin = os.path.basename(plugin)
    validate_plugin_type(plugin)
    if conf is None:
        if verb != "VERSION":
            raise UsageError(f"{verb} needs a request config: --conf FILE or --conf -")
        stdin = json.dumps({"cniVersion": CURRENT_VERSION}).encode()
    elif conf == "-":
        stdin = click.get_binary_stream("stdin").read()
    else:
        try:
            with open(conf, "rb") as handle:
                stdin = handle.read()
        except OSError as err:
            raise UsageError(f"cannot read --conf {conf}: {err.strerror}") from None
    runtime = None
    if netns is not None:
        path = netns_adapter.resolve(netns)
        _check_netns(verb, path)
        runtime = RuntimeConf(
            container_id=container_id or container_id_for_netns(path),
            netns=path,
            ifname=ifname or app.environ.get("CNI_IFNAME") or "eth0",
            args=cni_args_from(app, args),
        )
    path = find_plugin(plugin, search_dirs)  # not found: a clear error before anything runs
    runner = make_runner(app, output)
    caller = PluginCaller(runner, tuple(app.plugin_dirs))  # CNI_PATH: the plugin path, for delegation
    invocation = PluginInvocation(plugin, verb, caller.environment(verb, runtime), stdin, search_dirs)
    result = runner.run(invocation)
    record = call_record(invocation, result, path)
    output.document(record, lambda console: _write(console, format_call(record)))
    click.get_current_context().exit(min(result.exit_status, 125) if result.exit_status >= 0 else 128 - result.exit_status)


def _check_netns(verb: str, path: str) -> None:
    """CLI-03, before the plugin runs: the namespace exists and is not the host's (bridge would
    otherwise build its bridge on the host and then fail). Never created: invoke is one call with
    no cleanup, so a namespace it made would outlive it and a typo would go unnoticed. DEL, like
    ``cnitool del``, may name a namespace that is gone (DEL-01)."""
    import os

    from cnitool import netns as netns_adapter
    from cnitool.core.errors import NetnsError

    if verb == "DEL":
        netns_adapter.refuse_host_namespace(path)
        return
    try:
        netns_adapter.check_netns(path)
    except NetnsError as err:
        if netns_adapter.is_named(path) and not os.path.lexists(path) and err.hint is None:
            name = os.path.basename(path)
            err.hint = f"invoke never creates a namespace: `cnitool netns add {name}` (or `ip netns add {name}`) does"
        raise


def _write(console: Console, text: str) -> None:
    """Straight to the console's stream: the text is ready (format_call), and rich would take
    seconds per megabyte of plugin output cutting it into lines."""
    console.file.write(text)
    console.file.flush()
