"""Shell completion: the ``completion`` command and the callbacks that complete network and namespace names.

click does the protocol (the script calls ``_CNITOOL_COMPLETE=bash_complete cnitool`` and prints
what comes back); this module only adds what click cannot know. Speed rule: completing runs on
every Tab press, so only click, the standard library and stdlib-only parts of cnitool are imported
here; never rich, never pyroute2.
"""

from __future__ import annotations

import os

import click
from click.shell_completion import CompletionItem, get_completion_class

from cnitool.cli.app import App

SHELLS = ("bash", "zsh", "fish")
PROG_NAME = "cnitool"
COMPLETE_VAR = "_CNITOOL_COMPLETE"  # what click derives from the program name; the scripts set it


def completion_script(shell: str) -> str:
    """What ``_CNITOOL_COMPLETE={shell}_source cnitool`` prints: click's own script.

    The scripts only call back into cnitool, so they do not depend on the command tree, only on
    the click version (click 8.4.0's fish script is broken: pallets/click#3502).
    """
    complete_class = get_completion_class(shell)
    if complete_class is None:  # pragma: no cover - SHELLS are all built into click
        raise click.UsageError(f"unsupported shell {shell}")
    return complete_class(click.Command(PROG_NAME), {}, PROG_NAME, COMPLETE_VAR).source()


@click.command(
    short_help="Print the shell completion script (bash, zsh, fish).",
    help="Print the shell completion script for SHELL.\n\n"
    "\b\nbash: eval \"$(cnitool completion bash)\" in ~/.bashrc\n"
    "zsh:  eval \"$(cnitool completion zsh)\" in ~/.zshrc (after compinit)\n"
    "fish: cnitool completion fish > ~/.config/fish/completions/cnitool.fish\n\n"
    "Network names complete from the config directories, namespace names from /var/run/netns."
)
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    click.echo(completion_script(shell), nl=False)


def _app(ctx: click.Context) -> App:
    # The App collected --conf-dir (before or after the verb) while click parsed the words typed so far.
    app = ctx.find_object(App)
    return app if app is not None else App()


def network_names(dirs: list[str]) -> dict[str, str]:
    """Network name -> the file defining it (the first one in lookup order wins), read cheaply.

    Only each file's top-level ``"name"`` is read; a file that is not JSON or has no string name
    is skipped silently (``cnitool validate`` is where problems are reported).
    """
    from cnitool.core.errors import CniError
    from cnitool.core.jsondecode import loads
    from cnitool.core.loader import config_files

    names: dict[str, str] = {}
    for directory in dirs:
        try:
            files = config_files([directory])
        except CniError:
            continue
        for path in files:
            try:
                with open(path, "rb") as stream:
                    document = loads(stream.read())
            except (OSError, ValueError):
                continue
            name = document.get("name") if isinstance(document, dict) else None
            if isinstance(name, str) and name:
                names.setdefault(name, path)
    return names


def complete_network(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """NETWORK: the names defined in ``--conf-dir``/``NETCONFPATH`` (default /etc/cni/net.d)."""
    names = network_names(_app(ctx).conf_dirs)
    return [
        CompletionItem(name, help=os.path.basename(path))
        for name, path in sorted(names.items())
        if name.startswith(incomplete)
    ]


def complete_network_or_path(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """NET|FILE|DIR: the network names, and the shell's own file completion next to them."""
    return [*complete_network(ctx, param, incomplete), CompletionItem(incomplete, type="file")]


def complete_netns(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """NETNS: the names ``ip netns list`` shows; a path (anything with a ``/``) completes as a file."""
    from cnitool import netns

    if "/" in incomplete:
        return [CompletionItem(incomplete, type="file")]
    try:
        names = netns.list_names()
    except OSError:
        names = []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]
