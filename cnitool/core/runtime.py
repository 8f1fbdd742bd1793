"""Runtime parameters of one attachment: who (container ID), where (netns, ifname), and extra args.

Also the parsing of the two free-form runtime inputs the Go cnitool takes from the environment:
``CNI_ARGS`` (``K=V;K=V``) and ``CAP_ARGS`` (a JSON object), REQ-07.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cnitool.core import jsondecode
from cnitool.core.errors import UsageError
from cnitool.core.gojson import json_type, replace_lone_surrogates


@dataclass(frozen=True)
class RuntimeConf:
    """libcni's RuntimeConf: the per-attachment inputs of every verb."""

    container_id: str
    netns: str
    ifname: str = "eth0"
    args: tuple[tuple[str, str], ...] = ()
    capability_args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cni_args_env(self) -> str:
        """``CNI_ARGS`` as the plugin receives it (libcni joins pairs with ``;``)."""
        return ";".join(f"{key}={value}" for key, value in self.args)


def container_id_for_netns(netns_path: str) -> str:
    """The Go cnitool's container ID: ``cnitool-`` + hex of the first 10 bytes of SHA-512 (CLI-02).

    The path must already be absolute, as the Go tool makes it with filepath.Abs, so that both
    tools derive the same ID and either can DEL what the other added.
    """
    digest = hashlib.sha512(netns_path.encode()).digest()
    return "cnitool-" + digest[:10].hex()


def parse_cni_args(text: str, what: str = "CNI_ARGS pair") -> tuple[tuple[str, str], ...]:
    """Parse ``K=V;K=V`` (REQ-07); ``what`` names the source in errors (``--arg`` for the option).

    OURS: empty pairs are ignored and each pair splits at its first ``=``, so a value may contain
    ``=`` or be empty (the reference rejects both); a pair without ``=`` or with an empty key is an
    error before any plugin runs.
    """
    pairs: list[tuple[str, str]] = []
    for pair in text.split(";"):
        if pair == "":
            continue
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f'invalid {what} "{pair}": expected KEY=VALUE', code=4)
        if key == "":
            raise UsageError(f'invalid {what} "{pair}": the key is empty', code=4)
        pairs.append((key, value))
    return tuple(pairs)


class _NotJson(ValueError):
    """NaN/Infinity: Python's json accepts them, JSON (and Go's decoder) do not."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


def _checked_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NotJson(f"number {token} is out of range")  # Go: cannot unmarshal number into float64
    return value


def _checked_int(token: str) -> int:
    _checked_float(token)
    return int(token)


def _loads(text: str, max_nesting: int = jsondecode.MAX_NESTING) -> Any:
    """Strict JSON, decoded as Go decodes CAP_ARGS: a NaN or a lone surrogate would otherwise reach
    a plugin's stdin as invalid JSON (or fail to encode at all)."""
    value = jsondecode.loads(text, max_nesting=max_nesting, parse_constant=_reject_constant,
                             parse_float=_checked_float, parse_int=_checked_int)
    return replace_lone_surrogates(value)


def parse_cap_args(text: str) -> dict[str, Any]:
    """Parse ``CAP_ARGS``: a JSON object mapping capability names to values (REQ-07)."""
    try:
        value = _loads(text)
    except _NotJson as err:
        raise UsageError(f"CAP_ARGS is not valid JSON: {err}", code=4) from None
    except jsondecode.NestingTooDeep as err:
        raise UsageError(f"CAP_ARGS is {err.msg} at line {err.lineno} column {err.colno}", code=4) from None
    except json.JSONDecodeError as err:
        raise UsageError(f"CAP_ARGS is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}", code=4) from None
    if not isinstance(value, dict):
        raise UsageError(f"CAP_ARGS must be a JSON object mapping capability names to values, not {json_type(value, article=True)}", code=4)
    return value


def parse_cap_option(text: str) -> tuple[str, Any]:
    """Parse one ``--cap NAME=JSON`` option."""
    name, sep, raw = text.partition("=")
    if not sep or name == "":
        raise UsageError(f'invalid --cap "{text}": expected NAME=JSON', code=4)
    try:
        # The value becomes a member of the capability args object, which is held to the limit.
        return name, _loads(raw, jsondecode.MAX_NESTING - 1)
    except _NotJson as err:
        raise UsageError(f'invalid --cap "{text}": the value is not valid JSON ({err})', code=4) from None
    except jsondecode.NestingTooDeep as err:
        shown = text if len(text) <= 60 else text[:60] + "…"
        raise UsageError(f'invalid --cap "{shown}": the value is {err.msg}', code=4) from None
    except json.JSONDecodeError as err:
        raise UsageError(
            f'invalid --cap "{text}": the value is not valid JSON ({err.msg})', code=4,
            hint=f"a string value needs JSON quotes: --cap '{name}=\"{raw}\"' "
            "(or use a shortcut such as --mac, --ip, --port)",
        ) from None


def same_namespace(a: str, b: str) -> bool:
    """Whether two netns paths name one namespace: the same string, or the same nsfs inode (a bind
    mount of /proc/PID/ns/net, /run vs /var/run)."""
    if not a or not b:
        return False
    if a == b:
        return True
    try:
        left, right = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (left.st_dev, left.st_ino) == (right.st_dev, right.st_ino)
