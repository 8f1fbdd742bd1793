"""Regenerate the committed completion scripts: ``python -m cnitool.cli.gen_completions [DIR]``.

``completions/`` holds what ``cnitool completion SHELL`` prints, under the names the wheel installs
them from (pyproject.toml ``shared-data``); tests/cli/test_completion_man.py fails when they drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cnitool.cli.complete import completion_script

FILES = {"bash": "cnitool.bash", "zsh": "_cnitool", "fish": "cnitool.fish"}
REGENERATE = "python -m cnitool.cli.gen_completions"
# The source checkout's completions/ (this file is cnitool/cli/gen_completions.py).
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "completions"


def expected_files() -> dict[str, str]:
    """File name in completions/ -> the content it must have."""
    return {name: completion_script(shell) for shell, name in FILES.items()}


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else DEFAULT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in expected_files().items():
        (directory / name).write_text(text)
        print(f"wrote {directory / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
