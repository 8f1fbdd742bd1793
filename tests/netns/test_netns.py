"""cnitool.netns against real network namespaces (root)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnitool import netns
from cnitool.core.errors import ExitCode, NetnsError, UsageError


def unique_name() -> str:
    return f"cnit-{secrets.token_hex(4)}"


def ip_netns_names() -> set[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in listing.splitlines() if line.strip()}


@pytest.fixture
def made_netns() -> Iterator[str]:
    """A fresh named namespace, removed afterwards whatever the test did."""
    name = unique_name()
    path = netns.create(name)
    try:
        yield path
    finally:
        if os.path.lexists(path):
            netns.remove(name)


# --- resolve (pure, no privileges needed) ----------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "cwd", "expected"),
    [
        ("ns1", "/somewhere", "/var/run/netns/ns1"),
        ("/var/run/netns/ns1", "/somewhere", "/var/run/netns/ns1"),
        ("./ns1", "/tmp/work", "/tmp/work/ns1"),
        ("sub/ns1", "/tmp/work", "/tmp/work/sub/ns1"),
        ("../ns1", "/tmp/work", "/tmp/ns1"),
        ("../../../../ns1", "/tmp/work", "/ns1"),
        ("//proc//1/./ns/../ns/net/", "/x", "/proc/1/ns/net"),
        ("./.", "/tmp/work", "/tmp/work"),
    ],
)
def test_cli_03_resolve(arg: str, cwd: str, expected: str) -> None:
    assert netns.resolve(arg, cwd) == expected


@pytest.mark.parametrize("arg", [".", ".."])
def test_cli_03_dot_and_dotdot_are_refused_in_the_users_words(arg: str) -> None:
    """CLI-03: "." and ".." are no namespace names, and as paths they are directories, never a
    namespace: a usage error naming what was typed, not '"/tmp" is not a network namespace'."""
    with pytest.raises(UsageError, match=f'"{re.escape(arg)}" is not a network namespace name or path'):
        netns.resolve(arg, "/tmp/work")


def test_cli_03_resolve_defaults_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(tmp_path))
    assert netns.resolve("./x") == f"{tmp_path}/x"


def test_cli_03_resolve_keeps_the_logical_pwd_like_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Go's os.Getwd prefers $PWD through a symlink: the container ID hash (CLI-02) depends on it."""
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.chdir(link)
    monkeypatch.setenv("PWD", str(link))
    assert netns.resolve("x") == "/var/run/netns/x"
    assert netns.resolve("./x") == f"{link}/x"
    monkeypatch.setenv("PWD", "/")  # a stale $PWD is ignored
    assert netns.resolve("./x") == f"{real}/x"


def test_cli_03_resolve_rejects_empty() -> None:
    with pytest.raises(UsageError):
        netns.resolve("")


@pytest.mark.parametrize(
    ("arg", "bare"), [("ns1", True), ("./ns1", False), ("/a", False), (".", False), ("..", False), ("", False)]
)
def test_cli_03_is_bare_name(arg: str, bare: bool) -> None:
    assert netns.is_bare_name(arg) is bare


def test_resolving_and_checking_do_not_import_pyroute2() -> None:
    """Speed rule: `cnitool add -o json /var/run/netns/x` must not pay for pyroute2."""
    code = (
        "import sys\n"
        "from cnitool import netns\n"
        "netns.resolve('x'); netns.exists('/var/run/netns/none'); netns.list_names()\n"
        "try:\n    netns.check_netns('/proc/self/ns/net')\nexcept Exception:\n    pass\n"
        "assert 'pyroute2' not in sys.modules, 'pyroute2 imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- real namespaces -------------------------------------------------------------------------


@pytest.mark.privileged
def test_cli_03_create_is_visible_to_ip_netns_and_remove_undoes_it() -> None:
    name = unique_name()
    path = netns.create(name)
    try:
        assert path == f"/var/run/netns/{name}"
        assert name in ip_netns_names()
        assert name in netns.list_names()
        assert netns.exists(path)
    finally:
        netns.remove(name)
    assert name not in ip_netns_names()
    assert not os.path.lexists(path)


@pytest.mark.privileged
def test_remove_accepts_a_path(made_netns: str) -> None:
    netns.remove(made_netns)
    assert not os.path.lexists(made_netns)


@pytest.mark.privileged
def test_create_refuses_an_existing_name(made_netns: str) -> None:
    with pytest.raises(NetnsError) as caught:
        netns.create(os.path.basename(made_netns))
    assert "already exists" in caught.value.msg
    assert netns.exists(made_netns)  # the existing one is untouched


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a\0b"])
def test_create_refuses_invalid_names(bad: str) -> None:
    before = netns.list_names()
    with pytest.raises(UsageError):
        netns.create(bad)
    assert netns.list_names() == before


def test_remove_refuses_paths_outside_the_netns_dir(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(NetnsError):
        netns.remove(str(target))
    with pytest.raises(NetnsError):
        netns.remove("/proc/self/ns/net")
    assert target.exists()


def test_remove_of_a_missing_name_is_an_error() -> None:
    with pytest.raises(NetnsError, match="does not exist"):
        netns.remove(unique_name())


@pytest.mark.privileged
def test_cli_03_check_accepts_a_created_namespace(made_netns: str) -> None:
    netns.check_netns(made_netns)


def test_cli_03_check_refuses_a_missing_path() -> None:
    path = f"/var/run/netns/{unique_name()}"
    with pytest.raises(NetnsError) as caught:
        netns.check_netns(path)
    assert caught.value.msg == f'network namespace "{path}" does not exist'
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert not netns.exists(path)
    assert not os.path.lexists(path)  # looking never creates


def test_cli_03_check_refuses_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "not-a-netns"
    path.write_text("")
    with pytest.raises(NetnsError, match="is not a network namespace"):
        netns.check_netns(str(path))
    assert not netns.exists(str(path))


def test_cli_03_check_refuses_a_directory_and_other_namespace_kinds(tmp_path: Path) -> None:
    with pytest.raises(NetnsError, match="is not a network namespace"):
        netns.check_netns(str(tmp_path))
    with pytest.raises(NetnsError, match="is not a network namespace") as caught:
        netns.check_netns("/proc/self/ns/mnt")
    assert caught.value.hint is not None and "another kind of namespace" in caught.value.hint


def test_cli_03_check_refuses_the_host_namespace() -> None:
    with pytest.raises(NetnsError) as caught:
        netns.check_netns("/proc/self/ns/net")
    assert caught.value.msg == (
        'network namespace "/proc/self/ns/net" is the host\'s network namespace; refusing to configure it'
    )
    # PID 1's: refused as the host's where readable; some sandboxes deny even root access to it.
    with pytest.raises(NetnsError, match="host's network namespace|Permission denied"):
        netns.check_netns("/proc/1/ns/net")
    assert netns.exists("/proc/self/ns/net")  # it is a namespace, just not one to configure


@pytest.mark.privileged
def test_stale_mount_point_is_not_a_namespace() -> None:
    """An empty file left under /var/run/netns (a crashed `ip netns add`) is reported, not used."""
    name = unique_name()
    path = f"{netns.NETNS_DIR}/{name}"
    os.makedirs(netns.NETNS_DIR, exist_ok=True)
    Path(path).write_text("")
    try:
        with pytest.raises(NetnsError) as caught:
            netns.check_netns(path)
        assert "is not a network namespace" in caught.value.msg
        assert caught.value.hint is not None and f"ip netns del {name}" in caught.value.hint
        assert not netns.exists(path)
    finally:
        if os.path.lexists(path):
            netns.remove(name)
    assert not os.path.lexists(path)


@pytest.mark.privileged
def test_run_in_sees_only_the_namespace_interfaces(made_netns: str) -> None:
    done = netns.run_in(made_netns, ["ip", "-o", "link"], capture_output=True)
    assert done.returncode == 0
    links = [line.split(":")[1].strip() for line in done.stdout.decode().splitlines()]
    assert links == ["lo"]


@pytest.mark.privileged
def test_run_in_passes_stdin_and_exit_status(made_netns: str) -> None:
    done = netns.run_in(made_netns, ["sh", "-c", "cat; exit 5"], input=b"hello", capture_output=True)
    assert (done.returncode, done.stdout) == (5, b"hello")


@pytest.mark.privileged
def test_run_in_a_missing_namespace_creates_nothing() -> None:
    name = unique_name()
    path = f"{netns.NETNS_DIR}/{name}"
    with pytest.raises(NetnsError, match="does not exist"):
        netns.run_in(path, ["true"])
    assert not os.path.lexists(path)
    assert name not in ip_netns_names()


@pytest.mark.privileged
def test_inspecting_never_leaves_a_stray_namespace(made_netns: str) -> None:
    before = ip_netns_names()
    missing = f"{netns.NETNS_DIR}/{unique_name()}"
    for path in (made_netns, missing):
        netns.exists(path)
        try:
            netns.check_netns(path)
        except NetnsError:
            pass
    netns.list_names()
    assert ip_netns_names() == before
