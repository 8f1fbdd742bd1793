"""Messages that said the wrong thing (bug report, part 3).

- A cache entry holding ``{bad`` was "not valid JSON (empty or truncated)", though it is neither
  (CACHE-05): empty, truncated and other broken JSON are told apart now.
- A cache dir that is a regular file gave "cannot create lock file …: File exists" (CACHE-01):
  now the error says which path is not a directory.
- The "plugin not found" hint (EXEC-02) listed every entry of each plugin dir, subdirectories and
  plain files included: now only what could be a plugin (executable regular files), with a count
  of what was skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cnitool.core.cache import CacheEntry, ResultCache, make_private_dirs, parse_entry
from cnitool.core.errors import CacheError, ExitCode, PluginNotFound
from cnitool.core.lock import Locks
from cnitool.core.runner import PluginInvocation
from cnitool.invoke import SubprocessRunner


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b" \n\t", "is empty"),
        (b'{"kind":"cniCacheV1"', "is truncated: its JSON ends unfinished after 20 bytes"),
        (b'{"kind":"cniCacheV1","containerId":"ab', "is truncated: its JSON ends unfinished after 38 bytes"),
        (b'{"kind":"cniCacheV1",\n', "is truncated: its JSON ends unfinished after 22 bytes"),
        (b"{bad", "is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        (b'{"a": 1}\n{"b": 2}', "is not valid JSON: Extra data at line 2 column 1"),
        (b'{"a": "\xff"}', "is not valid JSON: not UTF-8 text (byte 0xff at offset 7)"),
    ],
)
def test_cache_05_broken_entry_says_what_is_wrong(content: bytes, expected: str) -> None:
    """CACHE-05: empty, truncated and not-JSON are different stories; none is "empty or truncated"."""
    with pytest.raises(CacheError) as caught:
        parse_entry(content, path="/c/results/x")
    assert caught.value.msg == f"cache entry /c/results/x {expected}"
    assert caught.value.exit_code == ExitCode.ENVIRONMENT


def _cache_dir_is_a_file(tmp_path: Path) -> Path:
    path = tmp_path / "not-a-dir"
    path.write_text("")
    return path


def test_cache_01_lock_in_a_cache_dir_that_is_a_file_says_so(tmp_path: Path) -> None:
    """CACHE-01 / LOCK-01: locks are the first to need the cache dir; a file there is named as such."""
    cache_dir = _cache_dir_is_a_file(tmp_path)
    with pytest.raises(CacheError) as caught:
        with Locks(str(cache_dir)).attachment("net1", "c1", "eth0"):
            pass
    assert caught.value.msg == f"cannot use cache directory {cache_dir}/locks: {cache_dir} is not a directory"
    assert caught.value.hint is not None and "--cache-dir" in caught.value.hint
    assert caught.value.exit_code == ExitCode.ENVIRONMENT


def test_cache_01_a_file_above_the_cache_dir_is_the_one_named(tmp_path: Path) -> None:
    blocker = _cache_dir_is_a_file(tmp_path)
    with pytest.raises(CacheError) as caught:
        make_private_dirs(str(blocker / "sub" / "results"))
    assert caught.value.msg == f"cannot use cache directory {blocker}/sub/results: {blocker} is not a directory"


@pytest.mark.parametrize("operation", ["write", "read", "entries"])
def test_cache_01_cache_operations_on_a_file_say_it_is_not_a_directory(tmp_path: Path, operation: str) -> None:
    cache_dir = _cache_dir_is_a_file(tmp_path)
    cache = ResultCache(str(cache_dir))
    with pytest.raises(CacheError) as caught:
        if operation == "write":
            cache.write(CacheEntry("net1", "c1", "eth0", b"{}", None))
        elif operation == "read":
            cache.read("net1", "c1", "eth0")
        else:
            cache.entries()
    assert caught.value.msg == f"cannot use cache directory {cache_dir}/results: {cache_dir} is not a directory"


def test_cache_01_a_results_file_inside_a_good_cache_dir_is_named(tmp_path: Path) -> None:
    (tmp_path / "results").write_text("")
    with pytest.raises(CacheError) as caught:
        ResultCache(str(tmp_path)).entries()
    assert caught.value.msg == f"cannot use cache directory {tmp_path}/results: {tmp_path}/results is not a directory"


def _not_found_hint(*dirs: Path) -> str:
    invocation = PluginInvocation("brige", "ADD", {}, b"{}", tuple(str(d) for d in dirs))
    with pytest.raises(PluginNotFound) as caught:
        SubprocessRunner().run(invocation)
    assert caught.value.hint is not None
    return caught.value.hint


def _executable(path: Path) -> None:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def test_exec_02_hint_lists_only_executable_files_and_counts_the_rest(tmp_path: Path) -> None:
    """EXEC-02: subdirectories, plain files and broken symlinks are not plugins: counted, not listed."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name in ("bridge", "host-local", "loopback"):
        _executable(directory / name)
    (directory / "bash_jobs.0").mkdir()
    (directory / "add2.json").write_text("{}")
    (directory / "dangling").symlink_to(tmp_path / "nowhere")
    (directory / "linked").symlink_to(directory / "bridge")  # a link to a plugin is one (EXEC-02)
    hint = _not_found_hint(directory)
    assert hint.splitlines()[0] == (f"{directory}: bridge, host-local, linked, loopback "
                                    "(3 other entries are not executable files)")
    assert "did you mean: bridge?" in hint
    assert "bash_jobs" not in hint and "add2.json" not in hint and "dangling" not in hint


def test_exec_02_hint_is_capped_for_a_big_directory(tmp_path: Path) -> None:
    directory = tmp_path / "bin"
    directory.mkdir()
    for index in range(40):
        _executable(directory / f"tool{index:02d}")
        (directory / f"data{index:02d}").write_text("")
    line = _not_found_hint(directory).splitlines()[0]
    assert line == (f"{directory}: tool00, tool01, tool02, tool03, tool04, tool05, … and 34 more "
                    "(40 other entries are not executable files)")


def test_exec_02_hint_for_a_directory_without_plugins(tmp_path: Path) -> None:
    nothing = tmp_path / "data"
    nothing.mkdir()
    (nothing / "a.txt").write_text("")
    (nothing / "sub").mkdir()
    empty = tmp_path / "empty"
    empty.mkdir()
    lines = _not_found_hint(nothing, empty).splitlines()
    assert lines == [f"{nothing}: no executable files among its 2 entries",
                     f"{empty}: empty"]


def test_exec_02_one_skipped_entry_is_singular(tmp_path: Path) -> None:
    directory = tmp_path / "bin"
    directory.mkdir()
    _executable(directory / "bridge")
    (directory / "README").write_text("")
    assert _not_found_hint(directory).splitlines()[0] == (
        f"{directory}: bridge (1 other entry is not an executable file)")


def test_exec_02_a_missing_dir_is_still_said(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert _not_found_hint(missing).splitlines() == [f"{missing}: does not exist"]
