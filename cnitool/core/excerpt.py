"""Plugin output cut to a size that an error message (and a terminal) can carry.

A plugin may print megabytes before it fails (a debug dump, a runaway loop). Carried whole, that
text made a 100 MB JSON error line (stdout in ``msg`` and again in the rollback error), and rich's
folding of one huge line in the error panel took minutes. Errors and the passed-on stderr of a
successful plugin (EXEC-08) therefore carry an excerpt; ``--trace``, ``--trace-file`` and
``cnitool invoke`` are the views meant for the full output and keep all of it.

The excerpt keeps both ends: the beginning says what the output is (a usage text, the first line
of a Go panic, the non-JSON a plugin printed instead of its error object), and the end is where a
failing script's last complaint or a Python traceback's exception line sits, which is why the end
gets the larger share. The middle is replaced by a marker saying how many bytes were left out.
"""

from __future__ import annotations

from cnitool.core.gojson import go_quote

# 4 KiB in all: a few dozen lines in an error panel, a few KiB in a JSON error line (an error and
# its rollback error each carry one), enough for a Python traceback's last lines at the end.
HEAD_BYTES = 1024
TAIL_BYTES = 3072


def marker(left_out: int) -> str:
    return f" … [{left_out} bytes left out] … "


def excerpt(data: bytes) -> bytes:
    """``data`` itself when it is short, else its head, the marker and its tail."""
    cut = _cut(data)
    if cut is None:
        return data
    head, left_out, tail = cut
    return head + marker(left_out).encode() + tail


def quoted_excerpt(data: bytes) -> str:
    """Go's ``%q`` of ``data`` (as libcni's messages show plugin output), cut like :func:`excerpt`.

    The marker stands between two quoted pieces, outside the quotes, so that nothing inside a
    quoted string is text the plugin did not print.
    """
    cut = _cut(data)
    if cut is None:
        return go_quote(data)
    head, left_out, tail = cut
    return go_quote(head) + marker(left_out) + go_quote(tail)


def text_excerpt(text: str) -> str:
    """The same for text already decoded (a JSON error's ``msg``/``details``, a runner's stderr).

    Cut at character positions (so no character is split); the marker counts the UTF-8 bytes
    left out, lone surrogates from JSON ``\\ud800`` escapes included.
    """
    if len(text) <= HEAD_BYTES + TAIL_BYTES:
        return text
    middle = text[HEAD_BYTES:-TAIL_BYTES]
    return text[:HEAD_BYTES] + marker(len(middle.encode("utf-8", "surrogatepass"))) + text[-TAIL_BYTES:]


def is_cut(data: bytes | str) -> bool:
    return len(data) > HEAD_BYTES + TAIL_BYTES


def _cut(data: bytes) -> tuple[bytes, int, bytes] | None:
    """Head, number of bytes left out, tail; None when ``data`` fits. Never splits a UTF-8 character."""
    if not is_cut(data):
        return None
    head_end = _character_start(data, HEAD_BYTES)
    tail_start = _character_start(data, len(data) - TAIL_BYTES)
    return data[:head_end], tail_start - head_end, data[tail_start:]


def _character_start(data: bytes, index: int) -> int:
    """``index`` moved back past UTF-8 continuation bytes (at most three), to where a character starts."""
    for _ in range(3):
        if index > 0 and 0x80 <= data[index] < 0xC0:
            index -= 1
    return index
