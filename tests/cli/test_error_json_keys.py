"""CLI-05: with ``-o json`` every error object on stderr has the same keys, whatever went wrong.

Scripts read ``.details`` or ``.plugin`` of any error without first asking which kind it is, so a
usage error, an interrupt or an internal error carries every key a plugin error carries, with
null (or an empty string or list, for the fields that are always text or a list) where it does
not apply.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cnitool.cli import main
from cnitool.cli.app import App

ERROR_KEYS = {"level", "kind", "code", "msg", "details", "plugin", "command", "stderr", "hint",
              "rollback_errors", "traceback"}


def last_error(stderr: str) -> dict:
    """Every stderr line is a JSON object (CLI-05); the error is the last one."""
    objects = [json.loads(line) for line in stderr.splitlines()]
    assert objects and objects[-1]["level"] == "error", stderr
    return objects[-1]


def assert_shape(error: dict) -> None:
    assert set(error) == ERROR_KEYS, error
    assert isinstance(error["msg"], str) and error["msg"]
    assert isinstance(error["details"], str) and isinstance(error["stderr"], str)
    assert isinstance(error["rollback_errors"], list)
    for key in ("code", "plugin", "command", "hint", "traceback"):
        assert error[key] is None or isinstance(error[key], (str, int)), (key, error)


@pytest.mark.parametrize("args", [["add", "-o", "json"], ["list", "-o", "json", "--no-such-option"],
                                  ["-o", "json", "invoke", "bridge", "FLY"]])
def test_cli_05_usage_errors_have_every_key(cnitool, args: list[str]) -> None:
    run = cnitool(*args)
    assert run.returncode == 2, run
    error = last_error(run.stderr)
    assert_shape(error)
    assert error["kind"] == "usage"
    assert (error["code"], error["plugin"], error["command"], error["traceback"]) == (None, None, None, None)


def test_cli_05_core_errors_have_every_key(cnitool, conf_dir: Path, fake_plugins, tmp_path: Path) -> None:
    """A bad name (2), a missing network (3), a plugin failure (1): the same keys each time."""
    fake_plugins("sick", 'echo \'{"cniVersion":"1.1.0","code":50,"msg":"not ready"}\'\necho why >&2\nexit 1\n')
    (conf_dir / "n.conflist").write_text(json.dumps(
        {"cniVersion": "1.1.0", "name": "n", "plugins": [{"type": "sick"}]}))
    env = {"NETCONFPATH": str(conf_dir), "CNI_PATH": str(fake_plugins.dir), "CNI_CACHE_DIR": str(tmp_path / "c")}

    bad_name = cnitool("status", "-o", "json", "bad name", env=env)
    missing = cnitool("status", "-o", "json", "nope", env=env)
    failed = cnitool("status", "-o", "json", "n", env=env)

    assert (bad_name.returncode, missing.returncode, failed.returncode) == (2, 3, 1)
    for run in (bad_name, missing, failed):
        assert_shape(last_error(run.stderr))
    error = last_error(failed.stderr)
    assert (error["kind"], error["code"], error["plugin"], error["command"], error["stderr"]) == (
        "plugin-failed", 50, "sick", "STATUS", "why\n")
    assert error["traceback"] is None


def _run_list_raising(exception: BaseException, monkeypatch: pytest.MonkeyPatch, *options: str) -> tuple[int, dict]:
    """``cnitool list -o json`` in this process, with config discovery raising ``exception``."""
    import cnitool.core.lint  # noqa: F401  binds loader.discover when first imported: not while it is patched
    import cnitool.core.loader

    def explode(dirs: object) -> None:
        raise exception

    monkeypatch.setattr(cnitool.core.loader, "discover", explode)
    stderr = io.StringIO()
    status = main(["list", "-o", "json", *options], app=App(stdout=io.StringIO(), stderr=stderr, environ={}))
    return status, last_error(stderr.getvalue())


def test_cli_05_internal_error_has_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    status, error = _run_list_raising(RuntimeError("boom"), monkeypatch)
    assert status == 70
    assert_shape(error)
    assert error["kind"] == "internal" and error["traceback"] is None and "boom" in error["msg"]

    status, error = _run_list_raising(RuntimeError("boom"), monkeypatch, "--debug")
    assert status == 70
    assert_shape(error)
    assert "RuntimeError: boom" in error["traceback"]


def test_cli_05_interrupt_has_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    status, error = _run_list_raising(KeyboardInterrupt(), monkeypatch)
    assert status == 130
    assert_shape(error)
    assert (error["kind"], error["msg"], error["rollback_errors"]) == ("interrupted", "interrupted", [])
