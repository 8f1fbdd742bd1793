"""Huge plugin output is cut in errors and in passed-on stderr (EXEC-07, EXEC-08), with a marker.

Bug report: a plugin that printed 50 MB before failing made a ~100 MB JSON error line (its
stdout in ``msg`` and again in the rollback error) and an error panel that never finished
rendering. No process runs here: FakeRunner answers for the plugins.
"""

from __future__ import annotations

import json

import pytest

from cnitool.core.api import Cni
from cnitool.core.errors import PluginFailed, PluginTimeout
from cnitool.core.excerpt import HEAD_BYTES, TAIL_BYTES, excerpt, marker, quoted_excerpt, text_excerpt
from cnitool.core.gojson import go_quote
from cnitool.core.loader import load_network_bytes
from cnitool.core.netconf import PluginConfig
from cnitool.core.pluginexec import PluginCaller, plugin_failure
from cnitool.core.runtime import RuntimeConf
from unit_fakes import FakeRunner, fail, ok

BIG = 5_000_000
FAKE = PluginConfig({"type": "fake"})
RUNTIME = RuntimeConf("c1", "/var/run/netns/ns1", "eth0")
BOUND = 4 * (HEAD_BYTES + TAIL_BYTES) + 200  # go_quote may show a byte as \xNN (4 characters)


def test_short_output_is_kept_as_it_is() -> None:
    data = b"x" * (HEAD_BYTES + TAIL_BYTES)
    assert excerpt(data) == data
    assert quoted_excerpt(data) == go_quote(data)
    assert text_excerpt(data.decode()) == data.decode()


def test_long_output_keeps_head_and_tail_and_counts_what_was_left_out() -> None:
    data = b"H" * HEAD_BYTES + b"m" * BIG + b"T" * TAIL_BYTES
    assert excerpt(data) == b"H" * HEAD_BYTES + marker(BIG).encode() + b"T" * TAIL_BYTES
    assert marker(BIG) == f" … [{BIG} bytes left out] … "
    assert quoted_excerpt(data) == go_quote(b"H" * HEAD_BYTES) + marker(BIG) + go_quote(b"T" * TAIL_BYTES)


def test_the_cut_never_splits_a_utf8_character() -> None:
    """A cut inside a multi-byte character moves back to its first byte: both ends stay valid UTF-8."""
    data = "é".encode() * (HEAD_BYTES + TAIL_BYTES)  # 2 bytes each: every odd offset is inside one
    data = b"a" + data  # make HEAD_BYTES fall on a continuation byte
    head, _, rest = excerpt(data).partition(b" \xe2\x80\xa6 [")
    _, _, tail = rest.partition("] … ".encode())
    assert head.decode() and tail.decode()  # raise if a character were split
    left_out = int(rest.split(b" ")[0])
    assert len(head) + left_out + len(tail) == len(data)


def test_text_excerpt_counts_utf8_bytes_also_of_lone_surrogates() -> None:
    middle = "\ud800" * 10 + "é" * 10  # a JSON "\ud800" escape decodes to a lone surrogate
    text = "h" * HEAD_BYTES + middle + "t" * TAIL_BYTES
    assert text_excerpt(text) == "h" * HEAD_BYTES + marker(3 * 10 + 2 * 10) + "t" * TAIL_BYTES


def test_exec_07_stdout_that_is_not_json_is_shown_cut_in_msg() -> None:
    """EXEC-07: the reference's wording, the quoted stdout cut between its two ends, and a hint."""
    stdout = b"x" * BIG + b"END"
    error = plugin_failure(FAKE, "ADD", fail(stdout))
    left_out = len(stdout) - HEAD_BYTES - TAIL_BYTES
    assert error.msg == (
        'plugin type="fake" failed (add): netplugin failed but error parsing its diagnostic message '
        f'{go_quote(b"x" * HEAD_BYTES)}{marker(left_out)}{go_quote(stdout[-TAIL_BYTES:])}: not a JSON error object'
    )
    assert error.hint is not None and "--trace" in error.hint


def test_exec_07_stderr_alone_is_cut_in_msg_and_in_the_stderr_field() -> None:
    """EXEC-07 (stdout empty: stderr and the exit status), the last words of stderr kept."""
    stderr = b"y" * BIG + b"\nthe real error\n"
    error = plugin_failure(FAKE, "DEL", fail(b"", stderr, exit_status=2))
    assert error.msg.startswith('plugin type="fake" failed (delete): netplugin failed: "yyy')
    assert error.msg.endswith('the real error\\n": exit status 2')
    assert error.stderr.endswith("\nthe real error\n")
    assert marker(len(stderr) - HEAD_BYTES - TAIL_BYTES) in error.msg
    assert marker(len(stderr) - HEAD_BYTES - TAIL_BYTES) in error.stderr
    assert len(error.msg) < BOUND and len(error.stderr) < BOUND


def test_exec_07_huge_msg_and_details_of_a_json_error_are_cut() -> None:
    stdout = json.dumps({"code": 111, "msg": "m" * BIG, "details": "d" * BIG}).encode()
    error = plugin_failure(FAKE, "ADD", fail(stdout))
    assert error.code == 111
    assert marker(BIG - HEAD_BYTES - TAIL_BYTES) in error.msg
    assert error.details == "d" * HEAD_BYTES + marker(BIG - HEAD_BYTES - TAIL_BYTES) + "d" * TAIL_BYTES
    assert len(json.dumps(error.to_dict())) < 2 * BOUND


def test_exec_07_short_output_gets_no_marker_and_no_hint() -> None:
    error = plugin_failure(FAKE, "ADD", fail(b"not json", b"some stderr"))
    assert "left out" not in error.msg and error.stderr == "some stderr"
    assert error.hint is None


def test_exec_08_successful_plugins_stderr_is_passed_on_cut() -> None:
    """EXEC-08: the sink gets the excerpt, the caller still gets the whole stdout."""
    stderr = b"z" * BIG
    seen: list[tuple[str, bytes]] = []
    caller = PluginCaller(FakeRunner().script("fake", "DEL", ok(b"", stderr)), ("/x",),
                          lambda who, data: seen.append((who, data)))
    caller.call(FAKE, "DEL", b"{}", RUNTIME)
    assert seen == [("fake", excerpt(stderr))]


def test_exec_09_a_timed_out_plugins_stderr_is_cut() -> None:
    """The runner's own errors (timeout) carry the plugin's stderr too: cut the same way."""
    runner = FakeRunner().script("fake", "ADD", PluginTimeout("timed out", stderr="s" * BIG))
    with pytest.raises(PluginTimeout) as caught:
        PluginCaller(runner, ("/x",)).call(FAKE, "ADD", b"{}", RUNTIME)
    assert caught.value.stderr == text_excerpt("s" * BIG)
    assert marker(BIG - HEAD_BYTES - TAIL_BYTES) in caught.value.stderr


def test_add_02_rollback_error_is_cut_too(runner: FakeRunner, cni: Cni) -> None:
    """ADD-02: the failing plugin's DEL fails as loudly; the rollback error is an excerpt as well."""
    network, _ = load_network_bytes(b'{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"fake"}]}',
                                    source="n.conflist", is_list=True)
    runner.script("fake", "ADD", fail(b"a" * BIG)).script("fake", "DEL", fail(b"d" * BIG))
    with pytest.raises(PluginFailed) as caught:
        cni.add(network, RUNTIME)
    error = caught.value
    assert [str(err) for err in error.rollback_errors] and all(
        marker(BIG - HEAD_BYTES - TAIL_BYTES) in str(err) for err in error.rollback_errors)
    assert len(json.dumps(error.to_dict())) < 3 * BOUND
