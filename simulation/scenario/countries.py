"""The country table: buyers, their region, income, risk class, demand weight and the plan's flags."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from simulation.scenario.errors import InputError
from simulation.scenario.types import INCOMES, REGIONS

COLUMNS = [
    "iso3",
    "name",
    "region",
    "income_group",
    "risk_class",
    "market_weight",
    "relationship_2019",
    "mou_date",
    "kotra_centre_2020",
    "kotra_plan_2019",
    "kind_centre",
    "mdb_share",
    "distance_km",
    "source",
    "notes",
]
FLAG_COLUMNS = ("kotra_centre_2020", "kotra_plan_2019", "kind_centre")


@dataclass(frozen=True)
class CountryTable:
    path: str
    digest: str
    iso3: tuple[str, ...]
    name: tuple[str, ...]
    region: np.ndarray  # int64 index into REGIONS
    income: np.ndarray  # int64 index into INCOMES
    risk: np.ndarray  # int64 0..7
    weight: np.ndarray  # float64, normalised to sum 1
    relationship: np.ndarray  # float64 0..1
    mdb_share: np.ndarray  # float64 0..1
    distance: np.ndarray  # float64 km from Seoul (great circle to the capital)
    flags: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return len(self.iso3)

    def index(self, iso3: str) -> int:
        return self.iso3.index(iso3)

    def flagged(self, column: str) -> list[str]:
        """Countries with a flag set, largest market weight first (ties by code)."""
        idx = [i for i in range(self.n) if self.flags[column][i]]
        idx.sort(key=lambda i: (-self.weight[i], self.iso3[i]))
        return [self.iso3[i] for i in idx]


def builtin_path() -> str:
    return str(resources.files("simulation") / "data" / "countries.csv")


def resolve_path(countries_file: str, scenario_file: str | None) -> tuple[str, str]:
    """(real path, path as shown to the user)."""
    if countries_file == "builtin":
        return builtin_path(), "simulation/data/countries.csv"
    base = os.path.dirname(scenario_file) if scenario_file and scenario_file != "--set" else "."
    path = os.path.join(base, countries_file)
    return path, os.path.normpath(path)


MAX_TABLE_BYTES = 5_000_000


def load_countries(path: str, shown: str) -> CountryTable:
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        raise InputError("country table not found", shown) from None
    if not stat.S_ISREG(st.st_mode):  # a folder, a FIFO or a device (/dev/zero) would fail or never end
        raise InputError("country table is not a regular file", shown)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TABLE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the country table: {exc.strerror}", shown) from None
    if len(raw) > MAX_TABLE_BYTES:
        raise InputError(f"country table larger than {MAX_TABLE_BYTES // 1_000_000} MB", shown)
    return _load(raw, shown)


def _check_row(rec: dict[str, str], seen: set[str], shown: str, ln: int) -> tuple[int, dict[str, float]]:
    """Check one row of the country table; its risk class and its numeric columns."""

    def bad(col: str, what: str) -> InputError:  # the cell itself is not quoted: see loader.YAML_SUFFIXES
        return InputError(f"column {col}: expected {what}", shown, ln)

    if not re.fullmatch(r"[A-Z]{3}", rec["iso3"]) or rec["iso3"] in seen:
        raise bad("iso3", "a new three-letter ISO code")
    if rec["region"] not in REGIONS:
        raise bad("region", "one of " + ", ".join(REGIONS))
    if rec["income_group"] not in INCOMES:
        raise bad("income_group", "one of " + ", ".join(INCOMES))
    try:
        risk = int(rec["risk_class"])
        assert 0 <= risk <= 7
    except (ValueError, AssertionError):
        raise bad("risk_class", "an integer 0-7") from None
    nums = {}
    for col, lo, hi in (
        ("market_weight", 0.0, 1e9),
        ("relationship_2019", 0.0, 1.0),
        ("mdb_share", 0.0, 1.0),
        ("distance_km", 1.0, 25_000.0),
    ):
        try:
            v = float(rec[col])
            assert lo <= v <= hi and v == v
        except (ValueError, AssertionError):
            raise bad(col, f"a number in [{lo:g}, {hi:g}]") from None
        nums[col] = v
    if rec["mou_date"] and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", rec["mou_date"]):
        raise bad("mou_date", "YYYY-MM or empty")
    for col in FLAG_COLUMNS:
        if rec[col] not in ("0", "1"):
            raise bad(col, "0 or 1")
    return risk, nums


@lru_cache(maxsize=16)
def _load(raw: bytes, shown: str) -> CountryTable:
    """Parse a table (cached by content: an edit within one mtime tick can never serve a stale table)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("country table is not UTF-8 text", shown) from None
    reader = csv.reader(text.splitlines())
    try:
        rows = list(reader)
    except csv.Error as exc:  # a NUL byte, or a field over the csv module's size limit
        raise InputError(f"unreadable CSV: {exc}", shown, reader.line_num or None) from None
    if not rows or rows[0] != COLUMNS:
        raise InputError(f"country table header must be: {','.join(COLUMNS)}", shown, 1)
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    seen: set[str] = set()
    for ln, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(COLUMNS):
            raise InputError(f"expected {len(COLUMNS)} columns, found {len(row)}", shown, ln)
        rec = dict(zip(COLUMNS, row, strict=True))
        risk, nums = _check_row(rec, seen, shown, ln)
        seen.add(rec["iso3"])
        cols["iso3"].append(rec["iso3"])
        cols["name"].append(rec["name"])
        cols["region"].append(REGIONS.index(rec["region"]))
        cols["income_group"].append(INCOMES.index(rec["income_group"]))
        cols["risk_class"].append(risk)
        for col, v in nums.items():
            cols[col].append(v)
        for col in FLAG_COLUMNS:
            cols[col].append(rec[col] == "1")
    if not cols["iso3"]:
        raise InputError("country table has no rows", shown)
    weight = np.array(cols["market_weight"], dtype=np.float64)
    if weight.sum() <= 0:
        raise InputError("column market_weight: at least one country needs a positive weight", shown)
    return CountryTable(
        path=shown,
        digest=hashlib.sha256(raw).hexdigest(),
        iso3=tuple(cols["iso3"]),
        name=tuple(cols["name"]),
        region=np.array(cols["region"], dtype=np.int64),
        income=np.array(cols["income_group"], dtype=np.int64),
        risk=np.array(cols["risk_class"], dtype=np.int64),
        weight=weight / weight.sum(),
        relationship=np.array(cols["relationship_2019"], dtype=np.float64),
        mdb_share=np.array(cols["mdb_share"], dtype=np.float64),
        distance=np.array(cols["distance_km"], dtype=np.float64),
        flags={c: np.array(cols[c], dtype=bool) for c in FLAG_COLUMNS},
    )
