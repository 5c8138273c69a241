"""Errors that the CLI turns into one-line messages and exit codes (spec/report.md)."""

from __future__ import annotations


class AcctsecError(Exception):
    """Base of every error acctsec reports to the user without a traceback."""

    exit_code = 1


class InputError(AcctsecError):
    """Bad input: unknown uid, unreadable or malformed source, bad option value. Exit 1."""

    exit_code = 1


class UsageError(AcctsecError):
    """Options that do not go together, or one missing that another needs. Exit 2, as
    Click's own usage errors."""

    exit_code = 2


class ConfigError(InputError):
    """A bad field in the config file or an ACCTSEC_* variable, named in the message."""


class DependencyError(AcctsecError):
    """A dependency (database, chain API, RDAP) failed after retries. Exit 3."""

    exit_code = 3
