"""Month indices of a run: month 0 is `time.start`.

Schedules in a scenario are {YYYY-MM: value} steps; the calendar evaluates them per month or per
year. It lives with the scenario because checks (inert levers, validation twins) need it without
building the engine's parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulation.scenario.checks import month_index

F8 = np.float64
I8 = np.int64


class Calendar:
    """Month indices of the run: month 0 is time.start."""

    def __init__(self, start: str, end: str) -> None:
        self.start_abs = month_index(start)
        self.n_months = month_index(end) - self.start_abs + 1
        self.start_year = self.start_abs // 12
        self.end_year = (self.start_abs + self.n_months - 1) // 12
        self.n_years = self.end_year - self.start_year + 1
        absm = self.start_abs + np.arange(self.n_months)
        self.year_of = (absm // 12 - self.start_year).astype(I8)
        self.moy = (absm % 12).astype(I8)
        # the run month each simulated year starts in (year_of ascends, every year has a month)
        self.first_of_year = np.searchsorted(self.year_of, np.arange(self.n_years))

    def month(self, ym: str) -> int:
        """Run month of a YYYY-MM date (may be negative or beyond the horizon)."""
        return month_index(ym) - self.start_abs

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))

    def monthly(self, value: Any, dtype=F8) -> np.ndarray:
        """A constant or a {YYYY-MM: value} step schedule, evaluated at every month."""
        out = np.empty(self.n_months, dtype=dtype)
        if not isinstance(value, dict):
            out[:] = value
            return out
        points = sorted((self.month(k), v) for k, v in value.items())
        out[:] = points[0][1]  # before the first step, its value
        for pm, v in points:  # each step from its month on (a later one overrides)
            if pm < self.n_months:
                out[max(pm, 0) :] = v
        return out

    def yearly(self, value: Any, dtype=F8) -> np.ndarray:
        """The value in force in each simulated year's first simulated month."""
        return self.monthly(value, dtype)[self.first_of_year]
