"""Plugin text made safe for a terminal, without rich: plain-text paths (a passed-on plugin
stderr, the trace, the interrupt message) use it without paying for rich's import."""

from __future__ import annotations

import re

# C0 and C1 control characters but tab and newline: a plugin's text must not drive the terminal
# (clear the screen, set the title, hide what follows).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text from a plugin made safe for a terminal: control characters shown as ``\\xNN``."""
    return _CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
