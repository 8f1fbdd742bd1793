"""JSON text as Go's encoding/json writes it, so our output and cache files match the reference's bytes.

Go escapes ``<``, ``>`` and ``&`` (HTML-safe by default) and U+2028/U+2029, and writes all other
non-ASCII characters as raw UTF-8 (RES-04). ``MarshalIndent(v, "", "    ")`` separates with
``": "``; ``Marshal`` writes no spaces at all. Maps are written with sorted keys; structs in field
order, which callers express by building dicts in that order.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

# Characters Go escapes that Python's encoder (ensure_ascii=False) leaves alone. They can only
# appear inside JSON strings, so replacing them in the encoded text is safe.
_GO_EXTRA_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def dumps_indented(value: Any, *, sort_keys: bool = False) -> str:
    """``json.MarshalIndent(value, "", "    ")`` without a trailing newline."""
    text = json.dumps(value, ensure_ascii=False, indent=4, separators=(",", ": "), sort_keys=sort_keys)
    return text.translate(_GO_EXTRA_ESCAPES)


def dumps_compact(value: Any, *, sort_keys: bool = False) -> str:
    """``json.Marshal(value)``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    return text.translate(_GO_EXTRA_ESCAPES)


# The recursive walkers below take one Python frame per level of nesting (plain loops, no
# comprehension or generator frames in between): documents from outside are at most
# jsondecode.MAX_NESTING levels deep, and that must stay far inside Python's recursion limit.


def sorted_deep(value: Any) -> Any:
    """A copy with every object's keys sorted, as Go writes a ``map[string]interface{}``."""
    if isinstance(value, dict):
        copy = {}
        for key in sorted(value):
            copy[key] = sorted_deep(value[key])
        return copy
    if isinstance(value, list):
        items = []
        for item in value:
            items.append(sorted_deep(item))
        return items
    return value


def json_type(value: Any, *, article: bool = False) -> str:
    """The JSON type of a decoded value as our messages name it: ``null``, ``boolean``, ``number``,
    ``string``, ``array`` or ``object``; with ``article``, ``a string``, ``an array``, ... (``null``
    takes none). A tuple counts as an array, like a list."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        name = "boolean"
    elif isinstance(value, (int, float)):
        name = "number"
    elif isinstance(value, str):
        name = "string"
    elif isinstance(value, (list, tuple)):
        name = "array"
    else:
        name = "object"
    if not article:
        return name
    return ("an " if name in ("array", "object") else "a ") + name


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_lone_surrogates(value: Any) -> Any:
    """What Go's decoder makes of a lone UTF-16 surrogate escape (``"\\ud800"``): U+FFFD.

    Python's json keeps it as a surrogate code point, which cannot then be written as UTF-8 (to
    the terminal, a cache file or a plugin's stdin). A byte that is not UTF-8, which ``os.environ``
    keeps as U+DC80..U+DCFF, becomes U+FFFD too, as Go's decoder replaces invalid UTF-8. Strings
    inside lists and objects, keys included, are replaced as well; other values are returned as
    they are.
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        items = []
        for item in value:
            items.append(replace_lone_surrogates(item))
        return items
    if isinstance(value, dict):
        copy = {}
        for key, item in value.items():
            copy[_LONE_SURROGATE.sub("\ufffd", key) if isinstance(key, str) else key] = replace_lone_surrogates(item)
        return copy
    return value


def go_float_text(number: float) -> str:
    """encoding/json's text for a float64: the shortest digits that round-trip, in plain notation
    unless |x| < 1e-6 or |x| >= 1e21, then ``1e-7`` / ``1e+21`` (Go trims ``e-07`` to ``e-7``)."""
    if not math.isfinite(number):
        raise ValueError(f"json: unsupported value: {number!r}")  # as Go's Marshal refuses NaN/Inf
    if number == 0:
        return "-0" if math.copysign(1.0, number) < 0 else "0"
    exact = Decimal(repr(number)).normalize()
    if 1e-6 <= abs(number) < 1e21:
        return format(exact, "f")
    sign, digits, exponent = exact.as_tuple()
    assert isinstance(exponent, int)
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    power = exponent + len(digits) - 1
    return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power)}"


def dumps_go_interface(value: Any) -> str:
    """``json.Marshal`` of what Go's decoder builds from JSON into an ``interface{}``.

    Objects are maps (keys sorted at every level) and every number is a float64, so ``1.0`` is
    written ``1`` and a 20-digit integer loses its low digits, exactly as libcni re-marshals a
    plugin object it injected keys into (InjectConf).
    """
    if isinstance(value, dict):
        members = []
        for key in sorted(value):
            members.append(f"{dumps_compact(key)}:{dumps_go_interface(value[key])}")
        return "{" + ",".join(members) + "}"
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            items.append(dumps_go_interface(item))
        return "[" + ",".join(items) + "]"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return dumps_compact(value)
    if isinstance(value, (int, float)):
        return go_float_text(float(value))
    return dumps_compact(value)


_QUOTE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(value: str | bytes) -> str:
    """Go's ``%q`` / ``strconv.Quote``: the form libcni's messages show plugin names and output in.

    Printable characters stay as they are; control characters become ``\\n``, ``\\x01``, ...;
    other non-printable ones ``\\uXXXX``; bytes that are not UTF-8 ``\\xHH``.
    """
    text = value.decode("utf-8", errors="surrogateescape") if isinstance(value, bytes) else value
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[char])
        elif 0xDC80 <= code <= 0xDCFF and isinstance(value, bytes):  # an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable():  # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, ' '
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
