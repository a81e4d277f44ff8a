"""Input checks that collect every problem before refusing, so a form shows them all."""

from __future__ import annotations

import math

from .enums import Direction
from .errors import DomainError, ErrorCode, Problem

MAX_WEIGHT = 1000.0


class Checks:
    """Accumulates problems; ``done()`` raises them together."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, code: ErrorCode, message: str, field: str | None) -> None:
        self.problems.append(Problem(code, message, field))

    def text(self, field: str, value: str | None, max_length: int, required: bool = True) -> None:
        if value is None:
            if required:
                self.add(ErrorCode.REQUIRED, f"{field} is required", field)
            return
        if required and not value.strip():
            self.add(ErrorCode.REQUIRED, f"{field} must not be blank", field)
        elif len(value) > max_length:
            self.add(ErrorCode.INVALID, f"{field} is longer than {max_length} characters", field)

    def number(self, field: str, value: float | None) -> bool:
        if value is None:
            return False
        if math.isnan(value) or math.isinf(value):
            self.add(ErrorCode.INVALID, f"{field} must be a finite number", field)
            return False
        return True

    def weight(self, field: str, value: float | None) -> None:
        if self.number(field, value) and value is not None and not 0 < value <= MAX_WEIGHT:
            self.add(
                ErrorCode.OUT_OF_RANGE, f"{field} must be above 0 and at most {MAX_WEIGHT:g}", field
            )

    def fraction(self, field: str, value: float | None) -> None:
        if self.number(field, value) and value is not None and not 0.0 <= value <= 1.0:
            self.add(ErrorCode.OUT_OF_RANGE, f"{field} must be between 0 and 1", field)

    def threshold(self, direction: Direction, target: float, threshold: float) -> None:
        """The pass threshold (达标门槛) sits on the easier side of the target."""
        if not (self.number("target", target) and self.number("threshold", threshold)):
            return
        if direction is Direction.HIGHER_IS_BETTER and threshold > target:
            self.add(
                ErrorCode.INVALID,
                "threshold must not exceed target when higher is better",
                "threshold",
            )
        if direction is Direction.LOWER_IS_BETTER and threshold < target:
            self.add(
                ErrorCode.INVALID,
                "threshold must not be below target when lower is better",
                "threshold",
            )

    def done(self) -> None:
        if self.problems:
            raise DomainError(*self.problems)
