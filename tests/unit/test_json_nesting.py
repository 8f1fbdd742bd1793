"""JSON nested too deeply, wherever JSON comes in from outside (found by a user trial).

One config file ``{"x": [[[...1000 levels...]]]}`` in the conf dir made every verb exit 70 with
``RecursionError`` from Python's decoder, as would a plugin printing such a result, a cache entry
or CAP_ARGS. Every decoder of outside JSON now refuses more than ``MAX_NESTING`` levels with the
position where the limit is crossed, and each caller reports it like any other undecodable text
of its kind: a skipped config file (LOAD-05), a plugin error, a cache error, a usage error.
Documents at the limit go through every recursive walker of ours, also from a deep call stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cnitool.core import jsondecode
from cnitool.core.errors import CacheError, ConfigError, InvalidResult, UsageError
from cnitool.core.jsondecode import MAX_NESTING, NestingTooDeep

TOO_DEEP = "nested too deeply"


def arrays(levels: int, inner: str = "") -> str:
    return "[" * levels + inner + "]" * levels


def nested_value(levels: int) -> Any:
    """``levels`` arrays inside each other, built without recursion."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def at_stack_depth(frames: int, call: Callable[[], Any]) -> Any:
    """``call()`` from ``frames`` Python frames deeper: a command runs below click and our own code."""
    if frames == 0:
        return call()
    return at_stack_depth(frames - 1, call)


# ----------------------------------------------------------------------------- the decoder


def test_a_document_at_the_limit_decodes_and_one_level_more_is_refused_where_it_crosses() -> None:
    assert jsondecode.nesting(jsondecode.loads(arrays(MAX_NESTING))) == MAX_NESTING
    with pytest.raises(NestingTooDeep) as caught:
        jsondecode.loads('{"a": ' + arrays(MAX_NESTING) + "}")
    assert caught.value.pos == len('{"a": ') + MAX_NESTING - 1  # the bracket of level MAX_NESTING + 1
    assert (caught.value.lineno, caught.value.colno) == (1, caught.value.pos + 1)
    assert TOO_DEEP in caught.value.msg and str(MAX_NESTING) in caught.value.msg
    assert isinstance(caught.value, json.JSONDecodeError)  # what every caller already handles


@pytest.mark.parametrize("levels", [1000, 100_000])
def test_a_document_the_decoder_cannot_recurse_into_is_refused_not_a_recursion_error(levels: int) -> None:
    objects = '{"x":' + '{"k":' * levels + "1" + "}" * levels + "}"
    for data, crossing in ((arrays(levels), MAX_NESTING), (arrays(levels).encode(), MAX_NESTING),
                           (objects, 5 * MAX_NESTING)):
        with pytest.raises(NestingTooDeep) as caught:
            jsondecode.loads(data)
        assert caught.value.pos == crossing


def test_brackets_in_strings_do_not_count_and_a_custom_limit_applies() -> None:
    text = json.dumps({"s": "[" * 5000 + '\\"{' * 100, "t": ["]]]", "{{{"]})
    assert jsondecode.loads(text)["t"] == ["]]]", "{{{"]
    assert jsondecode.loads("[[1]]", max_nesting=2) == [[1]]
    with pytest.raises(NestingTooDeep):
        jsondecode.loads("[[[1]]]", max_nesting=2)
    assert jsondecode.nesting(5) == 0 and jsondecode.nesting({"a": [{}], "b": []}) == 3


# ------------------------------------------------------------------ config files (LOAD-05)


def deep_config(levels: int) -> str:
    return '{"cniVersion":"1.0.0","name":"deep","x": ' + arrays(levels) + ',"plugins":[{"type":"bridge"}]}'


def good_config(name: str = "good") -> str:
    return json.dumps({"cniVersion": "1.0.0", "name": name, "plugins": [{"type": "bridge"}]})


def test_load_05_a_deep_file_is_skipped_with_a_warning_and_other_networks_load(tmp_path: Path) -> None:
    from cnitool.core.loader import discover, find_network

    (tmp_path / "10-deep.conflist").write_text(deep_config(1000))
    (tmp_path / "20-good.conflist").write_text(good_config())
    network, warnings = find_network("good", [str(tmp_path)])
    assert network.name == "good"
    [warning] = warnings
    assert str(tmp_path / "10-deep.conflist") in warning and TOO_DEEP in warning
    assert "invalid JSON" not in warning  # it is JSON, just deeper than we go

    discovery = discover([str(tmp_path)])
    assert [n.name for n in discovery.networks] == ["good"]
    [problem] = discovery.problems
    assert problem.path == str(tmp_path / "10-deep.conflist") and TOO_DEEP in problem.message
    assert (problem.line, problem.column) == (1, len('{"cniVersion":"1.0.0","name":"deep","x": ') + MAX_NESTING)


def test_a_deep_config_on_stdin_or_given_as_a_file_is_a_config_error(tmp_path: Path) -> None:
    from cnitool.core.loader import load_file, load_network_bytes

    with pytest.raises(ConfigError, match=TOO_DEEP):
        load_network_bytes(deep_config(100_000).encode(), source="<stdin>", is_list=None)
    path = tmp_path / "deep.conf"
    path.write_text('{"cniVersion":"1.0.0","name":"deep","type":"bridge","x":' + arrays(5000) + "}")
    with pytest.raises(ConfigError, match=TOO_DEEP):
        load_file(str(path))


def test_lint_and_completion_read_past_a_deep_file(tmp_path: Path) -> None:
    from cnitool.cli.complete import network_names
    from cnitool.core.lint import sniff_name

    (tmp_path / "10-deep.conflist").write_text(deep_config(1000))
    (tmp_path / "20-good.conflist").write_text(good_config())
    assert sniff_name(str(tmp_path / "10-deep.conflist")) is None
    assert set(network_names([str(tmp_path)])) == {"good"}


def test_a_config_at_the_limit_goes_through_the_request_and_the_cache_from_a_deep_stack() -> None:
    """The value of a plugin key can be MAX_NESTING - 3 deep (file, plugins array, plugin object);
    building its request config (Go-style re-encoding), caching and reading back work."""
    from cnitool.core.cache import CacheEntry, parse_entry
    from cnitool.core.loader import load_network_bytes
    from cnitool.core.request import build_request
    from cnitool.core.runtime import parse_cap_args

    inner = MAX_NESTING - 3
    text = '{"cniVersion":"1.0.0","name":"edge","plugins":[{"type":"bridge","capabilities":{"deep":true},"x":' \
        + arrays(inner) + "}]}"
    caps = parse_cap_args('{"deep":' + arrays(MAX_NESTING - 1) + "}")

    def everything() -> None:
        network, _ = load_network_bytes(text.encode(), source="<stdin>", is_list=None)
        request = json.loads(build_request(network, network.plugins[0], capability_args=caps))
        assert jsondecode.nesting(request["x"]) == inner
        assert jsondecode.nesting(request["runtimeConfig"]["deep"]) == MAX_NESTING - 1
        entry = CacheEntry("edge", "id", "eth0", network.raw_bytes, {"cniVersion": "1.0.0"},
                           capability_args=caps)
        again = parse_entry(entry.to_json().encode(), path="entry")
        assert again.capability_args == caps
        # A single-plugin config is lifted into a list two levels deeper, which is cached and
        # read again when its file is gone: the lifted list stays within the limit.
        def single(levels: int) -> bytes:
            return b'{"cniVersion":"1.0.0","name":"one","type":"bridge","x":' + arrays(levels).encode() + b"}"

        lifted, _ = load_network_bytes(single(MAX_NESTING - 3), source="<stdin>", is_list=False)
        assert jsondecode.nesting(json.loads(lifted.raw_bytes)) == MAX_NESTING
        assert load_network_bytes(lifted.raw_bytes, source="<cache>", is_list=True)[0].name == "one"
        with pytest.raises(ConfigError, match=TOO_DEEP):
            load_network_bytes(single(MAX_NESTING - 2), source="<stdin>", is_list=False)

    at_stack_depth(200, everything)


def test_our_walkers_take_the_deepest_documents_we_accept_from_a_deep_stack() -> None:
    from cnitool.core.gojson import dumps_go_interface, replace_lone_surrogates, sorted_deep

    value = {"k": nested_value(MAX_NESTING + 2)}

    def walk() -> None:
        assert json.loads(dumps_go_interface(value)) == value
        assert replace_lone_surrogates(value) == value
        assert sorted_deep(value) == value
        json.dumps(value, indent=2)  # our own documents (show, list ...) are written indented

    at_stack_depth(200, walk)


# --------------------------------------------------------------- plugin output and VERSION


def test_a_deep_plugin_result_is_an_invalid_result() -> None:
    from cnitool.core.result import parse_result

    with pytest.raises(InvalidResult, match=TOO_DEEP) as caught:
        parse_result(b'{"cniVersion":"1.0.0","ips":' + arrays(100_000).encode() + b"}", default_version="1.0.0")
    assert len(caught.value.details) < 1000  # the output shown is cut


def test_a_deep_error_or_version_answer_is_a_plugin_error() -> None:
    from cnitool.core.netconf import PluginConfig
    from cnitool.core.pluginexec import plugin_failure
    from cnitool.core.runner import PluginOutput
    from cnitool.core.versioninfo import _decode, _reported_message

    deep = arrays(100_000).encode()
    failure = plugin_failure(PluginConfig({"type": "p"}), "ADD", PluginOutput(1, deep, b"", 0.1))
    assert "not a JSON error object" in failure.msg
    assert _reported_message(deep) is None
    with pytest.raises(InvalidResult, match=TOO_DEEP):
        _decode("p", b'{"cniVersion":"1.0.0","supportedVersions":' + deep + b"}")


# ------------------------------------------------------------------------ cache (CACHE-05)


def test_a_deep_cache_entry_is_a_cache_error_naming_the_file() -> None:
    from cnitool.core.cache import parse_entry

    for document in ('{"kind":"cniCacheV1","result":{"x":' + arrays(100_000) + "}}", arrays(2000)):
        with pytest.raises(CacheError) as caught:
            parse_entry(document.encode(), path="/cache/results/n-id-eth0")
        assert "/cache/results/n-id-eth0" in caught.value.msg and TOO_DEEP in caught.value.msg


def test_show_reads_a_cached_config_too_deep_to_parse() -> None:
    from cnitool.cli.show import cached_result
    from cnitool.core.cache import CacheEntry

    entry = CacheEntry("n", "id", "eth0", deep_config(100_000).encode(), {"ips": []})
    result = cached_result(entry)
    assert result is not None and result.ips == ()


# ------------------------------------------------------------------------ CAP_ARGS, --cap


def test_deep_cap_args_and_cap_values_are_usage_errors() -> None:
    from cnitool.core.runtime import parse_cap_args, parse_cap_option

    with pytest.raises(UsageError, match=TOO_DEEP):
        parse_cap_args('{"portMappings":' + arrays(100_000) + "}")
    with pytest.raises(UsageError, match=TOO_DEEP):
        parse_cap_option("portMappings=" + arrays(100_000))
    # A --cap value becomes a member of the capability args object: one level less is left for it.
    assert parse_cap_option("x=" + arrays(MAX_NESTING - 1))[0] == "x"
    with pytest.raises(UsageError, match=TOO_DEEP):
        parse_cap_option("x=" + arrays(MAX_NESTING))
