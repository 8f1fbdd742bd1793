"""Machine output: the CNI result as the Go tool prints it (plus a newline), errors and warnings as JSON lines.

JSON never goes through rich: rich wraps long lines at the terminal width, which would corrupt
the document in a pipe.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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


def error_document(kind: str, msg: str, *, rollback_errors: Sequence[str] = (),
                   traceback: str | None = None) -> dict[str, object]:
    """CLI-05: an error that is no CniError (usage, interrupt, bug) with the keys of one that is.

    Scripts read ``.details`` or ``.plugin`` of whatever error they get, so every error object
    has the same keys: null where a field does not apply, "" for the text fields ``details`` and
    ``stderr``, as a CniError has them when empty.
    """
    document = CniError(msg).to_dict()
    document.update(kind=kind, rollback_errors=list(rollback_errors), traceback=traceback)
    return document


def write_error(stream: TextIO, error: CniError) -> None:
    write_document_line(stream, error.to_dict())


def write_internal_error(stream: TextIO, message: str, traceback: str | None = None) -> None:
    write_document_line(stream, error_document("internal", message, traceback=traceback or None))
