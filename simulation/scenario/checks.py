"""Checks across parameters that a type cannot express: sums, horizons, country codes, consistency."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved, is_schedule_param
from simulation.scenario.types import REGIONS, TYPES
from simulation.scenario.yamlio import KeyPath

if TYPE_CHECKING:  # imported where it is used, at run time
    from simulation.scenario.countries import CountryTable

SUM_TO_ONE: tuple[KeyPath, ...] = (
    ("world", "size_shares"),
    ("world", "domain_shares"),
    ("market", "type_mix_developing"),
    ("market", "type_mix_developed"),
    ("market", "domain_mix"),
)
MAX_MONTHS = 1200
MAX_TENDERS = 3_000_000
MAX_FIRM_COUNTRY_CELLS = 400_000_000


def month_index(ym: str) -> int:
    y, m = ym.split("-")
    return int(y) * 12 + int(m) - 1


def _blame(r: Resolved, paths: list[KeyPath]) -> KeyPath:
    """Of parameters that disagree, the one set last: by --set, else in the scenario file itself, else
    in the nearest file it extends. The user changed that one, so the message points there."""

    def rank(p: KeyPath) -> int:
        pr = r.prov.get(p)
        if pr is None:
            return len(r.files) + 1
        return -1 if pr.kind == "override" else (r.files.index(pr.file) if pr.file in r.files else len(r.files))

    return min(paths, key=rank)


def _sum_check(r: Resolved, prefix: KeyPath, by_section: dict[KeyPath, list[KeyPath]]) -> None:
    keys = by_section.get(prefix, [])
    total = sum(r.values[p] for p in keys)
    if abs(total - 1.0) > 1e-6:
        file, line = r.where(_blame(r, keys))
        raise InputError(
            f"shares under {'.'.join(prefix)} must sum to 1, they sum to {total:.6g}", file, line, ".".join(prefix)
        )


def _check_schedules(r: Resolved, start: int, end: int) -> None:
    for path, value in r.values.items():
        if not (isinstance(value, dict) and is_schedule_param(path)):
            continue
        if not value:
            raise r.error(path, "a schedule needs at least one {YYYY-MM: value} entry")
        dates = sorted(month_index(k) for k in value)
        if dates[0] > start:
            raise r.error(
                path + (min(value),),
                f"schedule starts {min(value)}, after time.start; give the value in force at the start",
            )
        for k in value:
            if month_index(k) > end:
                raise r.error(path + (k,), f"schedule date {k} is after time.end, outside the horizon")


def _check_market(r: Resolved) -> None:
    m = r.scenario.market
    levels = sorted(m.levels_usd_bn.items())
    if not levels:
        raise r.error(("market", "levels_usd_bn"), "give at least one market level {year: USD bn}")
    for (y1, l1), (y2, l2) in pairwise(levels):
        implied = (l2 / l1) ** (1.0 / (y2 - y1)) - 1.0
        if abs(implied - m.cagr) > 0.005:
            expect = l1 * (1.0 + m.cagr) ** (y2 - y1)
            blamed = _blame(r, [("market", "levels_usd_bn"), ("market", "cagr")])
            raise r.error(
                blamed + ((y2,) if blamed[-1] == "levels_usd_bn" else ()),
                f"market levels disagree with the growth rate: {l1:g} ({y1}) -> {l2:g} ({y2}) is "
                f"{implied * 100:.1f} %/yr, but market.cagr is {m.cagr * 100:.1f} %/yr "
                f"({l1:g} x {1 + m.cagr:.3f}^{y2 - y1} = {expect:.1f}); fix one of them"
                + (" (EVIDENCE.md A: the seed's 617.2 is likely a slip for 717.2)" if l2 == 617.2 else ""),
            )


def _expected_tenders(r: Resolved, n_months: int, start_year: int) -> float:
    m = r.scenario.market
    mean_value = 0.0
    mix = m.type_mix_developing
    for t in TYPES:
        mean_value += getattr(mix, t) * getattr(m.value_median_usd_m, t) * math.exp(m.value_sigma**2 / 2)
    levels = sorted(m.levels_usd_bn.items())
    y0, l0 = levels[-1]
    last_year = start_year + n_months // 12 + 1
    try:  # a far-future horizon (time.start 9999-01) compounds growth over thousands of years
        top = l0 * (1 + max(m.cagr, m.cagr_after, 0.0)) ** max(0, last_year - y0)
    except OverflowError:
        return math.inf
    top = max(top, max(level for _, level in levels))
    return m.addressable_share * top * 1000.0 / max(mean_value, 1e-9) * (n_months / 12.0)


def _check_table_path(r: Resolved, given: str, path: str) -> None:
    """A country table named in a scenario file: a .csv inside the scenario's folders (loader.scenario_roots).
    One given on the command line or by a program (an override) is the user's own choice."""
    from simulation.scenario.loader import link_error, outside

    prov = r.prov.get(("world", "countries_file"))
    if given == "builtin" or prov is None or prov.kind == "override":
        return
    if not given.lower().endswith(".csv"):
        raise r.error(("world", "countries_file"), f"countries_file {given!r:.200} is not a CSV file (*.csv)")
    if r.roots and outside(path, r.roots):
        file, line = r.where(("world", "countries_file"))
        raise link_error("countries_file", given, r.roots, file or "", line, "world.countries_file")


def _dates(obj: Any, path: KeyPath) -> list[tuple[KeyPath, str]]:
    """Every month-valued field (unit YYYY-MM) of a validated section, lists included, with its key path."""
    from simulation.scenario.schema import Section, extra_of

    out: list[tuple[KeyPath, str]] = []
    if isinstance(obj, Section):
        for name, info in type(obj).model_fields.items():
            value = getattr(obj, name)
            if extra_of(info).get("unit") == "YYYY-MM" and isinstance(value, str):
                out.append((path + (name,), value))
            else:
                out += _dates(value, path + (name,))
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            out += _dates(item, path + (i,))
    return out


def horizon_notes(r: Resolved) -> list[tuple[KeyPath, str]]:
    """Dates that are not schedules (a fund's start, an MOU, a centre's opening) outside the horizon: allowed
    (an MOU of 2017 still raises the 2019 relationship; a fund starting in 2040 never invests) but said."""
    s = r.scenario
    start, end = month_index(s.time.start), month_index(s.time.end)
    notes = []
    for path, ym in _dates(s, ()):
        if path in (("time", "start"), ("time", "end")):
            continue
        if month_index(ym) > end:
            notes.append((path, f"{ym} is after time.end {s.time.end}: it never happens in this run"))
        elif month_index(ym) < start and path[-1] == "start":
            notes.append((path, f"{ym} is before time.start {s.time.start}: in force from the first month"))
    return notes


def check_semantics(r: Resolved) -> None:
    from simulation.scenario.countries import load_countries, resolve_path

    s = r.scenario
    start, end = month_index(s.time.start), month_index(s.time.end)
    times = [("time", "end"), ("time", "start")]
    if end < start:
        raise r.error(_blame(r, times), f"time.end {s.time.end} is before time.start {s.time.start}")
    if end - start + 1 > MAX_MONTHS:
        raise r.error(_blame(r, times), f"horizon longer than {MAX_MONTHS} months")
    _check_shares(r)
    _check_schedules(r, start, end)
    _check_market(r)
    n_months = end - start + 1
    expected = _expected_tenders(r, n_months, int(s.time.start[:4]))
    if expected > MAX_TENDERS:
        raise r.error(
            ("market", "addressable_share"),
            f"this market would issue about {expected:,.0f} tenders, more than the {MAX_TENDERS:,} "
            "the model supports; lower the market level or the addressable share",
        )

    file, _ = r.where(("world", "countries_file"))
    path, shown = resolve_path(s.world.countries_file, file)
    _check_table_path(r, s.world.countries_file, path)
    try:
        table = load_countries(path, shown)
    except InputError as exc:
        if exc.line is None:  # the table as a whole is unusable: point at the scenario line naming it
            what = exc.message.removeprefix("country table ")
            short = shown if len(shown) <= 200 else shown[:150] + "..." + shown[-40:]
            raise r.error(("world", "countries_file"), f"country table {short}: {what}") from None
        raise
    r.extra_hash = table.digest
    if s.world.n_firms * table.n > MAX_FIRM_COUNTRY_CELLS:
        raise r.error(("world", "n_firms"), f"{s.world.n_firms} firms x {table.n} countries is too large a world")
    _check_countries(r, table, shown)


def _check_shares(r: Resolved) -> None:
    """Shares that must sum to one, and lag ranges that must be in order."""
    s = r.scenario
    by_section: dict[KeyPath, list[KeyPath]] = {}  # each section's parameters, in the values' order
    for p in r.values:
        by_section.setdefault(p[:-1], []).append(p)
    for prefix in SUM_TO_ONE:
        _sum_check(r, prefix, by_section)
    for region in REGIONS:
        _sum_check(r, ("competition", "origin_mix", region), by_section)
    f1 = s.levers.f1_pis
    total = f1.government_share + f1.public_share + f1.private_target_share
    if abs(total - 1.0) > 1e-6:
        raise r.error(
            _blame(r, [("levers", "f1_pis", k) for k in ("private_target_share", "public_share", "government_share")]),
            f"PIS tranche shares (government + public + private) must sum to 1, they sum to {total:.6g}",
        )
    for lever in ("n1_kscon", "t3_ksp"):
        sec = getattr(s.levers, lever)
        if sec.lag_months_min > sec.lag_months_max:
            raise r.error(
                _blame(r, [("levers", lever, "lag_months_min"), ("levers", lever, "lag_months_max")]),
                "lag_months_min is larger than lag_months_max",
            )


def _check_countries(r: Resolved, table: CountryTable, shown: str) -> None:
    """Every country a lever or a scheduled tender names is in the country table."""

    def check_country(path: KeyPath, code: Any, allow_flag: bool) -> None:
        if allow_flag and isinstance(code, str) and code.startswith("csv:"):
            if code[4:] not in table.flags:
                raise r.error(
                    path, f"unknown flag column {code[4:]!r:.60}; the country table has " + ", ".join(table.flags)
                )
            return
        if code not in table.iso3:
            raise r.error(path, f"country {code!r:.60} is not in the country table {shown}")

    lev = r.scenario.levers
    for name, hubs, flag in (
        ("kotra_centres", lev.n4_hubs.kotra_centres, True),
        ("kind_centres", lev.n4_hubs.kind_centres, True),
    ):
        for i, hub in enumerate(hubs):
            check_country(("levers", "n4_hubs", name, i, "country"), hub.country, flag)
    for i, envoy in enumerate(lev.t4_envoys.countries):
        check_country(("levers", "t4_envoys", "countries", i, "country"), envoy.country, True)
    for i, visit in enumerate(lev.t1_high_level.visits):
        check_country(("levers", "t1_high_level", "visits", i, "country"), visit.country, False)
    for i, mou in enumerate(lev.t5_mou.mous):
        check_country(("levers", "t5_mou", "mous", i, "country"), mou.country, False)
    for i, tender in enumerate(r.scenario.market.scheduled):
        check_country(("market", "scheduled", i, "country"), tender.country, False)
        total = sum(ph.share for ph in tender.phases)
        if tender.phases and abs(total - 1.0) > 1e-6:
            raise r.error(("market", "scheduled", i, "phases"), f"phase shares must sum to 1, they sum to {total:.6g}")
