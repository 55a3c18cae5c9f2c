"""The one error type a user sees for bad input: file, line, key path and what was expected."""
from __future__ import annotations


class ScenarioError(Exception):
    """Bad input. The CLI prints `str(err)` and exits with status 2."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.message, self.file, self.line, self.key = message, file, line, key
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line:
            where += f":{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"
