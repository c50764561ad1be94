"""The error families Lingxi raises on purpose.

Every message says what failed, which object (in backticks), why, and how to fix it. The CLI prints
the message as one block and exits 1; the API maps the families to one JSON error shape.
"""

from __future__ import annotations


class LingxiError(Exception):
    """Base for errors Lingxi raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message}\n  hint: {self.hint}" if self.hint else message


class ConfigError(LingxiError, ValueError):
    """A setting or an option is invalid."""


class SpecError(LingxiError, ValueError):
    """A definition (mapping file, tag, segment...) is invalid; lists every problem."""

    def __init__(self, subject: str, problems: list[str], *, hint: str | None = None) -> None:
        self.subject = subject
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{subject} is invalid ({count}):\n{lines}", hint=hint)


class EngineError(LingxiError):
    """The engine failed; the message carries the SQL."""


class UnsupportedOnEngine(LingxiError):
    """A valid definition that this engine cannot run."""


class MissingDependency(LingxiError, ImportError):
    """An optional extra is not installed."""


class NotFound(LingxiError, LookupError):
    """A named object does not exist."""


class InputError(LingxiError, ValueError):
    """An input file cannot be read as given (format, encoding, columns)."""


class DataQualityError(LingxiError):
    """A load finished but too much of its input was quarantined."""


class StoreError(LingxiError):
    """The operational store is unreachable or not migrated."""
