"""The command line itself: help, version, option placement and precedence, container IDs, output
modes, colour, rendering of plugin text, the internal-error exit and import discipline.

Everything runs the real ``cnitool`` in a subprocess (the ``cnitool`` fixture of tests/conftest.py)
with fake ``#!/bin/sh`` plugins. ``del`` goes ahead without a namespace (DEL-01), so most tests use
it with a path that does not exist; tests of ``add``/``check`` get a real, empty namespace from the
``netns`` fixture, removed afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest

import cnitool as cnitool_package
from cnitool.cli import cli as cli_group

ENV_VARS = ("NETCONFPATH", "CNI_PATH", "CNI_IFNAME", "CNI_ARGS", "CAP_ARGS", "CNI_CACHE_DIR")
ATTACHMENT_VERBS = ("add", "check", "del")
EXIT_STATUS_LINES = (
    "0   success",
    "1   a plugin reported an error",
    "2   bad usage or invalid configuration",
    "3   environment problem",
    "4   a plugin timed out",
    "70  internal error",
    "130 interrupted",
)
NO_NETNS = "/var/run/netns/cnit-does-not-exist"  # del goes ahead without a namespace
RESULT = {"cniVersion": "1.0.0", "ips": [{"address": "10.1.2.3/24", "gateway": "10.1.2.1"}]}
ANSI = re.compile(r"\x1b\[")

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="creating network namespaces needs root")


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh, empty named namespace (``ip netns add``); removed afterwards whatever happened."""
    if os.geteuid() != 0:
        pytest.skip("creating network namespaces needs root")
    name = f"cnit-{uuid.uuid4().hex[:10]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield f"/var/run/netns/{name}"
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


class Lab:
    """A config dir, plugin dir, cache dir and log dir, and the environment that points at them."""

    def __init__(self, tmp_path: Path, conf_dir: Path, cache_dir: Path, make: Callable[..., Path]) -> None:
        self.tmp = tmp_path
        self.conf_dir = conf_dir
        self.cache_dir = cache_dir
        self.plugin_dir: Path = make.dir  # type: ignore[attr-defined]
        self.make = make
        self.log_dir = tmp_path / "log"
        self.log_dir.mkdir()

    @property
    def vars(self) -> dict[str, str]:
        return {"NETCONFPATH": str(self.conf_dir), "CNI_PATH": str(self.plugin_dir), "CNI_CACHE_DIR": str(self.cache_dir)}

    def network(self, name: str, plugins: list[dict], version: str = "1.0.0", conf_dir: Path | None = None) -> None:
        directory = conf_dir or self.conf_dir
        directory.mkdir(exist_ok=True)
        (directory / f"{name}.conflist").write_text(json.dumps({"cniVersion": version, "name": name, "plugins": plugins}))

    def plugin(self, name: str, add: object = RESULT, extra: str = "") -> None:
        """Records its env and stdin per verb; prints ``add`` (JSON text or a document) on ADD."""
        text = add if isinstance(add, str) else json.dumps(add)
        self.make(name, textwrap.dedent(f"""\
            cat > "{self.log_dir}/{name}.$CNI_COMMAND.stdin"
            env -0 > "{self.log_dir}/{name}.$CNI_COMMAND.env"
            {extra}
            if [ "$CNI_COMMAND" = ADD ]; then cat <<'__RESULT__'
            {text}
            __RESULT__
            fi
            """))

    def plugin_env(self, name: str, verb: str) -> dict[str, str]:
        raw = (self.log_dir / f"{name}.{verb}.env").read_bytes().decode()
        return dict(item.split("=", 1) for item in raw.split("\0") if item)

    def ran(self, name: str, verb: str) -> bool:
        return (self.log_dir / f"{name}.{verb}.env").exists()


@pytest.fixture
def lab(tmp_path: Path, conf_dir: Path, cache_dir: Path, fake_plugins) -> Lab:
    lab = Lab(tmp_path, conf_dir, cache_dir, fake_plugins)
    lab.plugin("rec")
    lab.network("net1", [{"type": "rec"}])
    return lab


def go_container_id(path: str) -> str:
    """CLI-02, computed here independently: the Go tool's ``cnitool-`` + hex(sha512(path)[:10])."""
    return "cnitool-" + hashlib.sha512(path.encode()).hexdigest()[:20]


# ----------------------------------------------------------------------------- help and version


def test_cli_05_group_help_lists_options_env_vars_and_exit_statuses(cnitool) -> None:
    """CLI-01, CLI-05: ``cnitool --help`` shows every global option, the env vars and the exit statuses."""
    run = cnitool("--help")
    assert run.returncode == 0, run
    for param in cli_group.params:
        for opt in param.opts:
            assert opt in run.stdout, opt
    for name in ("NETCONFPATH", "CNI_PATH", "CNI_CACHE_DIR"):
        assert name in run.stdout, name
    for line in EXIT_STATUS_LINES:
        assert line in run.stdout, line
    for verb in ATTACHMENT_VERBS:
        assert re.search(rf"^\s+{verb}\s", run.stdout, re.M), verb


def test_cli_01_group_help_names_every_env_var(cnitool) -> None:
    """CLI-01: ``--help`` shows each env var (issue 2 "Options"), the per-attachment ones too."""
    run = cnitool("--help")
    for name in ENV_VARS:
        assert name in run.stdout, name


@pytest.mark.parametrize("verb", ATTACHMENT_VERBS)
def test_cli_01_verb_help_lists_every_option_and_env_var(cnitool, verb: str) -> None:
    """CLI-01: ``cnitool VERB --help`` shows every option of the verb and every env var."""
    run = cnitool(verb, "--help")
    assert run.returncode == 0, run
    command = cli_group.commands[verb]
    options = [opt for param in command.params if isinstance(param, click.Option) for opt in param.opts]
    assert "--ifname" in options and "--conf-dir" in options  # the introspection itself works
    for opt in options:
        assert re.search(rf"(^|[\s,]){re.escape(opt)}\b", run.stdout), opt
    for name in ENV_VARS:
        assert name in run.stdout, name
    assert f"Usage: cnitool {verb} [OPTIONS] NETWORK NETNS" in run.stdout


@pytest.mark.parametrize("verb", sorted(cli_group.commands))
def test_cli_01_every_command_help_lists_its_options(cnitool, verb: str) -> None:
    """Every option of every command is in its --help."""
    run = cnitool(verb, "--help")
    assert run.returncode == 0, run
    command = cli_group.commands[verb]
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            for opt in param.opts:
                assert re.search(rf"(^|[\s,]){re.escape(opt)}\b", run.stdout), opt


@pytest.mark.parametrize("verb", ATTACHMENT_VERBS)
def test_cli_05_verb_help_lists_exit_statuses(cnitool, verb: str) -> None:
    """CLI-05: the exit statuses are "documented in --help": the verb's too, where users look when it failed."""
    run = cnitool(verb, "--help")
    for line in EXIT_STATUS_LINES:
        assert line in run.stdout, line


def test_version(cnitool) -> None:
    for flag in ("--version", "-V"):
        run = cnitool(flag)
        assert run.returncode == 0, run
        assert run.stdout == f"cnitool {cnitool_package.__version__} (CNI spec 0.1.0 - 1.1.0)\n"


def test_cli_05_usage_error_exits_2(cnitool) -> None:
    """CLI-05: bad usage (a missing argument, an unknown option, a bad choice) exits 2."""
    assert cnitool("add", "net1").returncode == 2
    assert cnitool("del", "--no-such-option", "net1", NO_NETNS).returncode == 2
    run = cnitool("-o", "yaml", "del", "net1", NO_NETNS)
    assert run.returncode == 2
    assert "yaml" in run.stderr


# ----------------------------------------------------------------------------- options and env vars


def test_cli_01_global_options_before_and_after_the_verb(cnitool, lab: Lab) -> None:
    """Options are accepted before the verb and after it."""
    before = cnitool("--conf-dir", str(lab.conf_dir), "--cni-path", str(lab.plugin_dir), "--cache-dir",
                     str(lab.cache_dir), "-o", "json", "del", "net1", NO_NETNS)
    assert before.returncode == 0, before
    after = cnitool("del", "--conf-dir", str(lab.conf_dir), "--cni-path", str(lab.plugin_dir), "--cache-dir",
                    str(lab.cache_dir), "-o", "json", "net1", NO_NETNS)
    assert after.returncode == 0, after
    assert lab.ran("rec", "DEL")


def test_cli_01_the_later_option_wins(cnitool, lab: Lab, tmp_path: Path) -> None:
    """An option given after the verb beats the same option given before it."""
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cnitool("-o", "json", "del", "-o", "table", "net1", NO_NETNS, env=lab.vars).stdout.startswith("Nothing was cached")
    assert cnitool("-o", "table", "del", "-o", "json", "net1", NO_NETNS, env=lab.vars).stdout == ""
    good = cnitool("--conf-dir", str(empty), "del", "--conf-dir", str(lab.conf_dir), "net1", NO_NETNS, env=lab.vars)
    assert good.returncode == 0, good
    bad = cnitool("--conf-dir", str(lab.conf_dir), "del", "--conf-dir", str(empty), "net1", NO_NETNS, env=lab.vars)
    assert bad.returncode == 3, bad


def test_cli_01_conf_dir_and_cni_path_beat_their_env_vars(cnitool, lab: Lab, tmp_path: Path) -> None:
    """CLI-01, LOAD-01, EXEC-01: --conf-dir over NETCONFPATH, --cni-path over CNI_PATH."""
    empty = tmp_path / "empty"
    empty.mkdir()
    vars_ = {**lab.vars, "NETCONFPATH": str(empty), "CNI_PATH": str(empty)}
    assert cnitool("-o", "json", "del", "net1", NO_NETNS, env=vars_).returncode == 3
    run = cnitool("-o", "json", "del", "--conf-dir", str(lab.conf_dir), "--cni-path", str(lab.plugin_dir), "net1",
                  NO_NETNS, env=vars_)
    assert run.returncode == 0, run
    assert lab.plugin_env("rec", "DEL")["CNI_PATH"] == str(lab.plugin_dir)


@needs_root
def test_cli_01_cache_dir_beats_cni_cache_dir(cnitool, lab: Lab, netns: str, tmp_path: Path) -> None:
    """CACHE-01, CLI-01: the entry goes under --cache-dir, not CNI_CACHE_DIR."""
    chosen = tmp_path / "chosen"
    run = cnitool("add", "-o", "json", "--cache-dir", str(chosen), "net1", netns, env=lab.vars)
    assert run.returncode == 0, run
    assert os.listdir(chosen / "results") == [f"net1-{go_container_id(netns)}-eth0"]
    assert not (lab.cache_dir / "results").exists() or os.listdir(lab.cache_dir / "results") == []
    assert cnitool("del", "-o", "json", "--cache-dir", str(chosen), "net1", netns, env=lab.vars).returncode == 0
    assert os.listdir(chosen / "results") == []


@pytest.mark.parametrize(
    ("env_ifname", "option", "expected"),
    [
        (None, None, "eth0"),
        ("", None, "eth0"),  # set but empty means eth0, as upstream main
        ("net5", None, "net5"),
        ("net5", "net9", "net9"),
        (None, "net9", "net9"),
    ],
)
def test_cli_01_ifname_option_env_and_default(cnitool, lab: Lab, env_ifname: str | None, option: str | None,
                                              expected: str) -> None:
    """CLI-01: -i beats CNI_IFNAME; unset or empty CNI_IFNAME means eth0."""
    vars_ = dict(lab.vars)
    if env_ifname is not None:
        vars_["CNI_IFNAME"] = env_ifname
    options = ["-i", option] if option is not None else []
    run = cnitool("del", "-o", "json", *options, "net1", NO_NETNS, env=vars_)
    assert run.returncode == 0, run
    assert lab.plugin_env("rec", "DEL")["CNI_IFNAME"] == expected


def test_cli_01_req_07_arg_replaces_cni_args_and_cap_overrides_one_name(cnitool, lab: Lab) -> None:
    """REQ-07: --arg given at all replaces CNI_ARGS; --cap overrides only its name in CAP_ARGS."""
    lab.network("capnet", [{"type": "rec", "capabilities": {"a": True, "b": True}}])
    vars_ = {**lab.vars, "CNI_ARGS": "FROM=env", "CAP_ARGS": '{"a": 1, "b": 2}'}
    run = cnitool("del", "-o", "json", "--arg", "X=1", "--arg", "Y=", "--cap", "b=[3]", "capnet", NO_NETNS, env=vars_)
    assert run.returncode == 0, run
    assert lab.plugin_env("rec", "DEL")["CNI_ARGS"] == "X=1;Y="
    request = json.loads((lab.log_dir / "rec.DEL.stdin").read_text())
    assert request["runtimeConfig"] == {"a": 1, "b": [3]}


# ----------------------------------------------------------------------------- container ID


@pytest.mark.parametrize("netns_arg", ["/var/run/netns/cnitest", "cnitest", "/var/run//netns/./cnitest"])
def test_cli_02_container_id_vector(cnitool, lab: Lab, netns_arg: str) -> None:
    """CLI-02: ``/var/run/netns/cnitest`` → ``cnitool-20c433bb2b1d6ede56d6``, as the Go tool derives it
    (a bare name means that path; a path is cleaned like Go's filepath.Abs)."""
    run = cnitool("del", "-o", "json", "net1", netns_arg, env=lab.vars)
    assert run.returncode == 0, run
    seen = lab.plugin_env("rec", "DEL")
    assert seen["CNI_CONTAINERID"] == "cnitool-20c433bb2b1d6ede56d6"
    assert seen["CNI_NETNS"] == "/var/run/netns/cnitest"


def test_cli_02_relative_path_is_made_absolute_against_the_working_directory(lab: Lab, tmp_path: Path) -> None:
    """CLI-02, CLI-03: ``./x`` is hashed as ``$PWD/x``, like Go's filepath.Abs."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    completed = subprocess.run([sys.executable, "-m", "cnitool", "del", "-o", "json", "net1", "./x"],
                               env=_env({**lab.vars, "PWD": str(workdir)}), cwd=workdir, capture_output=True, text=True)
    assert completed.returncode == 0, completed
    seen = lab.plugin_env("rec", "DEL")
    assert seen["CNI_NETNS"] == f"{workdir}/x"
    assert seen["CNI_CONTAINERID"] == go_container_id(f"{workdir}/x")


@needs_root
def test_cli_02_container_id_of_a_real_namespace_and_override(cnitool, lab: Lab, netns: str) -> None:
    """CLI-02: the ID the plugin sees is the Go derivation of the real path; --container-id overrides it."""
    run = cnitool("add", "-o", "json", "net1", netns, env=lab.vars)
    assert run.returncode == 0, run
    assert lab.plugin_env("rec", "ADD")["CNI_CONTAINERID"] == go_container_id(netns)
    assert cnitool("del", "-o", "json", "net1", netns, env=lab.vars).returncode == 0
    assert lab.plugin_env("rec", "DEL")["CNI_CONTAINERID"] == go_container_id(netns)

    run = cnitool("add", "-o", "json", "--container-id", "my-ctr", "net1", netns, env=lab.vars)
    assert run.returncode == 0, run
    assert lab.plugin_env("rec", "ADD")["CNI_CONTAINERID"] == "my-ctr"
    assert os.listdir(lab.cache_dir / "results") == ["net1-my-ctr-eth0"]
    assert cnitool("del", "-o", "json", "--container-id", "my-ctr", "net1", netns, env=lab.vars).returncode == 0


# ----------------------------------------------------------------------------- output modes


@needs_root
def test_cli_04_json_result_on_stdout_and_quiet_check_and_del(cnitool, lab: Lab, netns: str) -> None:
    """CLI-04, RES-04: -o json prints the reference JSON plus a newline; check and del print nothing."""
    expected = textwrap.dedent("""\
        {
            "cniVersion": "1.0.0",
            "ips": [
                {
                    "address": "10.1.2.3/24",
                    "gateway": "10.1.2.1"
                }
            ]
        }
        """)
    run = cnitool("add", "-o", "json", "net1", netns, env=lab.vars)
    assert (run.returncode, run.stdout, run.stderr) == (0, expected, "")
    run = cnitool("check", "-o", "json", "net1", netns, env=lab.vars)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    run = cnitool("del", "-o", "json", "net1", netns, env=lab.vars)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


@needs_root
def test_cli_04_auto_is_json_in_a_pipe(cnitool, lab: Lab, netns: str) -> None:
    """CLI-04: without -o, stdout that is not a terminal gets the reference JSON (Go-tool scripts keep working)."""
    run = cnitool("add", "net1", netns, env=lab.vars)
    assert run.returncode == 0, run
    assert json.loads(run.stdout) == RESULT
    run = cnitool("del", "net1", netns, env=lab.vars)
    assert (run.returncode, run.stdout) == (0, "")


@needs_root
def test_cli_04_table_mode_confirmations(cnitool, lab: Lab, netns: str) -> None:
    """CLI-04: with -o table, add prints a summary and tables; check and del print one confirmation line."""
    cid = go_container_id(netns)
    run = cnitool("add", "-o", "table", "net1", netns, env={**lab.vars, "COLUMNS": "200"})
    assert run.returncode == 0, run
    lines = run.stdout.splitlines()
    assert lines[0] == f"Added eth0 in {netns} to network net1 (container {cid}, cniVersion 1.0.0)"
    assert "10.1.2.3/24" in run.stdout and "10.1.2.1" in run.stdout
    run = cnitool("check", "-o", "table", "net1", netns, env=lab.vars)
    assert run.returncode == 0, run
    assert run.stdout == f"eth0 in {netns} is attached to network net1 as cached\n"
    run = cnitool("del", "-o", "table", "net1", netns, env=lab.vars)
    assert run.returncode == 0, run
    assert run.stdout == f"Deleted eth0 in {netns} from network net1\n"


def test_cli_04_confirmation_stays_one_line_in_a_narrow_pipe(cnitool, lab: Lab, tmp_path: Path) -> None:
    """CLI-04: "a one-line confirmation": a long one is not broken at rich's default 80 columns."""
    long_path = "/var/run/netns/" + "n" * 100
    run = cnitool("del", "-o", "table", "net1", long_path, env=lab.vars)
    assert run.returncode == 0, run
    assert run.stdout == f"Nothing was cached for eth0 in {long_path} on network net1; DEL ran anyway\n"


@needs_root
@pytest.mark.parametrize("how", ["NO_COLOR", "--no-color", "--color=never"])
def test_cli_04_no_color_means_no_ansi_escapes(cnitool, lab: Lab, netns: str, how: str) -> None:
    """CLI-04: NO_COLOR and --no-color: no escape sequences at all, even where colour is forced."""
    lab.make("bad", "echo '{\"code\": 100, \"msg\": \"nope\"}'\nexit 1\n")
    lab.network("badnet", [{"type": "bad"}])
    forced = {**lab.vars, "FORCE_COLOR": "1"}
    # The control: forced colour does colour (so this test can fail).
    control = cnitool("add", "-o", "table", "net1", netns, env=forced)
    assert control.returncode == 0 and ANSI.search(control.stdout), control
    assert cnitool("del", "-o", "json", "net1", netns, env=lab.vars).returncode == 0

    vars_ = {**forced, "NO_COLOR": "1"} if how == "NO_COLOR" else forced
    options = [how] if how != "NO_COLOR" else []
    run = cnitool("add", "-o", "table", *options, "net1", netns, env=vars_)
    assert run.returncode == 0, run
    assert not ANSI.search(run.stdout), run
    assert cnitool("del", "-o", "table", *options, "net1", netns, env=vars_).returncode == 0
    run = cnitool("add", "-o", "table", *options, "badnet", netns, env=vars_)
    assert run.returncode == 1, run
    assert "nope" in run.stderr and not ANSI.search(run.stderr), run


@needs_root
def test_cli_04_plugin_text_with_brackets_survives_the_human_renderer(cnitool, lab: Lab, netns: str) -> None:
    """Design "Output": consoles use markup=False: ``[bridge]`` and ``[red]`` in plugin text come out as written."""
    lab.make("bad", "echo '{\"code\": 100, \"msg\": \"failed on [bridge] cni0\", \"details\": \"[red]x[/red] [b]\"}'\n"
                    "echo 'stderr [bold]y[/bold]' >&2\nexit 1\n")
    lab.network("badnet", [{"type": "bad"}])
    run = cnitool("add", "-o", "table", "badnet", netns, env={**lab.vars, "COLUMNS": "200"})
    assert run.returncode == 1, run
    assert "failed on [bridge] cni0" in run.stderr
    assert "[red]x[/red] [b]" in run.stderr
    assert "stderr [bold]y[/bold]" in run.stderr

    lab.plugin("odd", add={"cniVersion": "1.0.0", "interfaces": [{"name": "[eth0]", "mac": "00:11:22:33:44:55",
                                                                  "sandbox": "[ns]"}],
                           "ips": [{"address": "10.0.0.5/24", "interface": 0}], "dns": {"domain": "[x].local"}})
    lab.network("oddnet", [{"type": "odd"}])
    run = cnitool("add", "-o", "table", "oddnet", netns, env={**lab.vars, "COLUMNS": "200"})
    assert run.returncode == 0, run
    for text in ("[eth0]", "[ns]", "[x].local", "[eth0] (#0)"):
        assert text in run.stdout, text
    assert cnitool("del", "-o", "json", "oddnet", netns, env=lab.vars).returncode == 0


@needs_root
@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0.0", '{\n    "cniVersion": "1.0.0",\n    "dns": {\n        "domain": "a\\u003cb\\u003e\\u0026c",\n'
                  '        "search": [\n            "é\\u2028x"\n        ]\n    },\n    "ips": [\n        {\n'
                  '            "address": "10.0.0.1/24",\n            "gateway": "10.0.0.254"\n        }\n    ]\n}\n'),
        ("0.4.0", '{\n    "cniVersion": "0.4.0",\n    "ips": [\n        {\n            "version": "4",\n'
                  '            "address": "10.0.0.1/24",\n            "gateway": "10.0.0.254"\n        }\n    ],\n'
                  '    "dns": {\n        "domain": "a\\u003cb\\u003e\\u0026c",\n        "search": [\n'
                  '            "é\\u2028x"\n        ]\n    }\n}\n'),
    ],
)
def test_res_04_output_bytes_escape_like_go(cnitool, lab: Lab, netns: str, version: str, expected: str) -> None:
    """RES-04: ``<>&`` as \\u003c \\u003e \\u0026, U+2028 escaped, other non-ASCII raw UTF-8, the version's layout."""
    result = {"cniVersion": version, "ips": [{"address": "10.0.0.1/24", "gateway": "10.0.0.254"}],
              "dns": {"domain": "a<b>&c", "search": ["é\u2028x"]}}
    if version == "0.4.0":
        result["ips"][0]["version"] = "4"
    lab.plugin("esc", add=json.dumps(result, ensure_ascii=False))
    lab.network("escnet", [{"type": "esc"}], version=version)
    completed = subprocess.run([sys.executable, "-m", "cnitool", "add", "-o", "json", "escnet", netns],
                               env=_env(lab.vars), capture_output=True)
    assert completed.returncode == 0, completed
    assert completed.stdout == expected.encode()
    assert subprocess.run([sys.executable, "-m", "cnitool", "del", "escnet", netns], env=_env(lab.vars)).returncode == 0


_LEAKY = ("NETCONFPATH", "CNI_PATH", "CNI_IFNAME", "CNI_ARGS", "CAP_ARGS", "CNI_CACHE_DIR", "CNI_COMMAND",
          "CNI_CONTAINERID", "CNI_NETNS", "NO_COLOR", "FORCE_COLOR")


def _env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a direct subprocess call, cleaned like the ``cnitool`` fixture's."""
    return {**{k: v for k, v in os.environ.items() if k not in _LEAKY}, **extra}


# ----------------------------------------------------------------------------- internal errors


INTERNAL = """
import sys
import cnitool.core.api
def boom(*args, **kwargs):
    raise RuntimeError("boom [x]")
cnitool.core.api.Cni.delete = boom
from cnitool.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("mode", ["json", "table"])
def test_cli_05_internal_error_exits_70(lab: Lab, mode: str) -> None:
    """CLI-05, design "Errors": anything that is not a CniError is a bug: one line, exit 70, the traceback
    only with --debug. (Triggered by replacing Cni.delete with a function that raises.)"""
    argv = [sys.executable, "-c", INTERNAL, "del", "-o", mode, "net1", NO_NETNS]
    completed = subprocess.run(argv, env=_env(lab.vars), capture_output=True, text=True)
    assert completed.returncode == 70, completed
    assert completed.stdout == ""
    message = "RuntimeError: boom [x] (this is a bug in cnitool; run with --debug for the traceback)"
    if mode == "json":
        [error] = [json.loads(line) for line in completed.stderr.splitlines()]
        assert (error["level"], error["kind"], error["code"], error["msg"]) == ("error", "internal", None, message)
        assert error["traceback"] is None  # every key of an error object, null here (CLI-05)
    else:
        assert completed.stderr == f"internal error: {message}\n"
    assert "Traceback" not in completed.stderr

    if mode == "table":  # -o json: see test_cli_05_internal_error_debug_traceback_in_json_mode
        completed = subprocess.run([*argv[:3], "--debug", *argv[3:]], env=_env(lab.vars), capture_output=True, text=True)
        assert completed.returncode == 70, completed
        assert completed.stderr.startswith("Traceback (most recent call last):\n"), completed
        assert "\nRuntimeError: boom [x]\n" in completed.stderr
        assert completed.stderr.endswith(f"internal error: {message.replace('run with --debug for', 'see')}\n")


def test_cli_05_internal_error_debug_traceback_in_json_mode(lab: Lab) -> None:
    """CLI-05: with -o json every stderr line is one JSON object, --debug's traceback included."""
    argv = [sys.executable, "-c", INTERNAL, "del", "-o", "json", "--debug", "net1", NO_NETNS]
    completed = subprocess.run(argv, env=_env(lab.vars), capture_output=True, text=True)
    assert completed.returncode == 70, completed
    objects = [json.loads(line) for line in completed.stderr.splitlines()]  # every line parses
    assert len(objects) == 1
    assert objects[0]["level"] == "error" and objects[0]["kind"] == "internal"
    text = json.dumps(objects[0])
    assert "Traceback (most recent call last)" in text and "RuntimeError: boom [x]" in text


# ----------------------------------------------------------------------------- import discipline


HEAVY = ("click", "rich", "pyroute2")


def _imported(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it prints a JSON report as its last stdout line."""
    completed = subprocess.run([sys.executable, "-c", code], env=_env(env or {}), capture_output=True, text=True)
    assert completed.returncode == 0, completed
    return json.loads(completed.stdout.splitlines()[-1])


REPORT = """
import json, sys
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'click', 'rich', 'pyroute2'})
print(json.dumps({'rc': rc, 'heavy': heavy}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["add", "--help"]])
def test_design_help_and_version_import_neither_rich_nor_pyroute2(argv: list[str]) -> None:
    """Design "Speed rules": --help and --version import only click and the standard library."""
    code = f"import io, contextlib\nfrom cnitool.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n    rc = main({argv!r})\n" + REPORT
    report = _imported(code)
    assert report == {"rc": 0, "heavy": ["click"]}


def test_design_python_m_cnitool_help_imports_neither_rich_nor_pyroute2() -> None:
    """The real entry point too: ``python -X importtime -m cnitool --help`` lists every module imported."""
    completed = subprocess.run([sys.executable, "-X", "importtime", "-m", "cnitool", "--help"], env=_env({}),
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed
    modules = {line.rsplit("|", 1)[1].strip() for line in completed.stderr.splitlines() if line.startswith("import time:")}
    assert "click" in modules and "cnitool.cli" in modules  # the report itself works
    assert not {m for m in modules if m.split(".")[0] in ("rich", "pyroute2")}


@needs_root
def test_design_add_json_with_a_netns_path_imports_neither_rich_nor_pyroute2(lab: Lab, netns: str) -> None:
    """Design "Speed rules": ``cnitool add -o json NET /var/run/netns/X`` with a plugin imports no rich, no pyroute2."""
    code = textwrap.dedent(f"""\
        import io, contextlib
        from cnitool.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = main(["add", "-o", "json", "net1", {netns!r}])
        assert out.getvalue().startswith("{{"), out.getvalue()
        """) + REPORT
    report = _imported(code, lab.vars)
    assert report == {"rc": 0, "heavy": ["click"]}
    assert lab.ran("rec", "ADD")
    code = code.replace('"add"', '"del"').replace('.startswith("{")', ' == ""')
    assert _imported(code, lab.vars) == {"rc": 0, "heavy": ["click"]}


def test_design_core_imports_no_click_rich_or_pyroute2() -> None:
    """Design "Three rings": ``import cnitool.core`` and every ``cnitool.core.*`` module stay standard-library only."""
    code = textwrap.dedent("""\
        import importlib, json, pkgutil, sys
        import cnitool.core
        culprits = {}
        names = sorted(info.name for info in pkgutil.iter_modules(cnitool.core.__path__, "cnitool.core."))
        for name in ["cnitool.core", *names]:
            importlib.import_module(name)
            heavy = sorted({m.split('.')[0] for m in sys.modules} & {'click', 'rich', 'pyroute2'})
            if heavy:
                culprits[name] = heavy
                break
        print(json.dumps({"modules": names, "culprits": culprits}))
        """)
    report = _imported(code)
    assert "cnitool.core.api" in report["modules"] and "cnitool.core.result" in report["modules"]
    assert report["culprits"] == {}
