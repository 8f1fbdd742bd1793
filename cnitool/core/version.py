"""CNI spec versions: parsing, comparison and the choice of a network's effective version.

Mirrors ``pkg/version`` of the reference: versions compare numerically by up to three dot parts,
an empty string means 0.1.0 (the version before ``cniVersion`` existed).
"""

from __future__ import annotations

from collections.abc import Iterable

from cnitool.core.errors import VersionError

# VER-01: every spec version we implement, oldest first.
KNOWN_VERSIONS: tuple[str, ...] = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
CURRENT_VERSION = KNOWN_VERSIONS[-1]

VersionKey = tuple[int, int, int]


def parse_version(version: str) -> VersionKey:
    """``"1.0"`` → (1, 0, 0); ``""`` → (0, 1, 0); anything else non-numeric is an error (VER-02)."""
    if version == "":
        return (0, 1, 0)
    parts = version.split(".")
    if len(parts) > 3 or not all(p.isdigit() and p.isascii() for p in parts):
        raise VersionError(f'invalid version "{version}": the version is empty or has too many parts or non-numeric parts')
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    return (numbers[0], numbers[1], numbers[2])


def version_at_least(version: str, minimum: str) -> bool:
    return parse_version(version) >= parse_version(minimum)


def known_version(version: str) -> str | None:
    """The known version equal to ``version`` compared as versions (``"1.0"`` is ``"1.0.0"``,
    VER-02), or None for a well-formed version we do not know; garbage is a VersionError."""
    key = parse_version(version)
    for known in KNOWN_VERSIONS:
        if parse_version(known) == key:
            return known
    return None


def effective_version(cni_version: str, cni_versions: Iterable[str] | None) -> str:
    """The version a network runs at (VER-03).

    With ``cniVersions``, the highest entry of ``cniVersion`` ∪ ``cniVersions`` that is not newer
    than the newest version we implement; entries newer than that are ignored (as libcni does);
    when nothing is left, ``cniVersion`` as written.
    """
    if cni_versions is None:
        return cni_version
    current = parse_version(CURRENT_VERSION)
    candidates = list(cni_versions)
    if cni_version != "":
        candidates.append(cni_version)
    usable = [v for v in candidates if parse_version(v) <= current]
    if not usable:
        return cni_version
    return max(usable, key=parse_version)
