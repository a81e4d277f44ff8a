"""Input checks that collect every problem before refusing, so a form shows them all."""

from __future__ import annotations

import math

from .enums import Direction
from .errors import DomainError, ErrorCode, Problem
from .i18n import Msg, msg

MAX_WEIGHT = 1000.0


class Checks:
    """Accumulates problems; ``done()`` raises them together."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, code: ErrorCode, message: Msg, field: str | None) -> None:
        self.problems.append(Problem(code, message, field))

    def text(self, field: str, value: str | None, max_length: int, required: bool = True) -> None:
        if value is None:
            if required:
                self.add(ErrorCode.REQUIRED, msg("error.required", field=field), field)
            return
        if required and not value.strip():
            self.add(ErrorCode.REQUIRED, msg("error.blank", field=field), field)
        elif len(value) > max_length:
            self.add(ErrorCode.INVALID, msg("error.too_long", field=field, limit=max_length), field)

    def number(self, field: str, value: float | None) -> bool:
        if value is None:
            return False
        if math.isnan(value) or math.isinf(value):
            self.add(ErrorCode.INVALID, msg("error.not_finite", field=field), field)
            return False
        return True

    def weight(self, field: str, value: float | None) -> None:
        if self.number(field, value) and value is not None and not 0 < value <= MAX_WEIGHT:
            self.add(
                ErrorCode.OUT_OF_RANGE,
                msg("error.weight_range", field=field, max=MAX_WEIGHT),
                field,
            )

    def fraction(self, field: str, value: float | None) -> None:
        if self.number(field, value) and value is not None and not 0.0 <= value <= 1.0:
            self.add(ErrorCode.OUT_OF_RANGE, msg("error.fraction_range", field=field), field)

    def threshold(self, direction: Direction, target: float, threshold: float) -> None:
        """The pass threshold (达标门槛) sits on the easier side of the target."""
        if not (self.number("target", target) and self.number("threshold", threshold)):
            return
        if direction is Direction.HIGHER_IS_BETTER and threshold > target:
            self.add(
                ErrorCode.INVALID,
                msg("kpi.threshold_above_target"),
                "threshold",
            )
        if direction is Direction.LOWER_IS_BETTER and threshold < target:
            self.add(
                ErrorCode.INVALID,
                msg("kpi.threshold_below_target"),
                "threshold",
            )

    def done(self) -> None:
        if self.problems:
            raise DomainError(*self.problems)
