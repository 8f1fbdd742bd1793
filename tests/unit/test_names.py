"""Validation of container IDs, network names, interface names and plugin types (VAL-01 … VAL-04)."""

from __future__ import annotations

import pytest

from cnitool.core.errors import ConfigError, ExitCode, UsageError
from cnitool.core.names import (
    validate_attachment,
    validate_container_id,
    validate_interface_name,
    validate_network_name,
    validate_plugin_type,
)


@pytest.mark.parametrize("value", ["a", "0", "cnitool-20c433bb2b1d6ede56d6", "A.b_c-d", "x" * 300, "9.-_"])
def test_val_01_container_id_accepted(value: str) -> None:
    validate_container_id(value)


@pytest.mark.parametrize(
    "value",
    ["-a", "_a", ".a", "a/b", "../x", "a b", "a:b", "é", "a\n", "\na", "a\x00", "a;b", "a*"],
)
def test_val_01_container_id_rejected(value: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_container_id(value)
    assert info.value.msg == f'invalid characters in containerID "{value}"'
    assert info.value.exit_code == ExitCode.INVALID


def test_val_01_container_id_empty() -> None:
    with pytest.raises(UsageError, match="missing containerID"):
        validate_container_id("")


@pytest.mark.parametrize("value", ["net1", "my-net.v2_x", "0"])
def test_val_02_network_name_accepted(value: str) -> None:
    validate_network_name(value)


@pytest.mark.parametrize("value", ["../x", "a/b", ".", "..", "-n", "n n", "n\n", "ü"])
def test_val_02_network_name_rejected(value: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_network_name(value)
    assert info.value.msg == f'invalid characters found in network name "{value}"'


def test_val_02_network_name_empty() -> None:
    with pytest.raises(UsageError, match="missing network name"):
        validate_network_name("")


@pytest.mark.parametrize("value", ["eth0", "e", "x" * 15, "veth-ä", "a.b", "a..", "eth0@x"])
def test_val_03_interface_name_accepted(value: str) -> None:
    validate_interface_name(value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty"),
        ("x" * 16, "too long"),
        ("ä" * 8, "too long"),  # 16 bytes in UTF-8 although 8 characters
        (".", "not allowed"),
        ("..", "not allowed"),
        ("a/b", "invalid character '/'"),
        ("a:b", "invalid character ':'"),
        ("a b", "invalid character ' '"),
        ("a\tb", "invalid character '\\t'"),
        ("a\nb", "invalid character '\\n'"),
    ],
)
def test_val_03_interface_name_rejected(value: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_interface_name(value)
    assert fragment in info.value.msg


@pytest.mark.parametrize("value", ["bridge", "host-local", "my.plugin", "..a", "a.."])
def test_val_04_plugin_type_accepted(value: str) -> None:
    validate_plugin_type(value)


@pytest.mark.parametrize("value", ["", ".", "..", "../bridge", "/usr/bin/id", "a/b", "a\\b", "..\\x"])
def test_val_04_plugin_type_rejected(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_plugin_type(value)
    assert info.value.msg == f'invalid plugin type "{value}": it must be a plain file name'
    assert info.value.exit_code == ExitCode.INVALID


def test_val_05_attachment_checks_all_three_in_order() -> None:
    """VAL-05: the network name is reported first, then the container ID, then the interface."""
    with pytest.raises(UsageError, match="network name"):
        validate_attachment("../x", "a/b", "")
    with pytest.raises(UsageError, match="containerID"):
        validate_attachment("net", "a/b", "")
    with pytest.raises(UsageError, match="interface name"):
        validate_attachment("net", "c1", "")
    validate_attachment("net", "c1", "eth0")
