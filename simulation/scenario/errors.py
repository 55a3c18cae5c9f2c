"""The one error type a user sees for bad input: file, line, key path and what was expected."""

from __future__ import annotations

MAX_KEY_CHARS = 200


def one_line(text: str) -> str:
    """Escape control characters (newlines, NUL, lone surrogates...) so a message stays one printable line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class InputError(Exception):
    """Bad input of any kind (a scenario or experiment file, a CLI flag, a results store). The CLI
    prints `str(err)` and exits with status 2."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None, key: str | None = None) -> None:
        self.message, self.file, self.line, self.key = message, file, line, key
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or ""
        if self.line:
            where += f":{self.line}"
        key = self.key or ""
        if len(key) > MAX_KEY_CHARS:
            key = key[: MAX_KEY_CHARS - 3] + "..."
        text = ": ".join(part for part in (where, key, self.message) if part)
        return one_line(text)


ScenarioError = InputError  # the old name, kept so that existing code that catches it still works
