"""Decoding JSON from outside (config files, plugin output, cache entries, CAP_ARGS) with a nesting limit.

Python's decoder recurses once per array or object, so a document nested about a thousand levels
deep raises ``RecursionError`` (a ``RuntimeError``, not the ``ValueError`` every caller handles)
at a depth that depends on how deep the caller's own stack already is; and whatever decodes
could still break our own recursive walkers (``gojson``, ``replace_lone_surrogates``) later. One
file in the config directory, one plugin's output or one cache entry made every command exit 70.

So every document from outside is decoded here, and one nested deeper than ``MAX_NESTING``
levels is refused with :class:`NestingTooDeep`, a ``json.JSONDecodeError`` with the position
where the limit is crossed. Every caller already turns a ``JSONDecodeError`` into its own kind of
error (a skipped config file, a plugin error, a cache error, a usage error), and so that is what a
document too deep becomes. Go's encoding/json allows 10000 levels; no CNI config, result or
capability argument needs more than a handful, and 256 leaves our recursive code (the decoder,
the encoder and ``gojson``'s walkers take one Python frame a level) far inside Python's default
limit of 1000 frames.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_NESTING = 256

# What a depth scan has to tell apart: a string (skipped whole, escapes included; one cut short
# runs to the end) and the four brackets. Nothing else nests.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.DOTALL)


class NestingTooDeep(json.JSONDecodeError):
    """A document nested deeper than the limit; ``pos`` is where the level past the limit opens."""

    def __init__(self, doc: str, pos: int, limit: int) -> None:
        super().__init__(f"nested too deeply (more than {limit} levels of arrays and objects)", doc, pos)
        self.limit = limit


def loads(data: str | bytes | bytearray, *, max_nesting: int = MAX_NESTING, **hooks: Any) -> Any:
    """``json.loads(data, **hooks)``, refusing a document nested deeper than ``max_nesting``.

    Raises what ``json.loads`` raises (``JSONDecodeError``, ``UnicodeDecodeError``, a hook's own
    error), and :class:`NestingTooDeep` for a document too deep, whether the decoder ran out of
    stack on it or decoded it.
    """
    try:
        value = json.loads(data, **hooks)
    except RecursionError:
        raise _too_deep(data, max_nesting) from None
    if _may_nest_deeper(data, max_nesting) and nesting(value) > max_nesting:
        raise _too_deep(data, max_nesting)
    return value


def nesting(value: Any) -> int:
    """How many arrays and objects deep ``value`` goes (0 for a scalar), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children if isinstance(child, (dict, list, tuple)))
    return deepest


def _may_nest_deeper(data: str | bytes | bytearray, limit: int) -> bool:
    """False when the text has too few brackets to nest past ``limit``: most documents, at C speed."""
    if isinstance(data, str):
        return data.count("[") + data.count("{") > limit
    return data.count(b"[") + data.count(b"{") > limit


def _too_deep(data: str | bytes | bytearray, limit: int) -> NestingTooDeep:
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", errors="replace")
    return NestingTooDeep(text, _crossing(text, limit), limit)


def _crossing(text: str, limit: int) -> int:
    """Where the first array or object at level ``limit + 1`` opens (the deepest point reached
    when the text never gets there, as when the decoder ran out of stack first)."""
    depth, deepest, deepest_at = 0, 0, 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return match.start()
            if depth > deepest:
                deepest, deepest_at = depth, match.start()
        elif token in ("]", "}"):
            depth -= 1
    return deepest_at
