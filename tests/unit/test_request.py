"""The request config a plugin reads on stdin (REQ-01 … REQ-06).

libcni builds it with InjectConf: the plugin object is decoded into a Go map, keys are injected,
and the map is re-marshalled with json.Marshal: keys sorted at every level, compact, HTML
characters escaped, numbers as float64. An injected prevResult is marshalled as the Go result
type, so it keeps its own version's layout. The expected bytes below are written out by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from cnitool.core.request import build_gc_request, build_request, build_status_request
from cnitool.core.result import convert_result, parse_result
from unit_fakes import make_network

RESULT_100 = {
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "eth0", "mac": "aa:bb:cc:dd:ee:ff", "sandbox": "/var/run/netns/ns1"}],
    "ips": [{"address": "10.0.0.2/24", "gateway": "10.0.0.1", "interface": 0}],
    "routes": [{"dst": "0.0.0.0/0"}],
}
WIRE_100 = (
    '{"cniVersion":"1.0.0","interfaces":[{"mac":"aa:bb:cc:dd:ee:ff","name":"eth0","sandbox":"/var/run/netns/ns1"}],'
    '"ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1","interface":0}],"routes":[{"dst":"0.0.0.0/0"}]}'
)
WIRE_040 = (
    '{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","sandbox":"/var/run/netns/ns1"}],'
    '"ips":[{"version":"4","interface":0,"address":"10.0.0.2/24","gateway":"10.0.0.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}'
)
CAP_ARGS = {
    "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
    "mac": "02:00:00:00:00:01",
    "bandwidth": {"ingressRate": 1000},
}


def plugin(**extra: Any) -> dict[str, Any]:
    return {"type": "bridge", **extra}


def test_req_01_name_and_version_injected_unknown_keys_kept_sorted() -> None:
    """REQ-01: the object as written (unknown keys kept, nested keys sorted), name/cniVersion set."""
    network = make_network(
        [plugin(name="own", cniVersion="0.3.1", zeta={"b": 1, "a": [{"y": 1, "x": 2}]}, bridge="cni0", isGateway=True)],
        version="1.0.0",
    )
    assert build_request(network, network.plugins[0]) == (
        b'{"bridge":"cni0","cniVersion":"1.0.0","isGateway":true,"name":"net1","type":"bridge",'
        b'"zeta":{"a":[{"x":2,"y":1}],"b":1}}'
    )


def test_req_01_no_version_passes_empty_string() -> None:
    """REQ-01: a network with neither cniVersion nor cniVersions passes "" as the reference does."""
    network = make_network([plugin()], version=None)
    assert build_request(network, network.plugins[0]) == b'{"cniVersion":"","name":"net1","type":"bridge"}'


def test_req_01_effective_version_from_cni_versions() -> None:
    """REQ-01 with VER-03: the injected version is the effective one, not cniVersion as written."""
    network = make_network([plugin()], version="0.4.0", cniVersions=["1.0.0", "1.1.0", "9.0.0"])
    assert build_request(network, network.plugins[0]) == b'{"cniVersion":"1.1.0","name":"net1","type":"bridge"}'


def test_req_01_go_escaping() -> None:
    """REQ-01 with RES-04: Go's json.Marshal escapes <, >, & and U+2028/9, keeps other UTF-8 raw."""
    network = make_network([plugin(note="<a&b> é\u2028")], version="1.0.0")
    assert build_request(network, network.plugins[0]) == (
        '{"cniVersion":"1.0.0","name":"net1","note":"\\u003ca\\u0026b\\u003e é\\u2028","type":"bridge"}'.encode()
    )


def test_req_01_numbers_as_go_float64() -> None:
    """REQ-01: Go decodes the plugin object into interface{}, so numbers are float64 when re-marshalled."""
    network = make_network(
        [plugin(mtu=1500, ratio=1.0, half=0.5, tiny=1e-7, huge=1e21, big=12345678901234567890, neg=-2.50)],
        version="1.0.0",
    )
    assert build_request(network, network.plugins[0]) == (
        b'{"big":12345678901234567000,"cniVersion":"1.0.0","half":0.5,"huge":1e+21,"mtu":1500,'
        b'"name":"net1","neg":-2.5,"ratio":1,"tiny":1e-7,"type":"bridge"}'
    )


def test_req_02_runtime_config_only_declared_and_supplied() -> None:
    """REQ-02: capabilities declared true and supplied; false or unsupplied ones are left out."""
    network = make_network(
        [plugin(capabilities={"portMappings": True, "mac": False, "ips": True})],
        version="0.4.0",
    )
    assert build_request(network, network.plugins[0], capability_args=CAP_ARGS) == (
        b'{"capabilities":{"ips":true,"mac":false,"portMappings":true},"cniVersion":"0.4.0","name":"net1",'
        b'"runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"type":"bridge"}'
    )


def test_req_02_runtime_config_replaces_static_one() -> None:
    """REQ-02: when a capability matched, runtimeConfig replaces a static one from the file entirely."""
    network = make_network(
        [plugin(capabilities={"mac": True}, runtimeConfig={"static": 1, "mac": "00:00:00:00:00:09"})],
        version="1.0.0",
    )
    assert build_request(network, network.plugins[0], capability_args=CAP_ARGS) == (
        b'{"cniVersion":"1.0.0","name":"net1","runtimeConfig":{"mac":"02:00:00:00:00:01"},"type":"bridge"}'
    )


def test_req_02_static_runtime_config_kept_when_nothing_matched() -> None:
    """REQ-02: runtimeConfig is written only when at least one capability matched."""
    network = make_network(
        [plugin(capabilities={"mac": True}, runtimeConfig={"z": 1, "a": 2})],
        version="1.0.0",
    )
    expected = b'{"cniVersion":"1.0.0","name":"net1","runtimeConfig":{"a":2,"z":1},"type":"bridge"}'
    assert build_request(network, network.plugins[0], capability_args={"portMappings": []}) == expected
    assert build_request(network, network.plugins[0]) == expected


def test_req_03_prev_result_in_its_version_layout() -> None:
    """REQ-03: prevResult is the Go result type marshalled (struct order for 0.4.0), the rest sorted."""
    network = make_network([plugin(zz=1)], version="0.4.0")
    prev = convert_result(parse_result(RESULT_100, default_version="1.0.0"), "0.4.0")
    assert build_request(network, network.plugins[0], prev_result=prev) == (
        b'{"cniVersion":"0.4.0","name":"net1","prevResult":' + WIRE_040.encode() + b',"type":"bridge","zz":1}'
    )


def test_req_03_prev_result_with_injected_runtime_config_is_a_sorted_map() -> None:
    """REQ-02 + REQ-03: libcni injects runtimeConfig with a second InjectConf that re-reads the
    whole object as a Go map, so the 0.4.0 prevResult loses its struct order: keys sorted."""
    network = make_network([plugin(capabilities={"mac": True})], version="0.4.0")
    prev = convert_result(parse_result(RESULT_100, default_version="1.0.0"), "0.4.0")
    sorted_040 = (
        '{"cniVersion":"0.4.0","dns":{},"interfaces":[{"mac":"aa:bb:cc:dd:ee:ff","name":"eth0",'
        '"sandbox":"/var/run/netns/ns1"}],"ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1","interface":0,'
        '"version":"4"}],"routes":[{"dst":"0.0.0.0/0"}]}'
    )
    assert build_request(network, network.plugins[0], prev_result=prev, capability_args=CAP_ARGS) == (
        b'{"capabilities":{"mac":true},"cniVersion":"0.4.0","name":"net1","prevResult":' + sorted_040.encode()
        + b',"runtimeConfig":{"mac":"02:00:00:00:00:01"},"type":"bridge"}'
    )


def test_req_03_prev_result_1_0_sorted() -> None:
    network = make_network([plugin()], version="1.0.0")
    prev = parse_result(RESULT_100, default_version="1.0.0")
    assert build_request(network, network.plugins[0], prev_result=prev) == (
        b'{"cniVersion":"1.0.0","name":"net1","prevResult":' + WIRE_100.encode() + b',"type":"bridge"}'
    )


def test_req_03_injected_prev_result_replaces_static_one() -> None:
    network = make_network([plugin(prevResult={"cniVersion": "1.0.0", "static": True})], version="1.0.0")
    prev = parse_result(RESULT_100, default_version="1.0.0")
    assert build_request(network, network.plugins[0], prev_result=prev) == (
        b'{"cniVersion":"1.0.0","name":"net1","prevResult":' + WIRE_100.encode() + b',"type":"bridge"}'
    )


def test_req_03_static_prev_result_without_injection_is_a_sorted_map() -> None:
    """REQ-03: with nothing injected, a prevResult written in the file is just a map: keys sorted."""
    network = make_network([plugin(prevResult={"z": 1, "cniVersion": "1.0.0", "a": {"y": 1, "b": 2}})], version="1.0.0")
    assert build_request(network, network.plugins[0]) == (
        b'{"cniVersion":"1.0.0","name":"net1","prevResult":{"a":{"b":2,"y":1},"cniVersion":"1.0.0","z":1},"type":"bridge"}'
    )


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_req_04_capabilities_removed_from_1_0_0(version: str) -> None:
    """REQ-04 OURS: spec 1.0+ removes ``capabilities`` from the request config."""
    network = make_network([plugin(capabilities={"mac": True})], version=version)
    assert build_request(network, network.plugins[0], capability_args=CAP_ARGS) == (
        f'{{"cniVersion":"{version}","name":"net1","runtimeConfig":{{"mac":"02:00:00:00:00:01"}},"type":"bridge"}}'.encode()
    )


@pytest.mark.parametrize("version", ["0.3.1", "0.4.0"])
def test_req_04_capabilities_kept_below_1_0_0(version: str) -> None:
    network = make_network([plugin(capabilities={"mac": True})], version=version)
    assert build_request(network, network.plugins[0]) == (
        f'{{"capabilities":{{"mac":true}},"cniVersion":"{version}","name":"net1","type":"bridge"}}'.encode()
    )


def test_req_05_gc_request() -> None:
    """REQ-05: valid attachments under the new and the legacy key; no runtimeConfig, no prevResult."""
    network = make_network([plugin(capabilities={"mac": True}, ipam={"type": "host-local"})], version="1.1.0")
    data = build_gc_request(network, network.plugins[0], [("c1", "eth0"), ("c2", "net1")])
    attachments = '[{"containerID":"c1","ifname":"eth0"},{"containerID":"c2","ifname":"net1"}]'
    assert data == (
        f'{{"cni.dev/attachments":{attachments},"cni.dev/valid-attachments":{attachments},'
        f'"cniVersion":"1.1.0","ipam":{{"type":"host-local"}},"name":"net1","type":"bridge"}}'
    ).encode()


def test_req_05_gc_request_empty_valid_set() -> None:
    network = make_network([plugin()], version="1.1.0")
    assert build_gc_request(network, network.plugins[0], []) == (
        b'{"cni.dev/attachments":[],"cni.dev/valid-attachments":[],"cniVersion":"1.1.0","name":"net1","type":"bridge"}'
    )


def test_req_06_status_request() -> None:
    """REQ-06: STATUS gets the plugin object plus name and cniVersion, nothing else."""
    network = make_network([plugin(name="own", b=[3, 1])], version="1.1.0")
    assert build_status_request(network, network.plugins[0]) == (
        b'{"b":[3,1],"cniVersion":"1.1.0","name":"net1","type":"bridge"}'
    )
