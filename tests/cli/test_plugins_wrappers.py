"""``cnitool plugins`` and wrapper scripts (VER-04).

Only files that mention CNI_COMMAND are asked VERSION, so that a plugin path pointing at
ordinary programs starts none of them. A wrapper script (``exec /usr/lib/cni/bridge "$@"``) does
not mention it, yet is a plugin: it runs one. Such a script is asked too when one of its command
lines (not a comment, not a word of another command) execs a file that is a plugin, directly or
through further wrappers; the listing says which file it runs. Anything else is still not run,
and the reason says how to ask it anyway. Every "not run" below is proven with a marker file the
script would create.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cnitool.core.inventory import scan

REAL_BRIDGE = Path("/usr/lib/cni/bridge")
TABLE_ENV = {"COLUMNS": "160"}
NOT_ASKED = ("not asked VERSION: neither it nor a file it names mentions CNI_COMMAND (a script counts as a "
             "wrapper only when one of its command lines execs a plugin), so probably not a CNI plugin; "
             "`cnitool invoke {path} VERSION` asks it anyway")


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def plugin(path: Path, versions: list[str]) -> Path:
    """A fake plugin (it mentions CNI_COMMAND, as every plugin does)."""
    document = json.dumps({"cniVersion": "1.0.0", "supportedVersions": versions})
    return script(path, f": \"$CNI_COMMAND\"\necho '{document}'\n")


def listing(cnitool, *dirs: Path, path: Path | None = None) -> dict[str, dict]:
    """``cnitool plugins`` with ``dirs`` as CNI_PATH; ``path`` goes first on PATH."""
    env = {"CNI_PATH": ":".join(map(str, dirs))}
    if path is not None:
        env["PATH"] = f"{path}:{os.environ['PATH']}"
    run = cnitool("plugins", "-o", "json", env=env)
    assert run.returncode == 0, run
    return {entry["name"]: entry for entry in run.json()["plugins"]}


def assert_not_run(entry: dict, marker: Path, path: Path) -> None:
    assert not marker.exists()
    assert entry["versions"] is None and "wraps" not in entry, entry
    assert entry["error"] == NOT_ASKED.format(path=path)


def test_ver_04_wrapper_of_a_real_plugin_is_asked(cnitool, tmp_path: Path) -> None:
    assert REAL_BRIDGE.exists()  # installed by .ci/run
    wrapper = script(tmp_path / "bin" / "bridge", f'exec {REAL_BRIDGE} "$@"\n')
    entry = listing(cnitool, tmp_path / "bin")["bridge"]
    assert entry["error"] is None, entry
    assert "1.0.0" in entry["versions"]
    assert entry["wraps"] == str(REAL_BRIDGE)
    assert entry["path"] == str(wrapper)

    run = cnitool("plugins", "-o", "table", env={"CNI_PATH": str(tmp_path / "bin"), **TABLE_ENV})
    row = next(line for line in run.stdout.splitlines() if re.match(r"^\s*bridge\s", line))
    assert f"✓ ok (runs {REAL_BRIDGE})" in row


def test_ver_04_wrapper_of_a_plugin_next_to_it_and_through_another_wrapper(cnitool, tmp_path: Path) -> None:
    """By a name in its own directory (``$(dirname "$0")/x``), and a wrapper of a wrapper."""
    bin_dir = tmp_path / "bin"
    plugin(tmp_path / "libexec" / "real.bin", ["0.4.0", "1.0.0"])
    script(bin_dir / "inner", f'exec {tmp_path / "libexec" / "real.bin"} "$@"\n')
    script(bin_dir / "outer", 'exec "$(dirname "$0")/inner" "$@"\n')
    plugins = listing(cnitool, bin_dir)
    for name in ("inner", "outer"):
        assert plugins[name]["versions"] == ["0.4.0", "1.0.0"], plugins[name]
    # The file that mentions CNI_COMMAND, the one that made it count as a plugin.
    assert plugins["inner"]["wraps"] == plugins["outer"]["wraps"] == str(tmp_path / "libexec" / "real.bin")


def test_ver_04_wrapper_of_a_plugin_found_through_path(cnitool, tmp_path: Path) -> None:
    """``exec bridge-real``: exec finds the name through $PATH, so that is where cnitool looks."""
    first, second = tmp_path / "first", tmp_path / "second"
    script(first / "traced", 'echo "$CNI_NETNS" >> /dev/null\nexec bridge-real "$@"\n')  # mentions CNI_NETNS only
    plugin(second / "bridge-real", ["1.0.0"])
    entry = listing(cnitool, first, second, path=second)["traced"]
    assert (entry["versions"], entry["wraps"]) == (["1.0.0"], str(second / "bridge-real"))


@pytest.mark.parametrize("body", [
    "exec /bin/true\n",  # an ordinary program
    'exec "$0" "$@"\n',  # itself
    "exec {loop}\n",  # two scripts running each other
])
def test_a_script_that_runs_no_plugin_is_still_not_run(cnitool, tmp_path: Path, body: str) -> None:
    bin_dir = tmp_path / "bin"
    marker = tmp_path / "ran"
    other = script(bin_dir / "other", f"touch {marker}\nexec {bin_dir / 'ordinary'}\n")
    script(bin_dir / "ordinary", f"touch {marker}\n" + body.format(loop=other))
    entries = listing(cnitool, bin_dir)
    assert_not_run(entries["ordinary"], marker, bin_dir / "ordinary")
    assert_not_run(entries["other"], marker, bin_dir / "other")


# --- What makes a wrapper: an exec of a plugin on a command line, nothing else -----------------

FAKE_NAMES = ("bridge", "firewall", "static")


def fake_plugins(directory: Path) -> Path:
    for name in FAKE_NAMES:
        plugin(directory / name, ["1.0.0"])
    return directory


@pytest.mark.parametrize("body", [
    # A comment that names a plugin, by name and by path, and a commented-out exec.
    "# Rebuilds the bridge before the container starts\n",
    "# Rebuilds {plugins}/bridge before the container starts\n",
    '# exec {plugins}/bridge "$@"\n',
    '    #exec bridge "$@"\n',
    # Words of ordinary commands, strings and variables.
    'echo "configure the firewall"\n',
    "mode=static\nroute=firewall\n",
    "test -x {plugins}/bridge && echo present\n",
    "cat {plugins}/bridge > /dev/null\n",
    'echo exec {plugins}/bridge "$@"\n',
    'run() {{ exec {plugins}/bridge "$@"; }}\n',
    # exec of something that is not (certainly) a plugin file.
    'exec sh -c "{plugins}/bridge"\n',
    'exec "$bridge" "$@"\n',
    'exec {plugins}/bridge* "$@"\n',
    'exec {plugins}/{{bridge,static}} "$@"\n',
    'exec {plugins}/bridge/ "$@"\n',
    'exec {plugins}/nothing-here "$@"\n',
    'exec bridge "$@"\n',  # in the plugin path, but not on PATH: exec would not find it there
    'PATH={plugins} exec bridge "$@"\n',  # the PATH it would search is not worked out
    'exec env PATH={plugins} bridge "$@"\n',
    'exec -a bridge {plugins}/bridge "$@"\n',  # not of the grammar
])
def test_a_script_that_only_mentions_a_plugin_is_not_run(cnitool, tmp_path: Path, body: str) -> None:
    """Review finding: every word counted, comments included (``# Rebuilds the bridge…`` was
    executed as a wrapper of bridge). Only an exec on a command line makes a wrapper."""
    bin_dir, plugins = tmp_path / "bin", fake_plugins(tmp_path / "plugins")
    marker = tmp_path / "ran"
    script(bin_dir / "ordinary", f"touch {marker}\n" + body.format(plugins=plugins))
    entries = listing(cnitool, bin_dir, plugins)
    assert_not_run(entries["ordinary"], marker, bin_dir / "ordinary")
    assert all(entries[name]["versions"] == ["1.0.0"] for name in FAKE_NAMES)


SYSTEM_LIKE_SCRIPT = """\
#!/bin/sh
# Like Debian's invoke-rc.d: runs an init script (static, firewall and bridge setups alike).
touch {marker}
set -e
RUNLEVEL=static
case "$1" in
  firewall|bridge) echo "starting the $1 service" ;;
esac
if [ -x /etc/init.d/"$1" ]; then
  exec /etc/init.d/"$1" "$@"
fi
exec systemctl start "$1"
"""


def test_an_ordinary_system_script_on_the_plugin_path_is_not_run(cnitool, tmp_path: Path) -> None:
    """A plugin path /usr/lib/cni:/usr/bin:/usr/sbin ran invoke-rc.d, deb-systemd-invoke, h2xs,
    libnetcfg … for their words "static" or "firewall"; such a script is listed, never run."""
    plugins, usr_bin = fake_plugins(tmp_path / "cni"), tmp_path / "usr-bin"
    marker = tmp_path / "ran"
    usr_bin.mkdir()
    system_script = usr_bin / "invoke-rc.d"
    system_script.write_text(SYSTEM_LIKE_SCRIPT.format(marker=marker))
    system_script.chmod(0o755)
    entries = listing(cnitool, plugins, usr_bin)
    assert_not_run(entries["invoke-rc.d"], marker, system_script)
    assert all(entries[name]["versions"] == ["1.0.0"] for name in FAKE_NAMES)


@pytest.mark.skipif(not REAL_BRIDGE.exists(), reason="needs the reference plugins in /usr/lib/cni")
def test_the_system_directories_on_the_plugin_path_run_nothing_but_plugins() -> None:
    """The review's plugin path, scanned with a probe that only records what would be asked: no
    file of /usr/bin or /usr/sbin (none mentions CNI_COMMAND or execs a plugin) is asked."""
    asked: list[str] = []

    def probe(directory: str, name: str) -> list[str]:
        asked.append(os.path.join(directory, name))
        return ["1.0.0"]

    inventory = scan(["/usr/lib/cni", "/usr/bin", "/usr/sbin"], probe, search_path=os.environ.get("PATH"),
                     cwd=os.getcwd())
    outside = [p for p in inventory.plugins if p.directory != "/usr/lib/cni"]
    assert len(outside) > 100, "expected the system directories to hold programs"
    assert [p.path for p in outside if p.path in asked or p.wraps is not None] == []
    assert {os.path.dirname(path) for path in asked} == {"/usr/lib/cni"}


def test_exec_of_a_name_that_path_finds_as_another_program_is_not_run(cnitool, tmp_path: Path) -> None:
    """``exec env FOO=1 bridge``: on Debian, PATH finds iproute2's /usr/sbin/bridge, not the plugin
    in /usr/lib/cni; the wrapper would run that program, so it is not asked."""
    bin_dir, plugins, tools = tmp_path / "bin", fake_plugins(tmp_path / "plugins"), tmp_path / "tools"
    marker = tmp_path / "ran"
    script(tools / "bridge", f"touch {marker}\n")  # what PATH finds first
    wrapper = script(bin_dir / "debug-bridge", 'exec env FOO=1 bridge "$@"\n')
    entry = listing(cnitool, bin_dir, plugins, path=tools)["debug-bridge"]
    assert_not_run(entry, marker, wrapper)


@pytest.mark.parametrize("body", [
    'exec {real} "$@"\n',
    'exec "{real}" "$@"\n',
    "exec '{real}'\n",
    'exec "$(dirname "$0")/real" "$@"\n',
    'exec "$(dirname -- "$0")"/real "$@"\n',
    'exec $(dirname $0)/real "$@"\n',
    'exec "${{0%/*}}/real" "$@"\n',
    'exec real "$@"\n',
    'exec env FOO=1 real "$@"\n',
    'exec /usr/bin/env FOO=1 BAR="a b" {real} "$@"\n',
    'CNI_LOG=/tmp/log LEVEL= exec "$(dirname "$0")/real" "$@" 2>>/dev/null\n',
    # Comments, blank lines and other commands around it; indented.
    '# A wrapper that logs.\n\nset -eu\necho "$CNI_NETNS" >&2\n  exec {real} "$@"  # the plugin\n',
    'if [ -x /nonexistent ]; then\n  exec /nonexistent "$@"\nfi\nexec {real} "$@"\n',
])
def test_a_wrapper_that_execs_a_plugin_is_asked(cnitool, tmp_path: Path, body: str) -> None:
    bin_dir = tmp_path / "bin"
    real = plugin(bin_dir / "real", ["0.4.0", "1.0.0"])
    wrapper = script(bin_dir / "wrapper", body.format(real=real))
    entry = listing(cnitool, bin_dir, path=bin_dir)["wrapper"]
    assert (entry["error"], entry["versions"], entry["wraps"]) == (None, ["0.4.0", "1.0.0"], str(real)), entry
    assert entry["path"] == str(wrapper)


def test_exec_env_of_the_real_bridge_by_name(cnitool, tmp_path: Path) -> None:
    """``exec env FOO=1 bridge "$@"`` with /usr/lib/cni first on PATH."""
    assert REAL_BRIDGE.exists()  # installed by .ci/run
    bin_dir = tmp_path / "bin"
    script(bin_dir / "debug-bridge", 'exec env FOO=1 bridge "$@"\n')
    entry = listing(cnitool, bin_dir, REAL_BRIDGE.parent, path=REAL_BRIDGE.parent)["debug-bridge"]
    assert entry["error"] is None and "1.0.0" in entry["versions"], entry
    assert entry["wraps"] == str(REAL_BRIDGE)


def test_exec_of_a_relative_path_is_from_the_directory_plugins_start_in(
        cnitool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``exec ./real`` runs ./real of the current directory (cnitool starts plugins in its own),
    not of the script's: a wrapper there, anything else from elsewhere."""
    bin_dir, marker = tmp_path / "bin", tmp_path / "ran"
    real = plugin(bin_dir / "real", ["1.0.0"])
    wrapper = script(bin_dir / "wrapper", f'touch {marker}\nexec ./real "$@"\n')
    elsewhere = tmp_path / "elsewhere"
    script(elsewhere / "real", "echo not a plugin\n")
    monkeypatch.chdir(elsewhere)
    assert_not_run(listing(cnitool, bin_dir)["wrapper"], marker, wrapper)
    monkeypatch.chdir(bin_dir)
    entry = listing(cnitool, bin_dir)["wrapper"]
    assert (entry["versions"], entry["wraps"]) == (["1.0.0"], str(real))
    assert marker.exists()  # it did run


def test_a_wrapper_of_a_wrapper_by_name_is_asked(cnitool, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    real = plugin(tmp_path / "libexec" / "real", ["1.0.0"])
    script(second / "inner", f'# runs the real one\nexec {real} "$@"\n')
    script(first / "outer", 'exec env LOG=1 inner "$@"\n')
    entries = listing(cnitool, first, second, path=second)
    assert (entries["outer"]["versions"], entries["outer"]["wraps"]) == (["1.0.0"], str(real))
    assert (entries["inner"]["versions"], entries["inner"]["wraps"]) == (["1.0.0"], str(real))


@pytest.mark.parametrize("case", ["not-executable", "too-big", "no-shebang", "wrapper-of-a-non-plugin",
                                  "wrapper-of-a-commented-wrapper"])
def test_an_exec_line_is_not_enough_when_the_script_or_its_target_does_not_qualify(
        cnitool, tmp_path: Path, case: str) -> None:
    bin_dir, libexec, marker = tmp_path / "bin", tmp_path / "libexec", tmp_path / "ran"
    real = plugin(libexec / "real", ["1.0.0"])
    target = real
    if case == "not-executable":
        real.chmod(0o644)
    elif case == "wrapper-of-a-non-plugin":
        target = script(libexec / "other", f"touch {marker}\n")
    elif case == "wrapper-of-a-commented-wrapper":
        target = script(libexec / "other", f'touch {marker}\n# exec {real} "$@"\n')
    body = f'touch {marker}\nexec {target} "$@"\n'
    if case == "too-big":
        body += "#" * (64 * 1024) + "\n"
    path = script(bin_dir / "wrapper", body)
    if case == "no-shebang":
        path.write_text(body)
    assert_not_run(listing(cnitool, bin_dir)["wrapper"], marker, path)
