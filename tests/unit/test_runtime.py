"""Runtime inputs: the Go cnitool's container ID (CLI-02) and CNI_ARGS / CAP_ARGS parsing (REQ-07)."""

from __future__ import annotations

import json

import pytest

from cnitool.core.errors import ExitCode, UsageError
from cnitool.core.runtime import (
    RuntimeConf,
    container_id_for_netns,
    parse_cap_args,
    parse_cap_option,
    parse_cni_args,
)


def test_cli_02_container_id_vector() -> None:
    """CLI-02: the same ID the Go cnitool derives, so either tool can DEL what the other added."""
    assert container_id_for_netns("/var/run/netns/cnitest") == "cnitool-20c433bb2b1d6ede56d6"


def test_cli_02_container_id_shape_and_distinct() -> None:
    first = container_id_for_netns("/var/run/netns/a")
    second = container_id_for_netns("/var/run/netns/b")
    assert first != second
    for value in (first, second):
        assert value.startswith("cnitool-")
        assert len(value) == len("cnitool-") + 20
        int(value[len("cnitool-") :], 16)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("K=V", (("K", "V"),)),
        ("A=1;B=2", (("A", "1"), ("B", "2"))),
        ("A=1;", (("A", "1"),)),  # trailing ;
        ("A=1;;B=2", (("A", "1"), ("B", "2"))),  # ;;
        (";A=1", (("A", "1"),)),
        (";;", ()),
        ("A=b=c", (("A", "b=c"),)),  # value with =
        ("A==", (("A", "="),)),
        ("A=", (("A", ""),)),  # empty value
        ("IgnoreUnknown=true;K8S_POD_NAME=p", (("IgnoreUnknown", "true"), ("K8S_POD_NAME", "p"))),
        ("A=1;A=2", (("A", "1"), ("A", "2"))),  # order and repeats kept
    ],
)
def test_req_07_cni_args_parsing(text: str, expected: tuple[tuple[str, str], ...]) -> None:
    assert parse_cni_args(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A", 'invalid CNI_ARGS pair "A": expected KEY=VALUE'),  # pair without =
        ("A=1;B", 'invalid CNI_ARGS pair "B": expected KEY=VALUE'),
        ("=v", 'invalid CNI_ARGS pair "=v": the key is empty'),  # empty key
        ("A=1;=", 'invalid CNI_ARGS pair "=": the key is empty'),
    ],
)
def test_req_07_cni_args_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_cni_args(text)
    assert info.value.msg == message
    assert info.value.exit_code == ExitCode.INVALID


def test_req_07_cni_args_round_trip_to_env() -> None:
    """libcni joins the pairs with ``;`` and each pair with ``=``."""
    runtime = RuntimeConf("c1", "/n", args=parse_cni_args("A=b=c;;E=;"))
    assert runtime.cni_args_env == "A=b=c;E="


def test_req_07_cap_args_object() -> None:
    assert parse_cap_args('{"portMappings": [{"hostPort": 8080}], "mac": "aa"}') == {
        "portMappings": [{"hostPort": 8080}],
        "mac": "aa",
    }
    assert parse_cap_args("{}") == {}


@pytest.mark.parametrize(
    ("text", "kind"),
    [("[]", "an array"), ('"x"', "a string"), ("true", "a boolean"), ("null", "null"), ("3", "a number")],
)
def test_req_07_cap_args_not_an_object(text: str, kind: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_cap_args(text)
    assert info.value.msg == f"CAP_ARGS must be a JSON object mapping capability names to values, not {kind}"


@pytest.mark.parametrize("text", ["{", "{'a': 1}", "mac=aa", "", '{"a": 1,}'])
def test_req_07_cap_args_not_json(text: str) -> None:
    with pytest.raises(UsageError, match="^CAP_ARGS is not valid JSON"):
        parse_cap_args(text)


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 1e400}', '{"a": 1' + "0" * 400 + "}"])
def test_req_07_cap_args_rejects_non_json_constants(text: str) -> None:
    """Python's json accepts NaN/Infinity (and reads 1e400 as inf); Go's decoder refuses all of them."""
    with pytest.raises(UsageError, match="^CAP_ARGS is not valid JSON"):
        parse_cap_args(text)


def test_req_07_cap_option() -> None:
    assert parse_cap_option('mac="aa:bb"') == ("mac", "aa:bb")
    assert parse_cap_option('x={"a":"b=c"}') == ("x", {"a": "b=c"})
    for bad in ("mac", "=1", "mac=aa", "x=NaN"):
        with pytest.raises(UsageError, match="invalid --cap"):
            parse_cap_option(bad)


def test_req_07_cap_option_bare_string_hints_at_the_quotes() -> None:
    with pytest.raises(UsageError) as caught:
        parse_cap_option("mac=c2:11:22:33:44:55")
    assert caught.value.hint == "a string value needs JSON quotes: --cap 'mac=\"c2:11:22:33:44:55\"' (or use a " \
                                "shortcut such as --mac, --ip, --port)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "x\\ud800y"}', {"a": "x\ufffdy"}),  # lone surrogate escape
        ('{"\\udc00": ["\\ud83d"]}', {"\ufffd": ["\ufffd"]}),
        ('{"a": "\\ud83d\\ude00"}', {"a": "\U0001f600"}),  # a valid pair stays one character
        ('{"a": "b\udcffc"}', {"a": "b\ufffdc"}),  # invalid UTF-8 from os.environ (surrogateescape)
    ],
)
def test_req_07_cap_args_surrogates_as_go(text: str, expected: dict) -> None:
    """REQ-07: Go decodes lone surrogates (and invalid UTF-8) to U+FFFD; the result must be encodable."""
    value = parse_cap_args(text)
    assert value == expected
    json.dumps(value, ensure_ascii=False).encode("utf-8")
    name, option = parse_cap_option('x="\\udfff"')
    assert option == "\ufffd"
