"""The station's error hierarchy. Every message says what happened and what the operator can do."""

from __future__ import annotations


class StationError(Exception):
    """Base of every station failure."""


class ConfigError(StationError, ValueError):
    """A configuration value that is missing, unknown or malformed; the message names the key."""


class StorageError(StationError):
    """The database could not be opened, migrated or written."""


class DecryptionError(StorageError):
    """Stored biometric data could not be decrypted: wrong station key or damaged row."""


class AuditChainBroken(StorageError):
    """An audit row was edited, deleted or inserted out of order."""


class HouseholdListError(StationError):
    """A household list file was refused; nothing from it was imported.

    ``line`` is the 1-based line of the list file at fault (0 when the whole file is at fault).
    """

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        where = f"line {line}: " if line else ""
        super().__init__(f"household list refused, nothing imported — {where}{reason}")


class RuleViolation(StationError):
    """A scheme rule forbids what was asked (unlisted household, sixth member, duplicate card...)."""


class NotFound(StationError):
    """A household, member, camp or operator that does not exist."""


class AuthenticationError(StationError):
    """Operator login or FKO unlock failed."""


class WorkflowError(StationError):
    """A workflow step was asked for out of order or a device failed during it."""


class Cancelled(StationError):
    """A long operation was cancelled by the operator; what was committed stays."""


class BundleError(StationError):
    """A camp bundle that fails verification, decryption or reconciliation."""
