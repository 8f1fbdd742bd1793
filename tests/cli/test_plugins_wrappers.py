"""``cnitool plugins`` and wrapper scripts (VER-04).

Only files that mention CNI_COMMAND are asked VERSION, so that a plugin path pointing at
ordinary programs starts none of them. A wrapper script (``exec /usr/lib/cni/bridge "$@"``) does
not mention it, yet is a plugin: it runs one. Such a script is asked too when its text names a
file that is a plugin (by path, or by a name in its own directory or the plugin path), directly
or through further wrappers; the listing says which file it runs. Anything else is still not
run, and the reason says how to ask it anyway.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

REAL_BRIDGE = Path("/usr/lib/cni/bridge")
TABLE_ENV = {"COLUMNS": "160"}


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def plugin(path: Path, versions: list[str]) -> Path:
    """A fake plugin (it mentions CNI_COMMAND, as every plugin does)."""
    document = json.dumps({"cniVersion": "1.0.0", "supportedVersions": versions})
    return script(path, f": \"$CNI_COMMAND\"\necho '{document}'\n")


def listing(cnitool, *dirs: Path) -> dict[str, dict]:
    run = cnitool("plugins", "-o", "json", env={"CNI_PATH": ":".join(map(str, dirs))})
    assert run.returncode == 0, run
    return {entry["name"]: entry for entry in run.json()["plugins"]}


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


def test_ver_04_wrapper_of_a_plugin_named_in_the_plugin_path(cnitool, tmp_path: Path) -> None:
    """``exec bridge-real``, found through $PATH when it runs: a name of the plugin path counts."""
    first, second = tmp_path / "first", tmp_path / "second"
    script(first / "traced", 'echo "$CNI_NETNS" >> /dev/null\nexec bridge-real "$@"\n')  # mentions CNI_NETNS only
    plugin(second / "bridge-real", ["1.0.0"])
    run = cnitool("plugins", "-o", "json",
                  env={"CNI_PATH": f"{first}:{second}", "PATH": f"{second}:{os.environ['PATH']}"})
    entry = next(entry for entry in run.json()["plugins"] if entry["name"] == "traced")
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
    entry = listing(cnitool, bin_dir)["ordinary"]
    assert not marker.exists()
    assert entry["versions"] is None and "wraps" not in entry
    assert entry["error"] == (
        "not asked VERSION: neither it nor a file it names mentions CNI_COMMAND, so probably not a CNI plugin; "
        f"`cnitool invoke {bin_dir / 'ordinary'} VERSION` asks it anyway")
