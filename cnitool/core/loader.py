"""Finding network configuration files and parsing them (conformance LOAD-01 … LOAD-12).

Mirrors libcni ``conf.go`` (``ConfFiles``, ``LoadNetworkConf``, ``NetworkConfFromBytes``,
``NetworkPluginConfsFromFiles``, ``ConfListFromConf``) with the deliberate differences the
conformance list marks OURS:

* several configuration directories, searched in order (LOAD-01);
* a file that cannot be loaded is skipped with a warning instead of aborting the lookup (LOAD-05);
* a ``.conf``/``.json`` holding a ``plugins`` list is loaded as a list, with a rename hint (LOAD-10).

The loader never prints and never reads the environment: directories come in as arguments and
warnings go out as values, so the command line decides how to show them.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cnitool.core.errors import ConfigError, NetworkNotFound, VersionError
from cnitool.core import jsondecode
from cnitool.core.gojson import dumps_go_interface, json_type, replace_lone_surrogates
from cnitool.core.netconf import NetworkConfig, PluginConfig
from cnitool.core.version import parse_version

LIST_EXTENSIONS = (".conflist",)
SINGLE_EXTENSIONS = (".conf", ".json")
# libcni NetworkPluginConfsFromFiles reads only "*.conf" from a network's plugin folder (LOAD-11).
PLUGIN_FOLDER_EXTENSIONS = (".conf",)

# Top-level keys of a configuration list that libcni reads as flags (SPEC.md 1.1.0
# "Configuration format"; LOAD-08).
_FLAG_KEYS = ("disableCheck", "disableGC", "loadOnlyInlinedPlugins")
# Keys that only mean something at the top level of a list. libcni's ConfListFromConf copies just
# name and cniVersion from a single-plugin file, so in a .conf these stay inside the plugin object.
_LIST_ONLY_KEYS = ("cniVersions", *_FLAG_KEYS)

# Long lines (minified JSON) are cut around the error column when shown.
_EXCERPT_WIDTH = 100


def _excerpt(line: str, column: int) -> tuple[str, int]:
    """A window of at most ``_EXCERPT_WIDTH`` characters around ``column``, and the column in it."""
    if len(line) <= _EXCERPT_WIDTH:
        return line, column
    start = max(0, min(column - 1 - _EXCERPT_WIDTH // 2, len(line) - _EXCERPT_WIDTH))
    window = line[start : start + _EXCERPT_WIDTH]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + _EXCERPT_WIDTH < len(line) else ""
    return prefix + window + suffix, column - start + len(prefix)


@dataclass(frozen=True)
class LoadProblem:
    """A file (or directory) that could not be loaded, and why.

    ``line``/``column`` (1-based) and ``source_line`` are set for JSON syntax errors (LOAD-06).
    """

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    source_line: str | None = None

    @property
    def location(self) -> str:
        """``path:line:col`` when the position is known, else ``path``."""
        if self.line is None or self.column is None:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"

    def __str__(self) -> str:
        headline = f"{self.location}: {self.message}"
        if self.source_line is None or self.column is None:
            return headline
        excerpt, column = _excerpt(self.source_line, self.column)
        # Keep tabs in the caret line so the caret sits under the column however tabs render.
        padding = "".join("\t" if char == "\t" else " " for char in excerpt[: column - 1])
        return f"{headline}\n    {excerpt}\n    {padding}^"


@dataclass(frozen=True)
class Discovery:
    """Every network found in the configuration directories, in lookup order (LOAD-03).

    When two files define the same name, the first one in ``networks`` is the one
    :func:`find_network` returns; the later ones come with a warning.
    """

    networks: tuple[NetworkConfig, ...]
    problems: tuple[LoadProblem, ...]
    warnings: tuple[str, ...] = ()


class _Broken(Exception):
    """Internal: a file cannot be turned into a network. Callers decide whether to skip or fail."""

    def __init__(self, problem: LoadProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _invalid(source: str, message: str) -> _Broken:
    return _Broken(LoadProblem(source, message))


# --- Finding files (LOAD-01, LOAD-02, LOAD-03) ------------------------------------------------


def _list_dir(directory: str, extensions: tuple[str, ...]) -> list[str]:
    """Paths of the config files in one directory, sorted by the bytes of their names (LOAD-02).

    A missing directory holds no files, as in libcni ``ConfFiles``; any other failure to read
    it raises ``OSError``. Regular files only (a FIFO would block the reader); a dangling symlink
    is kept so that it is reported as unreadable instead of vanishing silently.
    """
    try:
        with os.scandir(directory) as entries:
            names = [
                entry.name
                for entry in entries
                if entry.name.endswith(extensions)
                and (entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path)))
            ]
    except FileNotFoundError:
        return []
    names.sort(key=os.fsencode)
    return [os.path.join(directory, name) for name in names]


def _lookup_order(directory: str) -> list[str]:
    """All ``.conflist`` files first, then ``.conf`` and ``.json`` together (LOAD-03)."""
    files = _list_dir(directory, LIST_EXTENSIONS + SINGLE_EXTENSIONS)
    lists = [path for path in files if path.endswith(LIST_EXTENSIONS)]
    singles = [path for path in files if not path.endswith(LIST_EXTENSIONS)]
    return lists + singles


def config_files(dirs: Sequence[str]) -> list[str]:
    """Every config file of every directory: directories in the given order, each sorted (LOAD-02).

    A missing directory is empty; one that exists but cannot be read is a ConfigError (a
    ``--conf-dir`` naming a file, or a directory we may not list).
    """
    files: list[str] = []
    for directory in dirs:
        try:
            files.extend(_list_dir(directory, LIST_EXTENSIONS + SINGLE_EXTENSIONS))
        except OSError as err:
            raise ConfigError(f"cannot read configuration directory {directory}: {err.strerror}") from err
    return files


def _is_list_file(path: str) -> bool | None:
    """What the extension says: a list, a single plugin, or unknown (decide by content)."""
    if path.endswith(LIST_EXTENSIONS):
        return True
    if path.endswith(SINGLE_EXTENSIONS):
        return False
    return None


# --- Decoding JSON strictly (LOAD-06) ---------------------------------------------------------


class _BadNumber(ValueError):
    """NaN/Infinity (which Python's json accepts) or a number a float64 cannot hold.

    libcni decodes every number into a Go float64, so ``1e999`` fails there too.
    """

    def __init__(self, token: str, message: str) -> None:
        super().__init__(message)
        self.token = token
        self.message = message


def _reject_constant(token: str) -> Any:
    raise _BadNumber(token, f"{token} is not valid JSON")


def _checked_float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise _BadNumber(token, f"number {token} is out of range")
    return value


def _checked_int(token: str) -> int:
    _checked_float(token)
    return int(token)


# A JSON number or one of the non-standard constants, as Python's scanner reads them.
_TOKEN = re.compile(r"-?Infinity|NaN|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _token_offset(text: str, token: str) -> int:
    """Where the first ``token`` outside a string starts.

    Python's json reports no position for a value its hooks reject; the first occurrence
    outside strings is the one the decoder stopped at, since it reads left to right and every
    earlier equal token would have failed first.
    """
    pos, in_string = 0, False
    while pos < len(text):
        char = text[pos]
        if in_string:
            if char == "\\":
                pos += 2
                continue
            in_string = char != '"'
            pos += 1
            continue
        if char == '"':
            in_string = True
            pos += 1
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            pos += 1
        elif match.group() == token:
            return pos
        else:
            pos = match.end()
    return 0


def _syntax_problem(err: json.JSONDecodeError, source: str) -> LoadProblem:
    line = err.doc.split("\n")[err.lineno - 1].rstrip("\r")
    # A document nested too deeply is JSON, only deeper than we decode (jsondecode.MAX_NESTING).
    message = err.msg if isinstance(err, jsondecode.NestingTooDeep) else f"invalid JSON: {err.msg}"
    return LoadProblem(source, message, err.lineno, err.colno, line)


# Python's json keeps a lone UTF-16 surrogate escape as a surrogate code point, which then cannot
# be written as UTF-8; Go's decoder turns it into U+FFFD. Only text with such an escape can hold one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _decode_text(text: str, source: str, *, float_numbers: bool = False,
                 max_nesting: int = jsondecode.MAX_NESTING) -> Any:
    """Strict JSON: Python already rejects comments and trailing commas; we add NaN/Infinity; and
    no deeper than ``max_nesting`` levels (``jsondecode``).

    ``float_numbers`` decodes every number as a float64, which is what Go's ``interface{}`` holds.
    """
    try:
        value = jsondecode.loads(
            text,
            max_nesting=max_nesting,
            parse_constant=_reject_constant,
            parse_float=_checked_float,
            parse_int=_checked_float if float_numbers else _checked_int,
        )
    except json.JSONDecodeError as err:
        raise _Broken(_syntax_problem(err, source)) from None
    except _BadNumber as err:
        located = json.JSONDecodeError(err.message, text, _token_offset(text, err.token))
        problem = _syntax_problem(located, source)
        raise _Broken(LoadProblem(source, err.message, problem.line, problem.column, problem.source_line)) from None
    if _SURROGATE_ESCAPE.search(text):
        value = replace_lone_surrogates(value)
    return value


def _text(data: bytes) -> str:
    # Go's decoder replaces invalid UTF-8 with U+FFFD instead of failing; do the same.
    return data.decode("utf-8", errors="replace")


def _decode_object(data: bytes, source: str) -> dict[str, Any]:
    value = _decode_text(_text(data), source)
    if not isinstance(value, dict):
        raise _invalid(source, f"a network configuration must be a JSON object, not {json_type(value)}")
    return value


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as err:
        raise _invalid(path, f"cannot read: {err.strerror}") from None


# --- Type checks (LOAD-07, LOAD-08, LOAD-09) --------------------------------------------------


def _key_path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _wrong_type(source: str, path: str, expected: str, value: Any) -> _Broken:
    return _invalid(source, f'"{path}" must be {expected}, not {json_type(value)}')


_EXPECTED: dict[type, str] = {str: "a string", bool: "a boolean", dict: "an object", list: "an array"}


def _optional(obj: Mapping[str, Any], key: str, kind: type, source: str, where: str) -> Any:
    """A plugin field that Go decodes into a typed struct field: absent or null leave it at its
    zero value, any other JSON type is an error."""
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise _wrong_type(source, _key_path(where, key), _EXPECTED[kind], value)
    return value


def _optional_strings(obj: Mapping[str, Any], key: str, source: str, where: str) -> None:
    """A Go ``[]string`` field (``dns.nameservers`` …): an array of strings (nulls allowed)."""
    items = _optional(obj, key, list, source, where)
    for index, item in enumerate(items or ()):
        if item is not None and not isinstance(item, str):
            raise _wrong_type(source, f"{_key_path(where, key)}[{index}]", "a string", item)


def _check_plugin(value: Any, source: str, where: str) -> PluginConfig:
    """One plugin object, type-checked like libcni decoding it into ``types.PluginConf``."""
    if not isinstance(value, dict):
        raise _wrong_type(source, where or "configuration", "an object", value)
    plugin_type = value.get("type")
    if plugin_type is None or plugin_type == "":
        prefix = f"{where}: " if where else ""
        raise _invalid(source, f"{prefix}missing 'type'")
    if not isinstance(plugin_type, str):
        raise _wrong_type(source, _key_path(where, "type"), "a string", plugin_type)
    for key in ("name", "cniVersion"):
        _optional(value, key, str, source, where)
    capabilities = _optional(value, "capabilities", dict, source, where)
    for capability, enabled in (capabilities or {}).items():
        if enabled is not None and not isinstance(enabled, bool):
            raise _wrong_type(source, _key_path(where, f"capabilities.{capability}"), "a boolean", enabled)
    ipam = _optional(value, "ipam", dict, source, where)
    if ipam is not None:
        _optional(ipam, "type", str, source, _key_path(where, "ipam"))
    dns = _optional(value, "dns", dict, source, where)
    if dns is not None:
        dns_where = _key_path(where, "dns")
        _optional(dns, "domain", str, source, dns_where)
        for key in ("nameservers", "search", "options"):
            _optional_strings(dns, key, source, dns_where)
    _optional(value, "prevResult", dict, source, where)
    return PluginConfig(raw=value)


def _network_name(obj: Mapping[str, Any], source: str) -> str:
    """The network's name; without one a file cannot be looked up at all (LOAD-05)."""
    if "name" not in obj:
        raise _invalid(source, 'no "name"')
    name = obj["name"]
    if not isinstance(name, str):
        raise _wrong_type(source, "name", "a string", name)
    if name == "":
        raise _invalid(source, '"name" is empty')
    return name


def _checked_version(version: str, source: str, path: str) -> str:
    """VER-02: a version string must parse; a well-formed unknown one is kept as written."""
    try:
        parse_version(version)
    except VersionError as err:
        raise _invalid(source, f'"{path}": {err.msg}') from None
    return version


def _list_version(obj: Mapping[str, Any], source: str) -> str:
    """A list's ``cniVersion``: optional, but when present a string (libcni rejects even null)."""
    if "cniVersion" not in obj:
        return ""
    version = obj["cniVersion"]
    if not isinstance(version, str):
        raise _wrong_type(source, "cniVersion", "a string", version)
    return _checked_version(version, source, "cniVersion")


def _list_versions(obj: Mapping[str, Any], source: str) -> tuple[str, ...] | None:
    """``cniVersions`` (VER-03): an array of version strings; the choice is made by NetworkConfig."""
    if "cniVersions" not in obj:
        return None
    versions = obj["cniVersions"]
    if not isinstance(versions, list):
        raise _wrong_type(source, "cniVersions", "an array", versions)
    for index, version in enumerate(versions):
        if not isinstance(version, str):
            raise _wrong_type(source, f"cniVersions[{index}]", "a string", version)
        _checked_version(version, source, f"cniVersions[{index}]")
    return tuple(versions)


def _flag(obj: Mapping[str, Any], key: str, source: str) -> bool:
    """LOAD-08: JSON true/false, or the strings "true"/"false" in any case (libcni readBool)."""
    if key not in obj:
        return False
    value = obj[key]
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise _wrong_type(source, key, 'a boolean or the string "true" or "false"', value)
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise _invalid(source, f'"{key}": invalid value {json.dumps(value)}, expected true or false')
    return lowered == "true"


# --- Building a network (LOAD-07, LOAD-10, LOAD-11) -------------------------------------------


def _inline_plugins(obj: Mapping[str, Any], source: str, load_only_inlined: bool) -> list[PluginConfig]:
    if "plugins" not in obj:
        if load_only_inlined:
            raise _invalid(source, "`loadOnlyInlinedPlugins` is true, and no 'plugins' key")
        return []
    plugins = obj["plugins"]
    if not isinstance(plugins, list):
        raise _wrong_type(source, "plugins", "an array", plugins)
    if not plugins:
        raise _invalid(source, "no plugins in list")
    return [_check_plugin(item, source, f"plugins[{index}]") for index, item in enumerate(plugins)]


def _is_single_component(name: str) -> bool:
    """Whether ``<conf dir>/<name>`` stays a child of the conf dir.

    libcni joins the name blindly; a network named ``.`` would then read every ``.conf`` of the
    conf dir itself as its plugins, and ``../x`` a folder outside it.
    """
    return name not in (".", "..") and "/" not in name and "\0" not in name


def _folder_plugins(conf_dir: str, network: str) -> list[PluginConfig]:
    """LOAD-11: ``<conf dir>/<network name>/*.conf``, sorted, each one plugin object."""
    if not _is_single_component(network):
        return []
    folder = os.path.join(conf_dir, network)
    try:
        paths = _list_dir(folder, PLUGIN_FOLDER_EXTENSIONS)
    except OSError as err:
        raise _invalid(folder, f"failed to read plugin config files: {err.strerror}") from None
    return [_check_plugin(_decode_object(_read(path), path), path, "") for path in paths]


def _build_list(obj: dict[str, Any], data: bytes, source: str, plugin_dir: str | None) -> NetworkConfig:
    """libcni NetworkConfFromFile: the list's own plugins, then its plugin folder's."""
    name = _network_name(obj, source)
    cni_version = _list_version(obj, source)
    cni_versions = _list_versions(obj, source)
    disable_check, disable_gc, load_only_inlined = (_flag(obj, key, source) for key in _FLAG_KEYS)
    plugins = _inline_plugins(obj, source, load_only_inlined)
    if plugin_dir is not None and not load_only_inlined:
        plugins += _folder_plugins(plugin_dir, name)
    if not plugins:
        raise _invalid(source, "no plugin configs found")
    return NetworkConfig(
        name=name,
        cni_version=cni_version,
        cni_versions=cni_versions,
        plugins=tuple(plugins),
        # What libcni caches (CACHE-02): the list file's bytes; folder plugins are not in them.
        raw_bytes=data,
        disable_check=disable_check,
        disable_gc=disable_gc,
        load_only_inlined_plugins=load_only_inlined,
        source=source,
    )


def _build_single(obj: dict[str, Any], data: bytes, source: str) -> tuple[NetworkConfig, list[str]]:
    """libcni ConfListFromConf: one plugin object lifted into ``{cniVersion, name, plugins}``."""
    plugin = _check_plugin(obj, source, "")
    name = _network_name(obj, source)
    # A Go string field: absent or null both read as "".
    cni_version = _checked_version(obj.get("cniVersion") or "", source, "cniVersion")
    # Lifted into {"plugins": [...]}, the object goes two levels deeper, and the list is what is
    # cached and read again (DEL of a network whose file is gone): it must stay within the limit.
    go_object = _decode_text(_text(data), source, float_numbers=True, max_nesting=jsondecode.MAX_NESTING - 2)
    raw = dumps_go_interface({"cniVersion": cni_version, "name": name, "plugins": [go_object]})
    warnings = []
    ignored = [key for key in _LIST_ONLY_KEYS if key in obj]
    if ignored:
        warnings.append(
            f"{source}: {', '.join(ignored)} only take effect at the top level of a .conflist; "
            "in a single-plugin file they are passed to the plugin unread"
        )
    network = NetworkConfig(
        name=name,
        cni_version=cni_version,
        cni_versions=None,
        plugins=(plugin,),
        raw_bytes=raw.encode("utf-8"),
        source=source,
    )
    return network, warnings


def _build(
    obj: dict[str, Any], data: bytes, source: str, is_list: bool | None, plugin_dir: str | None
) -> tuple[NetworkConfig, list[str]]:
    """A list or a single plugin, as the extension (or, for stdin, the content) says."""
    if is_list is None:
        is_list = "plugins" in obj
    elif not is_list and "type" not in obj and "plugins" in obj:
        # LOAD-10 OURS: libcni fails with "missing 'type'" here, a well-known trap.
        warning = (
            f'{source}: holds a "plugins" list and no "type", so it is loaded as a configuration '
            "list; rename it to .conflist (libcni-based runtimes reject it)"
        )
        return _build_list(obj, data, source, plugin_dir), [warning]
    if is_list:
        return _build_list(obj, data, source, plugin_dir), []
    return _build_single(obj, data, source)


# --- Public entry points ----------------------------------------------------------------------


def _as_config_error(broken: _Broken) -> ConfigError:
    return ConfigError(str(broken.problem))


def load_network_bytes(data: bytes, *, source: str, is_list: bool | None) -> tuple[NetworkConfig, list[str]]:
    """One configuration from bytes (stdin ``-``, LOAD-12): a list, or a single plugin lifted
    into one. ``is_list=None`` decides by content (a ``plugins`` key means a list). No plugin
    folder is read, since bytes have no directory. Returns the network and warnings."""
    try:
        return _build(_decode_object(data, source), data, source, is_list, None)
    except _Broken as broken:
        raise _as_config_error(broken) from None


def load_file(path: str) -> tuple[NetworkConfig, list[str]]:
    """One configuration file given directly (``--conf-file``, LOAD-12), with its plugin folder
    next to it like libcni ``NetworkConfFromFile``. An unknown extension is decided by content."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise NetworkNotFound(f"cannot read network configuration {path}: {err.strerror}") from None
    try:
        return _build(_decode_object(data, path), data, path, _is_list_file(path), os.path.dirname(path) or ".")
    except _Broken as broken:
        raise _as_config_error(broken) from None


def _identify(path: str) -> tuple[dict[str, Any], bytes, str]:
    """Just enough of a file to know which network it defines: its JSON and its name."""
    data = _read(path)
    obj = _decode_object(data, path)
    return obj, data, _network_name(obj, path)


def _directory_problem(directory: str, err: OSError) -> LoadProblem:
    return LoadProblem(directory, f"cannot read directory: {err.strerror}")


def _skip_warning(problem: LoadProblem) -> str:
    """LOAD-05/LOAD-06: file, line, column, message and the offending line with a caret."""
    return f"skipped {problem}"


def _not_found(name: str, dirs: Sequence[str], found_files: bool, skipped: list[LoadProblem]) -> NetworkNotFound:
    """LOAD-04 messages (directories joined with ":" as in NETCONFPATH), plus LOAD-05 details."""
    where = ":".join(dirs)
    if found_files:
        msg = f'no net configuration with name "{name}" in {where}'
    else:
        msg = f"no net configurations found in {where}"
    details = "could not load:\n" + "\n".join(str(p) for p in skipped) if skipped else ""
    return NetworkNotFound(msg, details=details)


def find_network(name: str, dirs: Sequence[str]) -> tuple[NetworkConfig, list[str]]:
    """The network called ``name`` (LOAD-03), and warnings about files skipped on the way.

    Directories are searched in the given order and the first one holding the name wins, like
    ``PATH``: within a directory every ``.conflist`` comes before any ``.conf``/``.json``, but a
    ``.conf`` in an earlier directory beats a ``.conflist`` in a later one. Only files read
    before the match are reported. A file that cannot be read, is not JSON or names no network
    is skipped (LOAD-05 OURS); the first file whose name matches is the network, and if it is
    invalid that is a ConfigError, not a reason to look further.
    """
    skipped: list[LoadProblem] = []
    found_files = False
    for directory in dirs:
        try:
            paths = _lookup_order(directory)
        except OSError as err:
            skipped.append(_directory_problem(directory, err))
            continue
        found_files = found_files or bool(paths)
        for path in paths:
            try:
                obj, data, file_name = _identify(path)
            except _Broken as broken:
                skipped.append(broken.problem)
                continue
            if file_name != name:
                continue
            try:
                network, warnings = _build(obj, data, path, _is_list_file(path), directory)
            except _Broken as broken:
                raise _as_config_error(broken) from None
            return network, [*map(_skip_warning, skipped), *warnings]
    raise _not_found(name, dirs, found_files, skipped)


def discover(dirs: Sequence[str]) -> Discovery:
    """Every network of every file, in lookup order, and every file that failed to load.

    For ``list`` and ``validate``: unlike :func:`find_network`, each file is fully checked, so a
    file with an invalid plugin is a problem here. A name defined again in a later file gets a
    warning saying which file ``find_network`` would use.
    """
    networks: list[NetworkConfig] = []
    problems: list[LoadProblem] = []
    warnings: list[str] = []
    first_file: dict[str, str] = {}
    for directory in dirs:
        try:
            paths = _lookup_order(directory)
        except OSError as err:
            problems.append(_directory_problem(directory, err))
            continue
        for path in paths:
            try:
                obj, data, name = _identify(path)
            except _Broken as broken:
                problems.append(broken.problem)
                continue
            used = first_file.setdefault(name, path)
            try:
                network, more = _build(obj, data, path, _is_list_file(path), directory)
            except _Broken as broken:
                problems.append(broken.problem)
                continue
            networks.append(network)
            warnings.extend(more)
            if used != path:
                warnings.append(f'{path}: network "{name}" is also defined in {used}, which is the one used')
    return Discovery(tuple(networks), tuple(problems), tuple(warnings))

