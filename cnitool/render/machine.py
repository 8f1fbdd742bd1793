"""Machine output: the CNI result exactly as the Go tool prints it, errors and warnings as JSON lines.

JSON never goes through rich: rich wraps long lines at the terminal width, which would corrupt
the document in a pipe.
"""

from __future__ import annotations

import json
from typing import TextIO

from cnitool.core.errors import CniError
from cnitool.core.result import Result, result_to_json


def write_result(stream: TextIO, result: Result) -> None:
    """RES-04: the reference's bytes, plus a final newline."""
    stream.write(result_to_json(result) + "\n")
    stream.flush()


def write_document(stream: TextIO, document: object) -> None:
    """A JSON document of our own (status, gc, list ...): one per invocation, on stdout."""
    stream.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    stream.flush()


def write_document_line(stream: TextIO, document: object) -> None:
    """CLI-05: with ``-o json`` every stderr line is one JSON object."""
    stream.write(json.dumps(document, ensure_ascii=False) + "\n")
    stream.flush()


def write_warning(stream: TextIO, message: str) -> None:
    write_document_line(stream, {"level": "warning", "msg": message})


def write_error(stream: TextIO, error: CniError) -> None:
    write_document_line(stream, error.to_dict())


def write_internal_error(stream: TextIO, message: str, traceback: str | None = None) -> None:
    document: dict[str, object] = {"level": "error", "kind": "internal", "code": None, "msg": message}
    if traceback:
        document["traceback"] = traceback
    write_document_line(stream, document)
