"""``cnitool exec NET -- CMD...``: run a command in a throw-away namespace attached to a network.

The CI smoke test in one line: ``cnitool exec mynet -- ping -c1 10.22.0.1``. A namespace is
created (``cnitool-exec-<hex>``), added to the network (ADD with rollback, ADD-02), CMD runs
inside it with our stdin/stdout/stderr, then the attachment is deleted (DEL) and the namespace
removed, whatever CMD did: failed, was interrupted with Ctrl-C, or cnitool got SIGTERM. What CMD
left running in a namespace exec created (``sh -c 'daemon &'``) is ended before the namespace is
removed, or it would keep the namespace alive. The exit status is CMD's (128+N when signal N
ended it); when the ADD fails, it is cnitool's own (CLI-05). CMD is looked up before anything is
set up: a missing one is exit 127, as a shell's "command not found".

stdout belongs to CMD: on a terminal cnitool says what it set up in one line on stderr; in
JSON mode it prints nothing of its own on stdout (its diagnostics stay JSON lines on stderr).
"""

from __future__ import annotations

import json
import shlex
import signal
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from cnitool.cli import signals
from cnitool.cli.app import App, get_app
from cnitool.cli.common import (
    attachment_options,
    load_network,
    make_cni,
    remove_namespace_unless_used,
    resolve_attachment,
    warn_unused_capabilities,
)
from cnitool.cli.complete import complete_netns, complete_network
from cnitool.cli.output import Output

if TYPE_CHECKING:
    from cnitool.netns import Occupancy
    from cnitool.core.netconf import NetworkConfig
    from cnitool.core.result import Result
    from cnitool.core.runtime import RuntimeConf

NAME_PREFIX = "cnitool-exec-"
_ABORT_AFTER = 3  # the third Ctrl-C during set-up or clean-up gives up waiting (escape hatch)


class ExecSignals:
    """SIGINT, SIGTERM and SIGHUP while exec sets up and cleans up (CMD gets its own handling).

    While ADD runs they are raised, as for ``cnitool add``: the running plugin is killed and what
    the chain built is rolled back at once (ADD-02), instead of waiting for a hung plugin's
    timeout. While the namespace is created (a fork: never stopped half-way) and while clean-up
    runs they are only noted, so that nothing is left half done; the third one raises anyway, the
    escape hatch for a plugin that hangs in DEL.
    """

    WATCHED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.received: list[int] = []
        self.raising = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        if self.raising or len(self.received) >= _ABORT_AFTER:
            raise signals.interrupt_for(signum)

    def __enter__(self) -> ExecSignals:
        for sig in self.WATCHED:
            previous = signal.getsignal(sig)
            if previous is not signal.SIG_IGN:  # ignored (e.g. a background job, nohup) stays ignored
                self._previous[sig] = previous
                signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            if previous is not None:
                signal.signal(sig, previous)

    @property
    def status(self) -> int | None:
        """128+N for the first signal noted (130 for SIGINT, as the shell reports it), else None."""
        return 128 + self.received[0] if self.received else None


@click.command(
    "exec",
    short_help="Run a command in a temporary namespace on a network.",
    help="Run CMD in a new namespace attached to NETWORK, then detach and remove it.\n\n"
    "The namespace (cnitool-exec-<hex>, or --netns NAME) is added to the network, CMD runs inside "
    "it with this terminal's stdin, stdout and stderr, then the attachment is deleted and the "
    "namespace removed, also when CMD fails or is interrupted (Ctrl-C, SIGTERM); processes CMD left "
    "running in a namespace exec created are ended first (SIGTERM, SIGKILL after 2 s). The exit status "
    "is CMD's (127 when CMD is not found: then nothing is set up); when the network cannot be added "
    "it is cnitool's own.\n\n"
    "\b\nExample (the CI smoke test of a network):\n  cnitool exec mynet -- ping -c1 10.22.0.1",
)
@click.argument("network", shell_complete=complete_network)
@click.argument("command", nargs=-1, required=True, metavar="-- CMD [ARG]...")
@click.option("--netns", "netns_name", metavar="NAME", shell_complete=complete_netns,
              help="Use this namespace: an existing one is used and kept; a new name is created and removed.")
@click.option("--keep", is_flag=True, help="Leave the attachment and the namespace for debugging, and say how to remove them.")
@attachment_options
def exec_command(network: str, command: tuple[str, ...], netns_name: str | None, keep: bool, **options: Any) -> int:
    import secrets

    from cnitool import netns as netns_adapter
    from cnitool.core.errors import NetnsError

    app = get_app()
    output = Output(app)
    name = netns_name or f"{NAME_PREFIX}{secrets.token_hex(4)}"
    attachment = resolve_attachment(app, name, options)  # the same options as add (CLI-01, REQ-07)
    path = attachment.netns_path
    runtime = attachment.runtime
    config = load_network(app, output, network, options["conf_file"])
    warn_unused_capabilities(output, config, runtime)
    cni = make_cni(app, output)
    netns_adapter.nsenter_path()  # CMD must be runnable before anything is set up
    netns_adapter.find_command(command[0])  # 127 (126) as a shell's, not nsenter's line after ADD
    bare = netns_adapter.is_bare_name(name)
    if not bare and not netns_adapter.exists(path):
        raise NetnsError(f'network namespace "{path}" does not exist', hint="--netns creates only bare names")

    # The namespace is created (outside any rich live display: it forks), or joined when a
    # concurrent add or exec of the same name made it first (CLI-03); only ours is removed.
    with ExecSignals() as interrupts, netns_adapter.occupy(path, create_name=name if bare else None) as occupancy:
        if interrupts.status is not None:  # interrupted while the namespace was being made
            output.info(f"interrupted (signal {interrupts.received[0]}): not adding; cleaning up")
            if occupancy.created:
                _remove_own_namespace(output, cni, occupancy, name)
            return interrupts.status
        try:
            interrupts.raising = True
            # Never the host's own namespace (CLI-03). An interface already attached in it is
            # refused by add before anything runs, so exec never DELs an attachment it did not make.
            netns_adapter.check_netns(path)
            result = cni.add(config, runtime, rollback=True)
            # No signal is taken between the return and this line (CPython checks for them on
            # calls and backward jumps), so an interrupt either rolled ADD back or comes after.
            interrupts.raising = False
        except BaseException:  # a CniError, or an interrupt (ADD rolled back what it built)
            interrupts.raising = False
            if occupancy.created:
                _remove_own_namespace(output, cni, occupancy, name)  # a failed exec leaves nothing behind
            raise
        finish = _Finish(app, output, cni, config, runtime, occupancy, name, keep)
        try:
            status = interrupts.status  # noted just after ADD: skip CMD, clean up, report the signal
            if status is not None:
                output.info(f"interrupted (signal {interrupts.received[0]}): not running the command; cleaning up")
            else:
                _summary(app, output, config, runtime, result, name, command)
                status = netns_adapter.run_foreground(path, command).status
        except BaseException:  # CMD could not be started, or a third signal: undo the attachment all the same
            finish(status=1)
            raise
        return finish(status)


def _remove_own_namespace(output: Output, cni: Any, occupancy: Occupancy, name: str) -> None:
    """Remove the namespace this exec created, after ending the processes CMD left in it.

    A process CMD started in the background (``sh -c 'daemon &'``) would otherwise keep the
    namespace alive, unnamed and without its interface, after exec returned: it is ended the way
    a container runtime ends a pod's (SIGTERM, a short grace, SIGKILL; netns.end_processes), and
    one info line says how many. Not when the namespace stays because another attachment is in
    it or being made in it (a concurrent add of the same --netns NEW joined it): then what runs
    in it may be that one's.
    """
    from cnitool import netns as netns_adapter

    def end_leftovers() -> None:
        ended = netns_adapter.end_processes(occupancy.path)
        if ended.count:
            plural = "process" if ended.count == 1 else "processes"
            how = (f"; {ended.killed} still there after {netns_adapter.END_GRACE_SECONDS:g} s got SIGKILL"
                   if ended.killed else "")
            output.info(f"ended {ended.count} {plural} the command left in namespace {name} with SIGTERM{how}")
        if ended.remaining:
            output.warning(f"{ended.remaining} process(es) in namespace {name} did not end after SIGKILL; "
                           "the namespace lives on, unnamed, until they exit")

    remove_namespace_unless_used(output, cni, occupancy, name, before_removing=end_leftovers)


def _summary(app: App, output: Output, config: NetworkConfig, runtime: RuntimeConf, result: Result,
             name: str, command: tuple[str, ...]) -> None:
    """One line on stderr on a terminal (stdout is CMD's); nothing in JSON mode."""
    if app.diagnostics_json:
        return
    from cnitool.render import human

    addresses = ", ".join(ip.address for ip in result.ips) or "no address"
    human.write_line(
        human.console(app.stderr, app.color),
        f"cnitool exec: {runtime.ifname} {addresses} in namespace {name} on network {config.name}; "
        f"running {shlex.join(command)}",
        "dim",
    )


@dataclass(frozen=True)
class _Finish:
    """The end of an exec: the attachment and the namespace are undone, or kept with --keep."""

    app: App
    output: Output
    cni: Any
    config: NetworkConfig
    runtime: RuntimeConf
    occupancy: Occupancy
    name: str
    keep: bool

    def __call__(self, status: int) -> int:
        if self.keep:
            self._explain_keep()
            return status
        return self._clean_up(status)

    def _clean_up(self, status: int) -> int:
        """DEL, then remove the namespace we made. A failed DEL keeps the namespace and says how to retry."""
        from cnitool.core.errors import CniError

        created = self.occupancy.created
        try:
            self.cni.delete(self.config, self.runtime)
        except CniError as err:
            self.output.error(err)
            self.output.info("the attachment could not be deleted; retry with: "
                             + _del_command(self.app, self.config, self.runtime, self.occupancy.path, created))
            return status or int(err.exit_code)
        if created:
            try:
                _remove_own_namespace(self.output, self.cni, self.occupancy, self.name)
            except CniError as err:
                self.output.error(err)
                return status or int(err.exit_code)
        return status

    def _explain_keep(self) -> None:
        created = self.occupancy.created
        kept = f"namespace {self.name} and its attachment" if created else f"the attachment of {self.name}"
        self.output.info(f"--keep: left {kept} to network {self.config.name}; look inside with: "
                         f"cnitool netns exec {shlex.quote(self.name)} -- sh; remove with: "
                         + _del_command(self.app, self.config, self.runtime, self.runtime.netns, created))


def _del_command(app: App, config: NetworkConfig, runtime: RuntimeConf, path: str, remove_netns: bool) -> str:
    """The ``cnitool del`` that undoes this exec, with the settings given on our command line."""
    words = ["cnitool"]
    for option, flag in (("conf_dir", "--conf-dir"), ("cni_path", "--cni-path"), ("cache_dir", "--cache-dir")):
        if option in app.options:
            words += [flag, str(app.options[option])]
    words += ["del", config.name, path]
    if runtime.ifname != "eth0":
        words += ["-i", runtime.ifname]
    from cnitool.core.runtime import container_id_for_netns

    if runtime.container_id != container_id_for_netns(path):
        words += ["--container-id", runtime.container_id]
    for key, value in runtime.args:
        words += ["--arg", f"{key}={value}"]
    for cap, value in runtime.capability_args.items():
        words += ["--cap", f"{cap}={json.dumps(value, separators=(',', ':'))}"]
    if remove_netns:
        words.append("--remove-netns")
    return shlex.join(words)
