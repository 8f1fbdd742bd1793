"""Shell completion, the man page and what the wheel installs, checked against the live command tree.

Drift tests: the committed ``completions/`` must be what ``cnitool completion SHELL`` prints now,
and ``man/cnitool.1`` must document every command, argument and long option that the click tree
has, so a new command or option fails here until it is documented.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from cnitool.cli import cli
from cnitool.cli.app import App
from cnitool.cli.complete import SHELLS, complete_netns, complete_network
from cnitool.cli.gen_completions import FILES, REGENERATE
from cnitool.core.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
MAN_PAGE = ROOT / "man" / "cnitool.1"


def clean_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without the variables cnitool reads (as tests/conftest.py's runner)."""
    leaky = ("NETCONFPATH", "CNI_PATH", "CNI_IFNAME", "CNI_ARGS", "CAP_ARGS", "CNI_CACHE_DIR", "NO_COLOR", "FORCE_COLOR")
    return {**{key: value for key, value in os.environ.items() if key not in leaky and not key.startswith("_CNITOOL")}, **overrides}


def run_cnitool(*args: str, env: dict[str, str] | None = None, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *python_flags, "-m", "cnitool", *args], env=clean_env(**(env or {})),
                          capture_output=True, text=True, timeout=60)


def complete(words: str, env: dict[str, str], shell: str = "bash") -> list[str]:
    """What the shell gets back for the command line ``words`` (the cursor at its end)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    protocol = {"_CNITOOL_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    if shell == "fish":  # fish sends the word being completed, not its index
        protocol["COMP_CWORD"] = "" if words.endswith(" ") else words.split()[-1]
    done = run_cnitool(env={**env, **protocol})
    assert done.returncode == 0 and done.stderr == "", done
    return done.stdout.splitlines()


@pytest.fixture
def two_networks(tmp_path: Path) -> dict[str, str]:
    """NETCONFPATH with two directories: alpha (a list) and beta, a broken file, beta again (shadowed)."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "10-alpha.conflist").write_text(json.dumps({"cniVersion": "1.0.0", "name": "alpha", "plugins": [{"type": "bridge"}]}))
    (first / "20-beta.conf").write_text(json.dumps({"cniVersion": "1.0.0", "name": "beta", "type": "ptp"}))
    (first / "30-broken.json").write_text('{"name": "broken"')
    (first / "notes.txt").write_text(json.dumps({"name": "not-a-config"}))
    (second / "05-beta.json").write_text(json.dumps({"cniVersion": "0.4.0", "name": "beta", "type": "bridge"}))
    return {"NETCONFPATH": f"{first}:{second}", "first": str(first), "second": str(second)}


@pytest.fixture
def netns_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from cnitool import netns

    directory = tmp_path / "netns"
    directory.mkdir()
    for name in ("ns1", "ns2", "other"):
        (directory / name).touch()
    monkeypatch.setattr(netns, "NETNS_DIR", str(directory))
    return directory


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command of the tree with its path of names (``("netns", "add")``), groups included."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


COMMANDS = [(" ".join(path), command) for path, command in walk(cli) if path]
GLOBAL_LONG_OPTIONS = sorted({opt for param in cli.params for opt in (*param.opts, *param.secondary_opts) if opt.startswith("--")})


def long_options(command: click.Command) -> list[str]:
    """The command's own long options (the global ones are documented once, under OPTIONS)."""
    return sorted({opt for param in command.params if isinstance(param, click.Option)
                   for opt in (*param.opts, *param.secondary_opts)
                   if opt.startswith("--") and opt not in GLOBAL_LONG_OPTIONS})


# -- completion scripts ------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_command_prints_clicks_own_script(shell: str) -> None:
    printed = run_cnitool("completion", shell)
    sourced = run_cnitool(env={"_CNITOOL_COMPLETE": f"{shell}_source"})
    assert printed.returncode == 0, printed
    assert printed.stdout.rstrip("\n") == sourced.stdout.rstrip("\n")  # click < 8.4.1 printed one more newline
    assert "_CNITOOL_COMPLETE" in printed.stdout and f"{shell}_complete" in printed.stdout


def test_completion_rejects_an_unknown_shell() -> None:
    done = run_cnitool("completion", "tcsh")
    assert done.returncode == 2 and "tcsh" in done.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_committed_completion_script_matches_the_cli(shell: str) -> None:
    committed = ROOT / "completions" / FILES[shell]
    generated = run_cnitool("completion", shell)
    assert generated.returncode == 0, generated
    assert committed.exists() and committed.read_text() == generated.stdout, (
        f"{committed.relative_to(ROOT)} differs from `cnitool completion {shell}` (click {_click_version()}); "
        f"regenerate with: cd {ROOT} && {REGENERATE}"
    )


def _click_version() -> str:
    from importlib.metadata import version

    return version("click")


def test_committed_bash_script_parses() -> None:
    done = subprocess.run(["bash", "-n", str(ROOT / "completions" / FILES["bash"])], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done


def test_zsh_script_autoloads_from_fpath() -> None:
    # share/zsh/site-functions/_cnitool is found by compinit only through this first line.
    assert (ROOT / "completions" / FILES["zsh"]).read_text().startswith("#compdef cnitool\n")


# -- completion callbacks ----------------------------------------------------------------------


def values(items: list[click.shell_completion.CompletionItem]) -> list[str]:
    return [item.value for item in items]


def context(**app: object) -> click.Context:
    return click.Context(cli.commands["add"], obj=App(**app))  # type: ignore[arg-type]


def test_network_names_come_from_every_config_directory(two_networks: dict[str, str]) -> None:
    ctx = context(environ={"NETCONFPATH": two_networks["NETCONFPATH"]})
    items = complete_network(ctx, cli.commands["add"].params[0], "")
    assert values(items) == ["alpha", "beta"]  # broken and non-config files skipped, beta once
    assert [item.help for item in items] == ["10-alpha.conflist", "20-beta.conf"]  # the file that wins
    assert values(complete_network(ctx, cli.commands["add"].params[0], "al")) == ["alpha"]
    assert values(complete_network(ctx, cli.commands["add"].params[0], "z")) == []


def test_network_names_follow_conf_dir_over_netconfpath(two_networks: dict[str, str]) -> None:
    ctx = context(environ={"NETCONFPATH": two_networks["first"]}, options={"conf_dir": two_networks["second"]})
    assert values(complete_network(ctx, cli.commands["add"].params[0], "")) == ["beta"]


def test_network_names_from_missing_or_unreadable_directories_are_empty(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    ctx = context(environ={"NETCONFPATH": f"{tmp_path / 'missing'}:{a_file}"})
    assert complete_network(ctx, cli.commands["add"].params[0], "") == []


def test_netns_names_come_from_the_netns_directory(netns_dir: Path) -> None:
    ctx = context()
    assert values(complete_netns(ctx, cli.commands["add"].params[1], "")) == ["ns1", "ns2", "other"]
    assert values(complete_netns(ctx, cli.commands["add"].params[1], "ns")) == ["ns1", "ns2"]
    path = complete_netns(ctx, cli.commands["add"].params[1], "/proc/1/ns/")
    assert [(item.value, item.type) for item in path] == [("/proc/1/ns/", "file")]  # the shell completes paths
    netns_dir.rename(netns_dir.with_name("gone"))
    assert complete_netns(ctx, cli.commands["add"].params[1], "") == []


def test_every_network_and_netns_argument_completes(two_networks: dict[str, str], netns_dir: Path) -> None:
    """Every argument naming a network or a namespace, in any command (present or future), completes."""
    networks, namespaces = ["alpha", "beta"], ["ns1", "ns2", "other"]
    checked = []
    for path, command in COMMANDS:
        ctx = click.Context(command, obj=App(environ={"NETCONFPATH": two_networks["NETCONFPATH"]}))
        for param in command.params:
            if param.name in ("network", "net") or (path, param.name) == ("validate", "targets"):
                expected = networks
            elif param.name in ("netns", "netns_name") or (path in ("netns del", "netns exec") and param.name == "name"):
                expected = namespaces
            else:
                continue
            offered = [item.value for item in param.shell_complete(ctx, "") if item.type == "plain"]
            assert offered == expected, f"`cnitool {path}` {param.human_readable_name}"
            checked.append(path)
    assert {"add", "check", "del", "gc", "status", "invoke"} <= set(checked)


def test_validate_offers_networks_and_files(two_networks: dict[str, str]) -> None:
    lines = complete("cnitool validate ", {"NETCONFPATH": two_networks["NETCONFPATH"]})
    assert lines == ["plain,alpha", "plain,beta", "file,"]


def test_bash_protocol_offers_both_networks(two_networks: dict[str, str]) -> None:
    env = {"NETCONFPATH": two_networks["NETCONFPATH"]}
    assert complete("cnitool add ", env) == ["plain,alpha", "plain,beta"]
    assert complete("cnitool del b", env) == ["plain,beta"]
    assert complete(f"cnitool --conf-dir {two_networks['second']} check ", env) == ["plain,beta"]
    assert complete(f"cnitool gc --conf-dir {two_networks['second']} ", env) == ["plain,beta"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_protocols_offer_both_networks(shell: str, two_networks: dict[str, str]) -> None:
    lines = complete("cnitool status ", {"NETCONFPATH": two_networks["NETCONFPATH"]}, shell)
    # The line format is click's and varies between its versions ("alpha", "plain,alpha\t<help>").
    offered = {line.split("\t")[0].removeprefix("plain,") for line in lines}
    assert {"alpha", "beta"} <= offered, lines


@pytest.mark.privileged
def test_bash_protocol_offers_netns_names(two_networks: dict[str, str]) -> None:
    from cnitool import netns

    # A namespace of our own, so there is always one to offer; other tests create and remove
    # namespaces meanwhile: what was there before and after must be offered.
    own = f"cnit-compl-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", own], check=True)
    try:
        before = set(netns.list_names())
        offered = [line for line in complete("cnitool add alpha ", {"NETCONFPATH": two_networks["NETCONFPATH"]}) if line]
        after = set(netns.list_names())
    finally:
        subprocess.run(["ip", "netns", "del", own], check=True)
    assert all(line.startswith("plain,") for line in offered), offered
    assert own in before & after
    assert before & after <= {line.removeprefix("plain,") for line in offered} <= before | after
    assert complete("cnitool add alpha /var/run/netns/", {}) == ["file,/var/run/netns/"]


def imported_modules(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run cnitool under ``-X importtime``: every module it imported, by full name."""
    done = run_cnitool(*args, env=env, python_flags=("-X", "importtime"))
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done, modules


@pytest.mark.parametrize("words", ["cnitool add ", "cnitool add alpha ", "cnitool gc --conf-dir /nonexistent ", "cnitool "])
def test_completing_imports_neither_rich_nor_pyroute2(words: str, two_networks: dict[str, str]) -> None:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    done, modules = imported_modules(env={"NETCONFPATH": two_networks["NETCONFPATH"], "_CNITOOL_COMPLETE": "bash_complete",
                                          "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    assert done.returncode == 0 and "click" in modules, done
    heavy = sorted(m for m in modules if m.split(".")[0] in ("rich", "pyroute2"))
    assert heavy == [], f"completing {words!r} imported {heavy}"
    if words == "cnitool add ":
        assert done.stdout.splitlines() == ["plain,alpha", "plain,beta"]


def test_completion_command_imports_neither_rich_nor_pyroute2() -> None:
    done, modules = imported_modules("completion", "bash")
    assert done.returncode == 0 and "_CNITOOL_COMPLETE" in done.stdout
    assert sorted(m for m in modules if m.split(".")[0] in ("rich", "pyroute2")) == []


# -- man page ----------------------------------------------------------------------------------


def render(*options: str) -> subprocess.CompletedProcess[str]:
    groff = shutil.which("groff")
    assert groff, "groff is missing (apt-get install groff-base; .ci/install does)"
    return subprocess.run([groff, "-man", *options, str(MAN_PAGE)], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def man() -> dict[str, str]:
    """Section heading -> its text, as a reader sees it (ASCII, one line per paragraph); the
    subsections of COMMANDS under ``COMMANDS/<heading>``."""
    done = render("-Tascii", "-P-cbou", "-rLL=1000n", "-rcR=1")
    assert done.returncode == 0, done.stderr
    parts: dict[str, str] = {}
    section = subsection = ""
    for line in done.stdout.splitlines()[1:]:  # [0] is the page header
        if re.fullmatch(r"[A-Z][A-Z ]*", line):
            section, subsection = line, ""
            parts[section] = ""
        elif section == "COMMANDS" and re.fullmatch(r"   \S.*", line):
            subsection = f"COMMANDS/{line.strip()}"
            parts[subsection] = ""
        elif section:
            parts[subsection or section] += line + "\n"
    return parts


def has_word(text: str, word: str) -> bool:
    """``word`` in ``text`` as a whole word (``--ip`` is not found in ``--ipam``), any spacing."""
    pattern = r"\s+".join(re.escape(part) for part in word.split())
    return re.search(rf"(?<![\w-]){pattern}(?![\w-])", text) is not None


def test_man_page_has_the_sections(man: dict[str, str]) -> None:
    assert re.search(r"^\.TH CNITOOL 1 ", MAN_PAGE.read_text(), re.MULTILINE)
    assert [part for part in man if "/" not in part] == [
        "NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]
    assert re.search(r"cnitool - run CNI network configurations", man["NAME"])


def test_man_page_documents_every_command_in_its_own_subsection(man: dict[str, str]) -> None:
    documented = [part.removeprefix("COMMANDS/") for part in man if part.startswith("COMMANDS/")]
    leaves = [path for path, command in COMMANDS if not isinstance(command, click.Group)]
    missing = [path for path in leaves if path not in documented]
    assert missing == [], f"commands without a subsection (.SS) under COMMANDS in {MAN_PAGE}: {missing}"
    unknown = [heading for heading in documented if heading not in dict(COMMANDS)]
    assert unknown == [], f"{MAN_PAGE} documents commands the CLI does not have: {unknown}"


@pytest.mark.parametrize("path, command", COMMANDS, ids=[path for path, _ in COMMANDS])
def test_man_page_documents_each_argument_and_long_option(man: dict[str, str], path: str, command: click.Command) -> None:
    text = "".join(body for part, body in man.items() if part == f"COMMANDS/{path}" or part.startswith(f"COMMANDS/{path} "))
    arguments = [param.human_readable_name for param in command.params if isinstance(param, click.Argument)]
    missing = [word for word in (*arguments, *long_options(command)) if not has_word(text, word)]
    assert missing == [], f"`cnitool {path}`: {missing} not in its subsection of {MAN_PAGE}"


def test_man_page_documents_every_global_option(man: dict[str, str]) -> None:
    missing = [opt for opt in (*GLOBAL_LONG_OPTIONS, "--help") if not has_word(man["OPTIONS"], opt)]
    assert missing == [], f"global options missing from OPTIONS in {MAN_PAGE}: {missing}"


def test_man_page_environment_files_exit_statuses_see_also(man: dict[str, str]) -> None:
    for variable in ("NETCONFPATH", "CNI_PATH", "CNI_IFNAME", "CNI_ARGS", "CAP_ARGS", "CNI_CACHE_DIR", "NO_COLOR", "FORCE_COLOR"):
        assert re.search(rf"^ {{7}}{variable}$", man["ENVIRONMENT"], re.MULTILINE), f"{variable} is not an item of ENVIRONMENT"
    for path in ("/etc/cni/net.d", "/opt/cni/bin:/usr/libexec/cni:/usr/lib/cni", "/var/lib/cni/results",
                 "/var/lib/cni/locks", "/var/run/netns"):
        assert re.search(rf"^ {{7}}{re.escape(path)}$", man["FILES"], re.MULTILINE), f"{path} is not an item of FILES"
    statuses = re.findall(r"^ {7}(\d+) ", man["EXIT STATUS"], re.MULTILINE)
    assert [int(status) for status in statuses] == sorted(int(code) for code in ExitCode)  # cnitool.cli's exit statuses
    assert has_word(man["SEE ALSO"], "ip-netns(8)") and "SPEC.md" in man["SEE ALSO"]


def test_man_page_renders_without_warnings() -> None:
    done = render("-ww", "-z")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    # Lines wider than an 80-column terminal are a rendering problem too (an example, say).
    wide = [line for line in render("-Tascii", "-P-cbou", "-rLL=78n").stdout.splitlines() if len(line) > 80]
    assert wide == [], wide


def test_man_l_shows_the_page() -> None:
    if shutil.which("man") is None:
        pytest.skip("man (man-db) is not installed; the groff checks above still run")
    done = subprocess.run(["man", "--warnings", "-l", str(MAN_PAGE)], capture_output=True, text=True, timeout=60,
                          env=clean_env(MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert re.search(r"cnitool\s+-\s+run\s+CNI", done.stdout.replace("\u2010", "-")) and "EXIT STATUS" in done.stdout


# -- the wheel installs them -------------------------------------------------------------------


def test_wheel_installs_man_page_and_completions(tmp_path: Path) -> None:
    """Builds the wheel as pip does, hatchling in an isolated build environment (a few seconds with
    pip's cache; the first time it fetches hatchling from PyPI)."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("cnitool-*.whl")
    data = "-".join(wheel.name.split("-")[:2]) + ".data/data/"  # cnitool-0.1.0.data/data/
    installed = {
        "share/man/man1/cnitool.1": MAN_PAGE,
        "share/bash-completion/completions/cnitool": ROOT / "completions" / FILES["bash"],
        "share/zsh/site-functions/_cnitool": ROOT / "completions" / FILES["zsh"],
        "share/fish/vendor_completions.d/cnitool.fish": ROOT / "completions" / FILES["fish"],
    }
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for target, source in installed.items():
            assert data + target in names, f"{target} not in {wheel.name}"
            assert archive.read(data + target) == source.read_bytes(), target
