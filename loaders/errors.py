"""Loader errors. Every problem names the file, the row (feature), the column, the value
received and what was expected; a load reports all of them at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Problem", "LoadRefusedError", "format_problems"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    row: int | None  # 1-based data row / feature number; None for file-level problems
    column: str | None
    value: str | None
    code: str  # stable English code for programs, e.g. "no_crs", "invalid_geometry"
    message: str  # Chinese message for users, saying what was expected and how to fix it

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column:
            where += f" 列[{self.column}]"
        value = f" 值={self.value!r}" if self.value is not None else ""
        return f"{where}{value}: {self.message} ({self.code})"


def format_problems(problems: list[Problem]) -> str:
    return "\n".join(f"  - {p}" for p in problems)


class LoadRefusedError(ValueError):
    """The file was refused as a whole; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(f"load refused, {len(problems)} problem(s):\n{format_problems(self.problems)}")
