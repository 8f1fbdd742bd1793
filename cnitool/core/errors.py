"""The error model: one base class, a subclass for each case a user must tell apart.

Every error carries the CNI error fields (``code``, ``msg``, ``details``; SPEC.md "Error"), the
plugin and verb it came from when a plugin was involved, the plugin's stderr, an optional hint,
and the process exit status the command line uses for it (conformance CLI-05).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit statuses of the command line (conformance CLI-05)."""

    OK = 0
    PLUGIN_FAILED = 1
    INVALID = 2
    ENVIRONMENT = 3
    TIMEOUT = 4
    INTERNAL = 70
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # 128 + SIGPIPE: standard output is a pipe nobody reads any more (cnitool.cli.output)


# Well-known error codes of the CNI specification (SPEC.md, "Error"): shown next to the code so
# that nobody has to look them up.
CNI_ERROR_CODES: dict[int, str] = {
    1: "incompatible CNI version",
    2: "unsupported field in network configuration",
    3: "container unknown or does not exist",
    4: "invalid necessary environment variables",
    5: "I/O failure",
    6: "failed to decode content",
    7: "invalid network config",
    11: "try again later",
    50: "the plugin is not available",
    51: "the plugin is not available, and existing containers may have limited connectivity",
}


def describe_code(code: int | None) -> str | None:
    """The meaning of a CNI error code, or None when the spec reserves no meaning for it."""
    if code is None:
        return None
    if code in CNI_ERROR_CODES:
        return CNI_ERROR_CODES[code]
    if code >= 100:
        return "plugin-specific error"
    return None


class CniError(Exception):
    """Base of every error cnitool reports to a user."""

    kind = "error"
    exit_code = ExitCode.PLUGIN_FAILED

    def __init__(
        self,
        msg: str,
        *,
        code: int | None = None,
        details: str = "",
        plugin: str | None = None,
        command: str | None = None,
        stderr: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(msg)
        self.msg = msg
        self.code = code
        self.details = details
        self.plugin = plugin
        self.command = command
        self.stderr = stderr
        self.hint = hint
        # ADD-02: errors met while rolling back a failed ADD, reported with the ADD's own error.
        self.rollback_errors: list[CniError] = []

    def __str__(self) -> str:
        if self.details:
            return f"{self.msg}; {self.details}"
        return self.msg

    def to_dict(self) -> dict[str, object]:
        """The error as the one JSON object printed on stderr with ``-o json`` (CLI-05)."""
        return {
            "level": "error",
            "kind": self.kind,
            "code": self.code,
            "msg": self.msg,
            "details": self.details,
            "plugin": self.plugin,
            "command": self.command,
            "stderr": self.stderr,
            "hint": self.hint,
            "rollback_errors": [str(err) for err in self.rollback_errors],
            "traceback": None,  # the CLI's --debug fills it in for an internal error only
        }


class UsageError(CniError):
    """A bad argument or environment variable given by the caller (names, CNI_ARGS, CAP_ARGS)."""

    kind = "invalid-argument"
    exit_code = ExitCode.INVALID


class ConfigError(CniError):
    """A network configuration that cannot be used as written."""

    kind = "config-invalid"
    exit_code = ExitCode.INVALID


class VersionError(CniError):
    """A version string that cannot be parsed, or a conversion between versions that cannot be done."""

    kind = "version-unsupported"
    exit_code = ExitCode.INVALID


class NetworkNotFound(CniError):
    kind = "network-not-found"
    exit_code = ExitCode.ENVIRONMENT


class PluginNotFound(CniError):
    kind = "plugin-not-found"
    exit_code = ExitCode.ENVIRONMENT


class NetnsError(CniError):
    kind = "netns"
    exit_code = ExitCode.ENVIRONMENT


class CacheError(CniError):
    kind = "cache"
    exit_code = ExitCode.ENVIRONMENT


class AlreadyAttached(CniError):
    """ADD of an attachment that is already cached: the spec forbids a second ADD without DEL."""

    kind = "already-attached"
    exit_code = ExitCode.INVALID


class InterfaceInUse(CniError):
    """DEL of an attachment that was never cached, naming an interface that another cached
    attachment has in that namespace: the plugins would tear that one down (OURS)."""

    kind = "interface-in-use"
    exit_code = ExitCode.INVALID


class NotAdded(CniError):
    """CHECK of an attachment that has no cached result: it was never added (CHECK-01 OURS)."""

    kind = "not-added"
    exit_code = ExitCode.ENVIRONMENT


class PluginFailed(CniError):
    """A plugin exited non-zero, or answered with something that is not a valid result."""

    kind = "plugin-failed"
    exit_code = ExitCode.PLUGIN_FAILED


class PluginTimeout(CniError):
    kind = "plugin-timeout"
    exit_code = ExitCode.TIMEOUT


class InvalidResult(CniError):
    """A result that does not parse, or names a version or value the spec does not allow."""

    kind = "invalid-result"
    exit_code = ExitCode.PLUGIN_FAILED
