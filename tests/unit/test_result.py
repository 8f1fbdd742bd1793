"""Results of every spec version: parsing (RES-01), conversion (RES-02) and the reference's JSON (RES-04).

Golden files: ``golden/results/<case>/input.json`` is what a plugin printed; ``<version>.json`` is
what the reference prints after converting it to ``<version>`` (with a final newline added for the
file), ``<version>.error`` the error class and message when that conversion cannot be done.
The expected texts follow libcni's types020/types040/types100 marshalling (struct field order and
omitempty tags; types100 goes through a map, hence sorted keys and no empty ``dns``).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cnitool.core.errors import CniError, InvalidResult, VersionError
from cnitool.core.gojson import dumps_indented
from cnitool.core.result import (
    DNS,
    Interface,
    IPConfig,
    Result,
    Route,
    convert_result,
    parse_result,
    result_to_json,
    result_to_wire,
)
from cnitool.core.version import KNOWN_VERSIONS

GOLDEN = Path(__file__).parent / "golden" / "results"
# The golden inputs are parsed as if the network ran at this version (matters for "no-version").
GOLDEN_DEFAULT_VERSION = "0.3.1"
GOLDEN_CASES = (
    "dual-stack-0.2.0",
    "dual-stack-1.0.0",
    "escaping-1.1.0",
    "no-version",
    "null",
    "v4-only-1.1.0",
    "v6-only-0.4.0",
)


def _golden_input(case: str) -> Result:
    return parse_result((GOLDEN / case / "input.json").read_bytes(), default_version=GOLDEN_DEFAULT_VERSION)


def _expectation(case: str, version: str) -> tuple[str, str]:
    """("json", text) or ("error", text) for converting ``case`` to ``version``."""
    for kind in ("json", "error"):
        path = GOLDEN / case / f"{version}.{kind}"
        if path.exists():
            return kind, path.read_text(encoding="utf-8")
    pytest.fail(f"no golden expectation for {case} → {version}")


def _result_with(version: str, **fields: Any) -> Result:
    """A result parsed from ``fields`` (plus cniVersion) the way a plugin's stdout would be."""
    return parse_result(json.dumps({"cniVersion": version, **fields}), default_version="1.1.0")


# ------------------------------------------------------------------------- golden matrix


def test_res_04_golden_cases_are_all_there() -> None:
    """RES-04: the golden matrix below is not silently shrunk by a deleted case directory."""
    assert sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()) == sorted(GOLDEN_CASES)


@pytest.mark.parametrize("version", KNOWN_VERSIONS)
@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_res_02_res_04_golden_conversion_prints_reference_bytes(case: str, version: str) -> None:
    """RES-01/RES-02/RES-04: parse a plugin's output, convert it, print exactly the reference's bytes."""
    kind, expected = _expectation(case, version)
    result = _golden_input(case)
    if kind == "error":
        with pytest.raises(CniError) as caught:
            convert_result(result, version)
        assert f"{type(caught.value).__name__}: {caught.value}\n" == expected
        return
    converted = convert_result(result, version)
    assert converted.cni_version == version
    assert result_to_json(converted) + "\n" == expected


_GOLDEN_OUTPUTS = [
    (case, version) for case in GOLDEN_CASES for version in KNOWN_VERSIONS if (GOLDEN / case / f"{version}.json").exists()
]


@pytest.mark.parametrize(("case", "version"), _GOLDEN_OUTPUTS)
def test_res_01_res_04_printed_result_parses_back_to_the_same_bytes(case: str, version: str) -> None:
    """RES-01/RES-04: what we print (and cache) reads back unchanged, in every layout."""
    expected = (GOLDEN / case / f"{version}.json").read_text(encoding="utf-8")
    reparsed = parse_result(expected.encode("utf-8"), default_version="1.1.0")
    assert reparsed.cni_version == version
    assert result_to_json(reparsed) + "\n" == expected


# ------------------------------------------------------------------------------ RES-01


@pytest.mark.parametrize(
    ("data", "default", "expected"),
    [
        ('{"ips": []}', "1.0.0", "1.0.0"),
        ('{"cniVersion": ""}', "0.4.0", "0.4.0"),
        ('{"cniVersion": null}', "0.2.0", "0.2.0"),
        ('{"cniVersion": "0.3.0"}', "1.1.0", "0.3.0"),
        ("{}", "", "0.1.0"),
    ],
)
def test_res_01_missing_cni_version_takes_the_network_version(data: str, default: str, expected: str) -> None:
    """RES-01/EXEC-06: no or empty cniVersion → the network's version ("" meaning 0.1.0, VER-02)."""
    assert parse_result(data, default_version=default).cni_version == expected


@pytest.mark.parametrize("data", [b"null", "null", " null\n"])
def test_res_01_null_is_an_empty_result(data: bytes | str) -> None:
    """RES-01/EXEC-06: a plugin printing ``null`` produced an empty result in the network's version."""
    assert parse_result(data, default_version="0.4.0") == Result(cni_version="0.4.0")


@pytest.mark.parametrize(
    ("data", "default", "named"),
    [
        ('{"cniVersion": "1.0.1"}', "1.1.0", "1.0.1"),
        ('{"cniVersion": "2.0.0"}', "1.1.0", "2.0.0"),
        ("{}", "1.0.1", "1.0.1"),
        ("null", "3.0.0", "3.0.0"),
        ('{"cniVersion": "one"}', "1.1.0", "one"),
    ],
)
def test_res_01_unknown_version_is_a_version_error_naming_it(data: str, default: str, named: str) -> None:
    """RES-01/VER-02: a version without a known result layout cannot be parsed; the error names it."""
    with pytest.raises(VersionError, match=f'"{named}"'):
        parse_result(data, default_version=default)


@pytest.mark.parametrize(("written", "known"), [("1.0", "1.0.0"), ("0.2", "0.2.0"), ("1.1", "1.1.0")])
def test_res_01_a_short_version_is_the_known_one_it_equals(written: str, known: str) -> None:
    """VER-02: versions compare numerically, so "1.0" is 1.0.0: parsed and converted in that layout."""
    parsed = parse_result({"cniVersion": written, "ips": [{"address": "10.0.0.2/24"}]}, default_version="1.0.0")
    assert parsed.cni_version == known
    assert parse_result({"ips": [{"address": "10.0.0.2/24"}]}, default_version=written).cni_version == known
    assert convert_result(_FULL_1_1, written).cni_version == known


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", b"not json", b'{"cniVersion": "1.0.0"', b'{"ips": [],}', b"NaN", b'{"a": Infinity}', b"\xef\xbb\xbf{}"],
)
def test_res_01_not_json_is_an_invalid_result(data: bytes) -> None:
    """RES-01: output that Go's decoder rejects (incl. NaN, trailing commas, a BOM) is an InvalidResult."""
    with pytest.raises(InvalidResult, match="not valid JSON"):
        parse_result(data, default_version="1.0.0")


@pytest.mark.parametrize("data", ["[]", '"1.0.0"', "42", "true"])
def test_res_01_result_must_be_an_object(data: str) -> None:
    """RES-01: a JSON value that is not an object (or null) is not a result."""
    with pytest.raises(InvalidResult, match="must be a JSON object"):
        parse_result(data, default_version="1.0.0")


@pytest.mark.parametrize(
    ("version", "fields", "value", "where"),
    [
        ("1.0.0", {"ips": [{"address": "10.1.0.5"}]}, "10.1.0.5", "ips[0].address"),
        ("1.0.0", {"ips": [{"address": "10.1.0.5/33"}]}, "10.1.0.5/33", "ips[0].address"),
        ("1.0.0", {"ips": [{"address": "10.1.0.5/255.255.255.0"}]}, "10.1.0.5/255.255.255.0", "ips[0].address"),
        ("1.0.0", {"ips": [{"address": "10.1.0.5/-1"}]}, "10.1.0.5/-1", "ips[0].address"),
        ("1.0.0", {"ips": [{"address": "010.1.0.5/24"}]}, "010.1.0.5/24", "ips[0].address"),
        ("1.0.0", {"ips": [{"address": "fe80::1%eth0/64"}]}, "fe80::1%eth0/64", "ips[0].address"),
        ("1.0.0", {"ips": [{"address": " 10.1.0.5/24"}]}, " 10.1.0.5/24", "ips[0].address"),
        ("1.1.0", {"ips": [{"address": "10.1.0.5/24", "gateway": "10.1.0.1/24"}]}, "10.1.0.1/24", "ips[0].gateway"),
        ("1.1.0", {"ips": [{"address": "10.1.0.5/24", "gateway": "router"}]}, "router", "ips[0].gateway"),
        ("0.4.0", {"routes": [{"dst": "default"}]}, "default", "routes[0].dst"),
        ("0.4.0", {"routes": [{"dst": "::/0", "gw": "::1::2"}]}, "::1::2", "routes[0].gw"),
        ("0.2.0", {"ip4": {"ip": "10.1.0.5"}}, "10.1.0.5", "ip4.ip"),
        ("0.2.0", {"ip6": {"ip": "fd00::5/64", "gateway": "fd00::/64"}}, "fd00::/64", "ip6.gateway"),
        ("0.1.0", {"ip4": {"ip": "10.1.0.5/24", "routes": [{"dst": "0.0.0.0"}]}}, "0.0.0.0", "ip4.routes[0].dst"),
    ],
)
def test_res_01_bad_address_errors_name_value_and_field(version: str, fields: dict[str, Any], value: str, where: str) -> None:
    """RES-01: addresses must be CIDR, gateways plain IPs (as Go's ParseCIDR/ParseIP); errors name both."""
    with pytest.raises(InvalidResult) as caught:
        _result_with(version, **fields)
    assert f'"{value}"' in str(caught.value)
    assert where in str(caught.value)


@pytest.mark.parametrize(
    ("version", "fields", "where"),
    [
        ("1.0.0", {"ips": [{"gateway": "10.1.0.1"}]}, "ips[0].address"),
        ("1.0.0", {"ips": [{"address": ""}]}, "ips[0].address"),
        ("0.4.0", {"routes": [{"gw": "10.1.0.1"}]}, "routes[0].dst"),
        ("0.2.0", {"ip4": {"gateway": "10.1.0.1"}}, "ip4.ip"),
    ],
)
def test_res_01_missing_address_is_an_error(version: str, fields: dict[str, Any], where: str) -> None:
    """RES-01: an IP config or route without its address is refused (Go would print "<nil>")."""
    with pytest.raises(InvalidResult, match=re.escape(f"{where} is missing")):
        _result_with(version, **fields)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"cniVersion": 1.0}, "cniVersion"),
        ({"cniVersion": "1.0.0", "interfaces": "eth0"}, "interfaces"),
        ({"cniVersion": "1.0.0", "interfaces": ["eth0"]}, "interfaces[0]"),
        ({"cniVersion": "1.0.0", "interfaces": [{"name": 0}]}, "interfaces[0].name"),
        ({"cniVersion": "1.1.0", "interfaces": [{"name": "eth0", "mtu": "1500"}]}, "interfaces[0].mtu"),
        ({"cniVersion": "1.1.0", "interfaces": [{"name": "eth0", "mtu": 1500.5}]}, "interfaces[0].mtu"),
        ({"cniVersion": "1.0.0", "ips": {"address": "10.1.0.5/24"}}, "ips"),
        ({"cniVersion": "1.0.0", "ips": [{"address": "10.1.0.5/24", "interface": "0"}]}, "ips[0].interface"),
        ({"cniVersion": "1.0.0", "ips": [{"address": "10.1.0.5/24", "interface": True}]}, "ips[0].interface"),
        ({"cniVersion": "0.4.0", "ips": [{"version": 4, "address": "10.1.0.5/24"}]}, "ips[0].version"),
        ({"cniVersion": "1.0.0", "ips": [{"address": ["10.1.0.5/24"]}]}, "ips[0].address"),
        ({"cniVersion": "1.1.0", "routes": [{"dst": "0.0.0.0/0", "table": 1.5}]}, "routes[0].table"),
        ({"cniVersion": "1.0.0", "dns": ["1.1.1.1"]}, "dns"),
        ({"cniVersion": "1.0.0", "dns": {"nameservers": "1.1.1.1"}}, "dns.nameservers"),
        ({"cniVersion": "1.0.0", "dns": {"search": ["a", 5]}}, "dns.search[1]"),
        ({"cniVersion": "0.2.0", "ip4": ["10.1.0.5/24"]}, "ip4"),
        ({"cniVersion": "0.2.0", "ip4": {"ip": "10.1.0.5/24", "routes": {}}}, "ip4.routes"),
    ],
)
def test_res_01_wrong_json_types_name_the_key(data: dict[str, Any], where: str) -> None:
    """RES-01: a value of the wrong JSON type is an error naming the key (Go's "cannot unmarshal")."""
    with pytest.raises(InvalidResult) as caught:
        parse_result(data, default_version="1.1.0")
    assert f"{where} must be" in str(caught.value)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.1.0.5/24", "10.1.0.5/24"),  # host bits kept (types.ParseCIDR)
        ("2001:0DB8:0:0:0:0:0:1/64", "2001:db8::1/64"),
        ("2001:db8:0:1:0:0:0:1/64", "2001:db8:0:1::1/64"),
        ("2001:db8:0:0:1:0:0:1/64", "2001:db8::1:0:0:1/64"),  # leftmost of equal zero runs
        ("2001:db8:0:1:1:1:1:1/64", "2001:db8:0:1:1:1:1:1/64"),  # a single zero group stays
        ("::ffff:10.1.0.5/120", "10.1.0.5/24"),  # IPv4-mapped prints as IPv4
        ("::1.2.3.4/128", "::102:304/128"),
    ],
)
def test_res_01_addresses_are_normalised_like_go_prints_them(address: str, expected: str) -> None:
    """RES-01/RES-04: addresses come back as Go's net.IPNet.String() writes them."""
    result = _result_with("1.0.0", ips=[{"address": address}], routes=[{"dst": address}])
    assert result.ips[0].address == expected
    assert result.routes[0].dst == expected


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [("10.1.0.1", "10.1.0.1"), ("2001:DB8::0:1", "2001:db8::1"), ("::ffff:10.1.0.1", "10.1.0.1"), ("", None), (None, None)],
)
def test_res_01_gateways_are_normalised_like_go(gateway: str | None, expected: str | None) -> None:
    """RES-01: gateways as Go's net.IP prints them; "" and null mean no gateway (net.IP's UnmarshalText)."""
    result = _result_with("1.0.0", ips=[{"address": "10.1.0.5/24", "gateway": gateway}])
    assert result.ips[0].gateway == expected


def test_res_01_ipv4_mapped_address_counts_as_ipv4() -> None:
    """RES-01/RES-02: Go's To4() makes an IPv4-mapped address IPv4, so 0.4.0 calls it version "4"."""
    result = _result_with("1.0.0", ips=[{"address": "::ffff:10.1.0.5/120"}])
    assert result.ips[0].family == 4
    assert result_to_wire(convert_result(result, "0.4.0"))["ips"] == [{"version": "4", "address": "10.1.0.5/24"}]


def test_res_01_unknown_keys_and_other_layouts_fields_are_dropped() -> None:
    """RES-01: Go unmarshals into the version's structs, so keys they lack are dropped."""
    v040 = _result_with(
        "0.4.0",
        interfaces=[{"name": "eth0", "mtu": 1500, "socketPath": "/s", "pciID": "p", "extra": 1}],
        ip4={"ip": "10.9.9.9/24"},
        plugin="bridge",
    )
    assert v040 == Result(cni_version="0.4.0", interfaces=(Interface(name="eth0"),))
    v100 = _result_with("1.0.0", ips=[{"version": "6", "address": "10.1.0.5/24"}])
    assert v100.ips == (IPConfig(address="10.1.0.5/24"),)
    v020 = _result_with("0.2.0", ip4={"ip": "10.1.0.5/24"}, ips=[{"address": "10.2.0.5/24"}], interfaces=[{"name": "x"}])
    assert v020 == Result(cni_version="0.2.0", ips=(IPConfig(address="10.1.0.5/24"),))


def test_res_01_1_1_fields_are_read() -> None:
    """RES-01: 1.1.0 interface (mtu, socketPath, pciID) and route (mtu, advmss, priority, table, scope) fields."""
    result = _result_with(
        "1.1.0",
        interfaces=[{"name": "eth0", "mtu": 9000, "socketPath": "/run/sock", "pciID": "0000:00:1f.6"}],
        routes=[{"dst": "10.0.0.0/8", "mtu": 1400, "advmss": 1360, "priority": 7, "table": 100, "scope": 253}],
    )
    assert result.interfaces == (Interface(name="eth0", mtu=9000, socket_path="/run/sock", pci_id="0000:00:1f.6"),)
    assert result.routes == (Route(dst="10.0.0.0/8", mtu=1400, advmss=1360, priority=7, table=100, scope=253),)


def test_res_01_zero_values_follow_go_field_types() -> None:
    """RES-01: plain Go ints (mtu, advmss, priority) cannot hold "unset" apart from 0; pointers
    (interface index, route table and scope) can, so their 0 is kept."""
    result = _result_with(
        "1.1.0",
        interfaces=[{"name": "eth0", "mtu": 0}],
        ips=[{"address": "10.1.0.5/24", "interface": 0}],
        routes=[{"dst": "0.0.0.0/0", "mtu": 0, "advmss": 0, "priority": 0, "table": 0, "scope": 0}],
    )
    assert result.interfaces[0].mtu is None
    assert result.ips[0].interface == 0
    assert result.routes[0] == Route(dst="0.0.0.0/0", table=0, scope=0)


def test_res_01_null_values_mean_not_set() -> None:
    """RES-01: JSON null leaves a Go field at its zero value; it is not a type error."""
    result = _result_with(
        "1.0.0",
        interfaces=None,
        ips=[{"address": "10.1.0.5/24", "gateway": None, "interface": None}],
        routes=None,
        dns={"nameservers": None, "domain": None},
    )
    assert result == Result(cni_version="1.0.0", ips=(IPConfig(address="10.1.0.5/24"),))


def test_res_01_keys_match_case_insensitively_last_one_wins() -> None:
    """RES-01: Go's decoder matches keys to fields ignoring case; of two matching keys the last wins."""
    result = parse_result(
        '{"CNIVersion": "1.0.0", "IPs": [{"Address": "10.1.0.5/24"}], "dns": {"domain": "a"}, "DNS": {"domain": "b"}}',
        default_version="0.2.0",
    )
    assert result == Result(cni_version="1.0.0", ips=(IPConfig(address="10.1.0.5/24"),), dns=DNS(domain="b"))


@pytest.mark.parametrize(
    ("declared", "address"),
    [("6", "10.1.0.5/24"), ("4", "fd00::5/64"), ("5", "10.1.0.5/24"), ("v4", "10.1.0.5/24")],
)
def test_res_01_ip_version_must_match_the_address(declared: str, address: str) -> None:
    """RES-01: 0.3.x/0.4.0 ``version`` is "4" or "6" and must agree with the address (ours is derived)."""
    with pytest.raises(InvalidResult, match=f'invalid IP version "{declared}" in ips\\[0\\].version'):
        _result_with("0.4.0", ips=[{"version": declared, "address": address}])


def test_res_01_ip_version_may_be_absent() -> None:
    """RES-01: a 0.4.0 IP config without ``version`` is read; the version is derived when written."""
    result = _result_with("0.3.1", ips=[{"address": "fd00::5/64"}])
    assert result_to_wire(result)["ips"] == [{"version": "6", "address": "fd00::5/64"}]


@pytest.mark.parametrize(
    ("section", "fields", "message"),
    [
        ("ip4", {"ip": "fd00::5/64"}, 'address "fd00::5/64" in ip4.ip is not an IPv4 address'),
        ("ip6", {"ip": "10.1.0.5/24"}, 'address "10.1.0.5/24" in ip6.ip is not an IPv6 address'),
        ("ip4", {"ip": "10.1.0.5/24", "routes": [{"dst": "::/0"}]}, 'route dst "::/0" in ip4.routes is not an IPv4 network'),
    ],
)
def test_res_01_020_sections_hold_their_own_family(section: str, fields: dict[str, Any], message: str) -> None:
    """RES-01: in 0.1.0/0.2.0, ip4 holds IPv4 and ip6 IPv6 (our model files routes by family)."""
    with pytest.raises(InvalidResult, match=message):
        _result_with("0.2.0", **{section: fields})


def test_res_01_bytes_str_and_dict_parse_alike() -> None:
    """RES-01: plugin stdout (bytes), text and a cached/prevResult dict give the same result."""
    data = {"cniVersion": "1.0.0", "ips": [{"address": "10.1.0.5/24"}], "dns": {"domain": "é.example"}}
    text = json.dumps(data, ensure_ascii=False)
    results = {parse_result(d, default_version="0.1.0") for d in (data, text, text.encode("utf-8"))}
    assert len(results) == 1


def test_res_01_invalid_utf8_and_lone_surrogates_become_replacement_characters() -> None:
    """RES-01: Go decodes invalid UTF-8 and unpaired surrogate escapes to U+FFFD instead of failing."""
    result = parse_result(b'{"cniVersion": "1.0.0", "dns": {"domain": "a\xffb", "search": ["c\\ud800d"]}}', default_version="1.0.0")
    assert result.dns == DNS(domain="a\ufffdb", search=("c\ufffdd",))


# ------------------------------------------------------------------------------ RES-02

_FULL_1_1 = Result(
    cni_version="1.1.0",
    interfaces=(
        Interface(name="veth0", mac="aa:aa:aa:aa:aa:aa"),
        Interface(name="eth0", mac="bb:bb:bb:bb:bb:bb", sandbox="/var/run/netns/x", mtu=1450, socket_path="/s", pci_id="p"),
    ),
    ips=(
        IPConfig(address="fd00::2/64", gateway="fd00::1", interface=1),
        IPConfig(address="10.0.0.2/24", gateway="10.0.0.1", interface=1),
        IPConfig(address="10.0.1.2/24", gateway="10.0.1.1", interface=1),
        IPConfig(address="fd01::2/64", interface=1),
    ),
    routes=(
        Route(dst="0.0.0.0/0", gw="10.0.0.1", mtu=1400, advmss=1360, priority=5, table=0, scope=0),
        Route(dst="::/0", gw="fd00::1", table=200),
        Route(dst="192.168.0.0/16", gw="10.0.1.1"),
    ),
    dns=DNS(nameservers=("10.0.0.1",), domain="example.test"),
)


@pytest.mark.parametrize("source", ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
@pytest.mark.parametrize("target", ["0.1.0", "0.2.0"])
def test_res_02_down_to_020_keeps_first_address_of_each_family(source: str, target: str) -> None:
    """RES-02: 0.1.0/0.2.0 hold one address per family: the first IPv4 and first IPv6 are kept,
    interfaces and interface indexes go, routes keep only dst and gw (types040 convertTo02x)."""
    converted = convert_result(convert_result(_FULL_1_1, source), target)
    assert converted == Result(
        cni_version=target,
        ips=(IPConfig(address="10.0.0.2/24", gateway="10.0.0.1"), IPConfig(address="fd00::2/64", gateway="fd00::1")),
        routes=(Route(dst="0.0.0.0/0", gw="10.0.0.1"), Route(dst="::/0", gw="fd00::1"), Route(dst="192.168.0.0/16", gw="10.0.1.1")),
        dns=_FULL_1_1.dns,
    )


def test_res_02_down_to_020_files_routes_by_the_family_of_their_dst() -> None:
    """RES-02: routes go under ip4/ip6 by their dst; a family without an address loses its routes."""
    v4_only = Result(
        cni_version="1.0.0",
        ips=(IPConfig(address="10.0.0.2/24"),),
        routes=(Route(dst="::/0", gw="fd00::1"), Route(dst="0.0.0.0/0", gw="10.0.0.1")),
    )
    wire = result_to_wire(convert_result(v4_only, "0.2.0"))
    assert wire == {
        "cniVersion": "0.2.0",
        "ip4": {"ip": "10.0.0.2/24", "routes": [{"dst": "0.0.0.0/0", "gw": "10.0.0.1"}]},
        "dns": {},
    }


@pytest.mark.parametrize(
    "source",
    [
        Result(cni_version="1.1.0"),
        Result(cni_version="0.4.0", interfaces=(Interface(name="eth0"),), routes=(Route(dst="0.0.0.0/0"),)),
        Result(cni_version="1.0.0", dns=DNS(nameservers=("1.1.1.1",))),
    ],
)
@pytest.mark.parametrize("target", ["0.1.0", "0.2.0"])
def test_res_02_no_valid_ip_addresses(source: Result, target: str) -> None:
    """RES-02: a result without any address cannot be written in 0.1.0/0.2.0 layout."""
    with pytest.raises(VersionError, match="no valid IP addresses"):
        convert_result(source, target)


@pytest.mark.parametrize("target", ["1.0.1", "2.0.0", "latest"])
def test_res_02_unknown_target_version_names_both_versions(target: str) -> None:
    """RES-02/VER-02: converting to a version without a result layout fails naming both versions."""
    with pytest.raises(VersionError) as caught:
        convert_result(_FULL_1_1, target)
    assert str(caught.value).startswith(f"no converter for CNI result version 1.1.0 to {target}")


@pytest.mark.parametrize("version", KNOWN_VERSIONS)
def test_res_02_same_version_is_unchanged(version: str) -> None:
    """RES-02: converting to the version a result is in returns it as it is (libcni's shortcut)."""
    result = replace(_FULL_1_1, cni_version=version)
    assert convert_result(result, version) is result


@pytest.mark.parametrize(("source", "target"), [("1.1.0", "1.0.0"), ("1.0.0", "1.1.0")])
def test_res_02_between_1_0_and_1_1_only_the_version_changes(source: str, target: str) -> None:
    """RES-02: 1.0.0 and 1.1.0 share one result type; every field survives both ways."""
    result = replace(_FULL_1_1, cni_version=source)
    assert convert_result(result, target) == replace(_FULL_1_1, cni_version=target)


@pytest.mark.parametrize("target", ["0.3.0", "0.3.1", "0.4.0"])
def test_res_02_1x_to_04x_drops_interface_fields_keeps_route_fields(target: str) -> None:
    """RES-02: types040.Interface has no mtu/socketPath/pciID; routes are the shared types.Route and keep theirs."""
    converted = convert_result(_FULL_1_1, target)
    assert converted.interfaces == (
        Interface(name="veth0", mac="aa:aa:aa:aa:aa:aa"),
        Interface(name="eth0", mac="bb:bb:bb:bb:bb:bb", sandbox="/var/run/netns/x"),
    )
    assert converted.ips == _FULL_1_1.ips
    assert converted.routes == _FULL_1_1.routes
    assert [ip["version"] for ip in result_to_wire(converted)["ips"]] == ["6", "4", "4", "6"]


@pytest.mark.parametrize("target", ["0.3.0", "0.4.0", "1.0.0", "1.1.0"])
def test_res_02_up_from_020_ip4_ip6_become_ips_and_routes_go_top_level(target: str) -> None:
    """RES-02: ip4 then ip6 become ``ips``; their routes (ip4's first) become top-level routes."""
    v020 = _result_with(
        "0.2.0",
        ip6={"ip": "fd00::2/64", "gateway": "fd00::1", "routes": [{"dst": "::/0"}]},
        ip4={"ip": "10.0.0.2/24", "routes": [{"dst": "0.0.0.0/0", "gw": "10.0.0.1", "mtu": 1400}]},
    )
    converted = convert_result(v020, target)
    assert converted == Result(
        cni_version=target,
        ips=(IPConfig(address="10.0.0.2/24"), IPConfig(address="fd00::2/64", gateway="fd00::1")),
        routes=(Route(dst="0.0.0.0/0", gw="10.0.0.1", mtu=1400), Route(dst="::/0")),
    )


@pytest.mark.parametrize(("source", "target"), [("0.1.0", "0.2.0"), ("0.2.0", "0.1.0")])
def test_res_02_between_0_1_and_0_2_only_the_version_changes(source: str, target: str) -> None:
    """RES-02: 0.1.0 and 0.2.0 share one layout (types020 convertFrom010/convertTo010 copy)."""
    result = _result_with(source, ip4={"ip": "10.0.0.2/24", "routes": [{"dst": "0.0.0.0/0", "advmss": 1200}]})
    assert convert_result(result, target) == replace(result, cni_version=target)


# ------------------------------------------------------------------------------ RES-04

_ALL_FIELDS_BY_LAYOUT: dict[str, dict[str, list[str]]] = {
    "0.2.0": {
        "": ["cniVersion", "ip4", "ip6", "dns"],
        "ip4": ["ip", "gateway", "routes"],
        "route": ["dst", "gw", "mtu", "advmss", "priority", "table", "scope"],
        "dns": ["nameservers", "domain", "search", "options"],
    },
    "0.4.0": {
        "": ["cniVersion", "interfaces", "ips", "routes", "dns"],
        "interface": ["name", "mac", "sandbox"],
        "ip": ["version", "interface", "address", "gateway"],
        "route": ["dst", "gw", "mtu", "advmss", "priority", "table", "scope"],
        "dns": ["nameservers", "domain", "search", "options"],
    },
    "1.1.0": {
        "": ["cniVersion", "dns", "interfaces", "ips", "routes"],
        "interface": ["mac", "mtu", "name", "pciID", "sandbox", "socketPath"],
        "ip": ["address", "gateway", "interface"],
        "route": ["advmss", "dst", "gw", "mtu", "priority", "scope", "table"],
        "dns": ["domain", "nameservers", "options", "search"],
    },
}

_EVERYTHING = replace(
    _FULL_1_1,
    routes=(Route(dst="0.0.0.0/0", gw="10.0.0.1", mtu=1400, advmss=1360, priority=5, table=0, scope=0),),
    dns=DNS(nameservers=("10.0.0.1",), domain="example.test", search=("example.test",), options=("ndots:2",)),
)


def _keys_by_part(wire: dict[str, Any], version: str) -> dict[str, list[str]]:
    if version == "0.2.0":
        return {"": list(wire), "ip4": list(wire["ip4"]), "route": list(wire["ip4"]["routes"][0]), "dns": list(wire["dns"])}
    return {
        "": list(wire),
        "interface": list(wire["interfaces"][1]),
        "ip": list(wire["ips"][0]),
        "route": list(wire["routes"][0]),
        "dns": list(wire["dns"]),
    }


@pytest.mark.parametrize("version", sorted(_ALL_FIELDS_BY_LAYOUT))
def test_res_04_key_order_of_each_layout(version: str) -> None:
    """RES-04: struct field order for 0.2.0 and 0.4.0, sorted keys at every level for 1.x."""
    # Routes as a plugin wrote them: 0.2.0 routes are types.Route too and print every field they
    # hold (only a down-conversion strips them to dst and gw).
    result = replace(convert_result(_EVERYTHING, version), routes=_EVERYTHING.routes)
    wire = result_to_wire(result)
    assert _keys_by_part(wire, version) == _ALL_FIELDS_BY_LAYOUT[version]


@pytest.mark.parametrize(
    ("version", "dns_written"),
    [("0.1.0", True), ("0.2.0", True), ("0.3.0", True), ("0.3.1", True), ("0.4.0", True), ("1.0.0", False), ("1.1.0", False)],
)
def test_res_04_empty_dns_is_written_except_in_1x(version: str, dns_written: bool) -> None:
    """RES-04: ``"dns": {}`` is always there in 0.x (a struct), left out when empty in 1.x."""
    result = Result(cni_version=version, ips=(IPConfig(address="10.0.0.2/24"),))
    wire = result_to_wire(result)
    assert ("dns" in wire) is dns_written
    if dns_written:
        assert wire["dns"] == {}


@pytest.mark.parametrize("version", KNOWN_VERSIONS)
def test_res_04_empty_lists_and_strings_are_left_out(version: str) -> None:
    """RES-04: omitempty: no empty lists, empty strings or unset gateways in any layout."""
    result = Result(
        cni_version=version,
        interfaces=(Interface(name="eth0"),),
        ips=(IPConfig(address="10.0.0.2/24"),),
        routes=(Route(dst="0.0.0.0/0"),),
        dns=DNS(domain="d"),
    )
    text = result_to_json(result)
    assert "[]" not in text
    assert '""' not in text
    assert "gateway" not in text
    assert '"gw"' not in text


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
        ('"', '\\"'),
        ("\\", "\\\\"),
        ("\x01", "\\u0001"),
        ("é", "é"),
        ("日本", "日本"),
        ("🙂", "🙂"),
    ],
)
@pytest.mark.parametrize("version", ["0.2.0", "0.4.0", "1.1.0"])
def test_res_04_strings_are_escaped_as_go_does(raw: str, written: str, version: str) -> None:
    """RES-04: Go's HTML-safe escaping of <, >, & and U+2028/9; other non-ASCII stays raw UTF-8."""
    result = Result(cni_version=version, ips=(IPConfig(address="10.0.0.2/24"),), dns=DNS(domain=f"a{raw}b"))
    assert f'"domain": "a{written}b"' in result_to_json(result)


@pytest.mark.parametrize("version", KNOWN_VERSIONS)
def test_res_04_json_is_the_indented_wire_without_final_newline(version: str) -> None:
    """RES-04: MarshalIndent with four spaces, nothing after the closing brace; same content as the wire dict."""
    result = convert_result(_EVERYTHING, version)
    text = result_to_json(result)
    assert text == dumps_indented(result_to_wire(result))
    assert text.startswith('{\n    "cniVersion": ')
    assert text.endswith("\n}")


def test_res_04_zero_valued_pointers_are_written_plain_ints_are_not() -> None:
    """RES-04: interface index, route table and scope are Go pointers: 0 is written; mtu 0 is not."""
    result = Result(
        cni_version="1.1.0",
        interfaces=(Interface(name="eth0", mtu=0),),
        ips=(IPConfig(address="10.0.0.2/24", interface=0),),
        routes=(Route(dst="0.0.0.0/0", mtu=0, advmss=0, priority=0, table=0, scope=0),),
    )
    wire = result_to_wire(result)
    assert wire["interfaces"] == [{"name": "eth0"}]
    assert wire["ips"] == [{"address": "10.0.0.2/24", "interface": 0}]
    assert wire["routes"] == [{"dst": "0.0.0.0/0", "scope": 0, "table": 0}]
