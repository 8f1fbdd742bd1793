"""JSON text as Go's encoding/json writes it, so our output and cache files match the reference's bytes.

Go escapes ``<``, ``>`` and ``&`` (HTML-safe by default) and U+2028/U+2029, and writes all other
non-ASCII characters as raw UTF-8 (RES-04). ``MarshalIndent(v, "", "    ")`` separates with
``": "``; ``Marshal`` writes no spaces at all. Maps are written with sorted keys; structs in field
order, which callers express by building dicts in that order.
"""

from __future__ import annotations

import json
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


def sorted_deep(value: Any) -> Any:
    """A copy with every object's keys sorted, as Go writes a ``map[string]interface{}``."""
    if isinstance(value, dict):
        return {key: sorted_deep(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_deep(item) for item in value]
    return value
