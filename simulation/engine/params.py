"""Turn a validated scenario into the numeric `Params` the kernels read.

Schedules become per-month (or per-year) arrays, country lists become per-country arrays,
money is put in one unit per quantity (tender values USD m, public money KRW bn).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from simulation.scenario.countries import CountryTable, load_countries, resolve_path
from simulation.engine.kernels.constants import NO_MONTH, NRISK, PPP
from simulation.engine.kernels.financing import interest_pv
from simulation.engine.kernels.knowledge import knowledge_table
from simulation.scenario.checks import month_index
from simulation.scenario.loader import Resolved
from simulation.scenario.types import DOMAINS, INCOMES, ORIGINS, REGIONS, SIZES, TYPES
from simulation.engine.state import Params

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
        for m in range(self.n_months):
            cur = points[0][1]
            for pm, v in points:
                if pm <= m:
                    cur = v
            out[m] = cur
        return out

    def yearly(self, value: Any, dtype=F8) -> np.ndarray:
        """The value in force in each simulated year's first simulated month."""
        monthly = self.monthly(value, dtype)
        out = np.empty(self.n_years, dtype=dtype)
        for y in range(self.n_years):
            out[y] = monthly[int(np.argmax(self.year_of == y))]
        return out


def _market_levels(market, years: list[int]) -> np.ndarray:
    """Global market by calendar year (USD bn): stated levels, cagr between/before, cagr_after beyond."""
    levels = sorted(market.levels_usd_bn.items())
    out = []
    for y in years:
        if y <= levels[0][0]:
            v = levels[0][1] * (1.0 + market.cagr) ** (y - levels[0][0])
        elif y >= levels[-1][0]:
            v = levels[-1][1] * (1.0 + market.cagr_after) ** (y - levels[-1][0])
        else:
            lo = max(p for p in levels if p[0] <= y)
            v = lo[1] * (1.0 + market.cagr) ** (y - lo[0])
        out.append(v)
    return np.array(out, dtype=F8)


def _pv(rate: float, years: int, disc: float) -> float:
    """kernels.financing.interest_pv as plain Python (its `py_func`: no compilation to build Params)."""
    return float(interest_pv.py_func(rate, years, disc))


def _monthly_pd(annual: list[float]) -> np.ndarray:
    return np.array([1.0 - (1.0 - p) ** (1.0 / 12.0) for p in annual], dtype=F8)


def _from_months(items, table: CountryTable, cal: Calendar, max_n: int | None = None) -> np.ndarray:
    """Per-country month from which a centre/envoy is active (NO_MONTH if never)."""
    out = np.full(table.n, NO_MONTH, dtype=I8)
    codes: list[tuple[str, int]] = []
    for it in items:
        names = table.flagged(it.country[4:]) if it.country.startswith("csv:") else [it.country]
        for code in names:
            codes.append((code, cal.month(it.start)))
    seen = 0
    for code, m in codes:
        c = table.index(code)
        if out[c] != NO_MONTH:
            out[c] = min(out[c], max(m, 0))
            continue
        if max_n is not None and seen >= max_n:
            continue
        out[c] = max(m, 0)
        seen += 1
    return out


def country_table(r: Resolved) -> CountryTable:
    file, _ = r.where(("world", "countries_file"))
    path, shown = resolve_path(r.scenario.world.countries_file, file)
    return load_countries(path, shown)


def pis_tranches(f1, order: str) -> np.ndarray:
    """Paid-in capital per tranche (KRW bn): private money joins by how safe its tranche looks (F2)."""
    gov = f1.fund_krw_bn * f1.government_share
    pub = f1.fund_krw_bn * f1.public_share
    priv_target = f1.fund_krw_bn * f1.private_target_share
    first_loss = (gov + pub) / f1.fund_krw_bn if f1.fund_krw_bn > 0 else 0.0
    if order == "pari_passu" or first_loss >= 1.0:
        private_loss = f1.expected_loss_rate
    else:
        private_loss = max(0.0, f1.expected_loss_rate - first_loss) / (1.0 - first_loss)
    appetite = min(1.0, max(0.0, 1.0 - private_loss / f1.private_loss_tolerance))
    if not f1.enabled:
        return np.zeros(3, dtype=F8)
    return np.array([gov, pub, priv_target * appetite], dtype=F8)


def build_params(r: Resolved, table: CountryTable | None = None) -> tuple[Params, Calendar, CountryTable]:
    s = r.scenario
    table = table or country_table(r)
    cal = Calendar(s.time.start, s.time.end)
    lev, mk, comp, fin = s.levers, s.market, s.competition, s.finance
    n_months, n_years = cal.n_months, cal.n_years
    C = table.n
    krw = fin.krw_per_usd

    # market: addressable USD m per month
    levels = _market_levels(mk, cal.years)
    tender_scale = np.array([mk.addressable_share * levels[y] * 1000.0 / 12.0 for y in cal.year_of], dtype=F8)
    developing = (table.income < INCOMES.index("high")).astype(np.uint8)

    def mix(sec, keys) -> np.ndarray:
        return np.array([getattr(sec, k) for k in keys], dtype=F8)

    type_mix = np.vstack([mix(mk.type_mix_developing, TYPES), mix(mk.type_mix_developed, TYPES)])
    medians = mix(mk.value_median_usd_m, TYPES)
    mean_value = np.array([float(np.sum(type_mix[j] * medians)) * math.exp(mk.value_sigma ** 2 / 2.0)
                           for j in range(2)], dtype=F8)

    subsidy_ratio = np.stack([cal.monthly(getattr(lev.n2_subsidy.ratio, k)) for k in SIZES], axis=1)
    year_frac = np.array([np.sum(cal.year_of == y) / 12.0 for y in range(n_years)], dtype=F8)

    region_in = lambda regions: np.array([REGIONS[g] in regions for g in table.region], dtype=np.uint8)  # noqa: E731
    kotra_from = _from_months(lev.n4_hubs.kotra_centres, table, cal, lev.n4_hubs.kotra_max_centres)
    kind_from = _from_months(lev.n4_hubs.kind_centres, table, cal)
    envoy_from = _from_months(lev.t4_envoys.countries, table, cal)
    n6 = region_in(lev.n6_intl_orgs.regions)
    n6_access = np.where(n6 == 1, lev.n6_intl_orgs.access, s.discovery.mdb_access_base).astype(F8)
    blended_ok = (np.array([INCOMES[g] in lev.f3_blended.eligible_incomes for g in table.income]) &
                  bool(lev.f3_blended.enabled)).astype(np.uint8)

    origin_cum = np.vstack([np.cumsum(mix(getattr(comp.origin_mix, reg), ORIGINS)) for reg in REGIONS])
    rel_f = np.vstack([mix(getattr(comp.relationship, REGIONS[g]), ORIGINS) for g in table.region])
    disc = s.discovery
    # the gravity baseline of learning of a tender in each country: market weight (relative to the
    # average country), distance from Seoul, the 2019 relationship
    disc_odds = (disc.odds_base * (table.weight * C) ** disc.market_elasticity
                 * (table.distance / disc.reference_distance_km) ** (-disc.distance_elasticity)
                 * disc.relationship_odds ** table.relationship)
    fin_n = np.array([int(round(y)) for y in mix(mk.finance_years, TYPES)], dtype=I8)
    fin_share = mix(mk.financed_share, TYPES)
    premium = np.array(fin.risk_premium.as_list(), dtype=F8)
    contract_years = mix(mk.contract_months, TYPES) / 12.0
    annual_pd = np.array(fin.contract_default_pd.as_list(), dtype=F8)
    # expected loss from a buyer's default over a contract, per unit of value, by risk class and type
    el = s.behaviour.default_loss_share * (1.0 - (1.0 - annual_pd[:, None]) ** contract_years[None, :])
    # the foreign bids' log financing term by origin, type and risk class: the origin's rate plus the
    # buyer's country-risk premium, which every bidder pays, as the PV of an amortising loan's interest
    o_lnfin = np.array([[[math.log(1.0 + f * _pv(r + premium[q], int(n), fin.base_rate + premium[q]))
                          for q in range(NRISK)] for n, f in zip(fin_n, fin_share)]
                        for r in [getattr(getattr(comp.profiles, o), "rate") for o in ORIGINS]], dtype=F8)
    # F6: an SME's saving on a sole contract per unit of value, the larger of the guarantee-fee cut
    # (on the performance bond, for the contract's life) and the contract-performance loan's cut
    f6 = lev.f6_sme_sole
    sole_save = np.array([max(f6.guarantee_fee_cut * s.behaviour.bond_share * cy,
                              fin.working_capital_share * (_pv(fin.base_rate, max(1, int(round(cy))), fin.base_rate)
                                                           - _pv(max(0.0, fin.base_rate - f6.loan_rate_cut),
                                                                 max(1, int(round(cy))), fin.base_rate)))
                          for cy in contract_years], dtype=F8)
    prof = lambda attr: np.array([getattr(getattr(comp.profiles, o), attr) for o in ORIGINS], dtype=F8)  # noqa: E731
    wkeys = ("quality", "price", "finance", "relationship", "track_record", "incumbency")
    wts = np.vstack([mix(s.award.developing, wkeys), mix(s.award.developed, wkeys)])

    f1 = lev.f1_pis
    pis_start = cal.month(f1.start)
    events = lambda items, attr: sorted((cal.month(getattr(it, attr)), table.index(it.country)) for it in items)  # noqa: E731
    visits = events(lev.t1_high_level.visits, "date")
    mous = events(lev.t5_mou.mous, "date")
    ev_arr = lambda ev, k: np.array([e[k] for e in ev], dtype=I8)  # noqa: E731

    p = dict(
        n_months=n_months, n_years=n_years, n_firms=s.world.n_firms, n_countries=C,
        year_of=cal.year_of, moy=cal.moy, tender_scale=tender_scale,
        reach=np.where(cal.monthly(lev.t2_coordination.enabled, np.int64) > 0, 1.0,
                       lev.t2_coordination.reach_without).astype(F8),
        db_on=np.where((np.arange(n_months) >= cal.month(lev.n3_info_db.start)) & lev.n3_info_db.enabled, 1.0, 0.0),
        coentry_cut=cal.monthly(lev.f5_co_entry.rate_cut) * (1.0 if lev.f5_co_entry.enabled else 0.0),
        subsidy_ratio=np.ascontiguousarray(subsidy_ratio),
        wide_scope=cal.monthly(lev.n2_subsidy.wide_scope, np.int64).astype(F8),
        coord_cost=(cal.monthly(lev.t2_coordination.enabled, np.int64) > 0) * lev.t2_coordination.cost_krw_bn_per_year / 12.0,
        subsidy_budget=cal.yearly(lev.n2_subsidy.budget_krw_bn_per_year) * year_frac,
        blended_budget=cal.yearly(lev.f3_blended.budget_usd_m_per_year) * year_frac * (1.0 if lev.f3_blended.enabled else 0.0),
        edpf_budget=cal.yearly(lev.f8_edpf.budget_usd_m_per_year) * year_frac * (1.0 if lev.f8_edpf.enabled else 0.0),
        pot_topup=cal.yearly(lev.f5_co_entry.topup_krw_bn_per_year),
        slots=cal.yearly(lev.c2_consortia.slots_per_year, I8),
        kscon_n=cal.yearly(lev.n1_kscon.selections_per_year, I8) * (1 if lev.n1_kscon.enabled else 0),
        ksp_n=cal.yearly(lev.t3_ksp.projects_per_year, I8),
        training_n=cal.yearly(lev.n5_training.cohorts_per_year, I8),
        roadshows_n=cal.yearly(lev.c5_roadshows.per_year, I8),
        year_frac=year_frac,
        region=table.region, income=table.income, developing=developing, risk=table.risk,
        weight=table.weight, distance=table.distance, rel_base=table.relationship, mdb_share=table.mdb_share,
        kotra_from=kotra_from, kind_from=kind_from, envoy_from=envoy_from, n6_access=n6_access,
        blended_ok=blended_ok,
        kscon_ok=region_in(lev.n1_kscon.eligible_regions) & developing,
        ksp_ok=region_in(lev.t3_ksp.eligible_regions) & developing,
        train_ok=region_in(lev.n5_training.target_regions),
        mean_value=mean_value, type_cum=np.ascontiguousarray(np.cumsum(type_mix, axis=1)),
        value_mu=np.log(medians), value_sigma=float(mk.value_sigma),
        open_m=mix(mk.open_months, TYPES).astype(I8), contract_m=mix(mk.contract_months, TYPES).astype(I8),
        fin_share=fin_share, fin_n=fin_n, el=np.ascontiguousarray(el),
        bid_cost=mix(mk.bid_cost_share, TYPES), domain_cum=np.cumsum(mix(mk.domain_mix, DOMAINS)),
        foreign_mean=float(comp.foreign_bids_mean), foreign_disp=float(comp.foreign_bids_dispersion),
        strength=float(comp.strength), quality_shift=float(comp.quality_shift),
        origin_cum=np.ascontiguousarray(origin_cum),
        o_q=prof("quality"), o_qsd=prof("quality_sd"), o_mk=prof("markup"), o_mksd=prof("markup_sd"),
        o_fs=prof("finance_score"),
        wts=np.ascontiguousarray(wts),
        o_lnfin=np.ascontiguousarray(o_lnfin),
        o_lnexp=np.array([math.log(1.0 + x) for x in prof("experience")], dtype=np.float64),
        rel_f=np.ascontiguousarray(rel_f),
        bids_elast=float(comp.bids_value_elasticity), bids_risk=float(comp.bids_risk_slope),
        ref_value=float(comp.reference_value_usd_m),
        nest=s.award.nest_scale, reserve=s.award.reservation_utility, retender_p=s.award.retender_prob,
        retender_lag=s.award.retender_lag_months,
        sc_pis=s.award.scores.pis, sc_blended=s.award.scores.blended, sc_edpf=s.award.scores.edpf,
        sc_ksure=s.award.scores.ksure, ksp_inc=s.award.scores.ksp_incumbency,
        margin=s.behaviour.margin, prior_w=s.behaviour.belief_prior_wins, prior_l=s.behaviour.belief_prior_losses,
        bond_share=s.behaviour.bond_share, crowding=s.behaviour.crowding, q_noise=s.behaviour.quality_noise_sd,
        default_loss=s.behaviour.default_loss_share, dom_income=s.world.domestic_income,
        risk_aversion=s.behaviour.risk_aversion, partner_prob=s.behaviour.partner_prob,
        entry_cost=s.behaviour.entry_cost_share,
        disc_odds=disc_odds.astype(F8), size_odds=mix(disc.size_odds, SIZES),
        known_gain=disc.known_odds - 1.0, contact_gain=disc.contact_odds - 1.0,
        contact_decay=2.0 ** (-1.0 / s.discovery.contact_half_life_months),
        k_table=knowledge_table(s.knowledge.half_life_new_months, s.knowledge.half_life_established_months,
                                s.knowledge.uses_to_establish, n_months, s.knowledge.introduction_strength),
        k_uses=s.knowledge.uses_to_establish,
        rel_decay=2.0 ** (-1.0 / s.relationship.half_life_months), win_boost=s.relationship.win_boost,
        krw=krw, base_rate=fin.base_rate, premium=premium,
        contract_pd_m=_monthly_pd(fin.contract_default_pd.as_list()), max_uninsured=fin.max_uninsured_risk,
        pis_on=int(f1.enabled), pis_start_m=pis_start,
        pis_invest_end_m=pis_start + int(round(lev.f4_fund_life.investment_period_years * 12)),
        pis_fund_end_m=pis_start + int(round(lev.f4_fund_life.fund_life_years * 12)),
        pis_equity=f1.equity_share, pis_max_eq=f1.max_equity_krw_bn,
        pis_hold_m=max(1, int(round(f1.holding_years * 12))), pis_mult=f1.return_multiple,
        pis_pd_m=_monthly_pd(f1.project_default_pd.as_list()), pis_lgd=f1.loss_given_default,
        pis_fund_rate_m=f1.public_funding_rate / 12.0,
        loss_order=0 if lev.f2_loss_order.order == "subordinated" else 1,
        blended_cut=lev.f3_blended.rate_cut,
        coentry_on=int(lev.f5_co_entry.enabled),
        sole_on=int(lev.f6_sme_sole.enabled), sole_save=sole_save,
        ksure_on=int(lev.f7_ksure.enabled), ksure_cover=lev.f7_ksure.cover_share,
        ksure_price=lev.f7_ksure.premium_to_expected_loss,
        edpf_on=int(lev.f8_edpf.enabled), edpf_cut=lev.f8_edpf.rate_cut,
        kscon_on=int(lev.n1_kscon.enabled), kscon_moy=lev.n1_kscon.call_month - 1,
        kscon_cost=lev.n1_kscon.cost_krw_bn_per_selection, kscon_follow=lev.n1_kscon.follow_on_prob,
        kscon_lag_min=lev.n1_kscon.lag_months_min, kscon_lag_max=lev.n1_kscon.lag_months_max,
        kscon_boost=lev.n1_kscon.relationship_boost,
        subsidy_cap_usd=lev.n2_subsidy.cap_krw_mn / 1000.0 * 1000.0 / krw,
        db_gain=lev.n3_info_db.discovery_odds - 1.0, db_cost_m=lev.n3_info_db.cost_krw_bn_per_year / 12.0,
        kotra_gain=lev.n4_hubs.kotra_discovery_odds - 1.0, kotra_cut=lev.n4_hubs.kotra_bid_cost_cut,
        kotra_cost_m=lev.n4_hubs.kotra_cost_krw_bn_per_year / 12.0,
        kind_gain=lev.n4_hubs.kind_ppp_discovery_odds - 1.0, kind_cost_m=lev.n4_hubs.kind_cost_krw_bn_per_year / 12.0,
        intl_cost_m=len(lev.n6_intl_orgs.regions) * lev.n6_intl_orgs.cost_krw_bn_per_region_per_year / 12.0,
        train_moy=lev.n5_training.month - 1, train_boost=lev.n5_training.relationship_boost,
        train_cost=lev.n5_training.cost_krw_bn_per_cohort,
        expo_on=int(lev.c1_expo.enabled), expo_start_m=cal.month(lev.c1_expo.start), expo_moy=lev.c1_expo.month - 1,
        expo_buyers=lev.c1_expo.buyer_countries, expo_attend=lev.c1_expo.firm_attendance,
        expo_meet=lev.c1_expo.meet_prob, expo_boost=lev.c1_expo.relationship_boost, expo_cost=lev.c1_expo.cost_krw_bn,
        cons_min_value=lev.c2_consortia.min_value_usd_m, cons_sme_share=lev.c2_consortia.sme_share,
        cons_synergy=lev.c2_consortia.synergy, cons_cost=lev.c2_consortia.cost_krw_bn_per_consortium,
        catalogue=int(lev.c3_alliance.catalogue),
        alliance_cost_m=lev.c3_alliance.cost_krw_bn_per_year / 12.0 if lev.c3_alliance.catalogue else 0.0,
        strategy_cost_m=lev.c6_strategy.cost_krw_bn_per_year / 12.0 if lev.c6_strategy.enabled else 0.0,
        fair_on=int(lev.c4_fair.enabled), fair_moy=lev.c4_fair.month - 1, fair_region=REGIONS.index(lev.c4_fair.region),
        fair_firms=lev.c4_fair.firms, fair_contact=lev.c4_fair.contact_boost, fair_boost=lev.c4_fair.relationship_boost,
        fair_cost=lev.c4_fair.cost_krw_bn,
        rs_regions=np.array([REGIONS.index(g) for g in lev.c5_roadshows.regions], dtype=I8),
        rs_firms=lev.c5_roadshows.firms_per_roadshow, rs_contact=lev.c5_roadshows.contact_boost,
        rs_boost=lev.c5_roadshows.relationship_boost, rs_cost=lev.c5_roadshows.cost_krw_bn_each,
        fit=np.array([lev.c6_strategy.fit_developing, lev.c6_strategy.fit_developed], dtype=F8)
        * (1.0 if lev.c6_strategy.enabled else 0.0),
        visit_m=ev_arr(visits, 0), visit_c=ev_arr(visits, 1), visit_boost=lev.t1_high_level.relationship_boost,
        visit_cost=lev.t1_high_level.cost_krw_bn_per_visit,
        ksp_moy=lev.t3_ksp.month - 1, ksp_cost=lev.t3_ksp.cost_krw_bn_per_project, ksp_follow=lev.t3_ksp.follow_on_prob,
        ksp_lag_min=lev.t3_ksp.lag_months_min, ksp_lag_max=lev.t3_ksp.lag_months_max, ksp_boost=lev.t3_ksp.relationship_boost,
        envoy_boost=lev.t4_envoys.relationship_boost_per_month, envoy_cost_m=lev.t4_envoys.cost_krw_bn_per_year / 12.0,
        mou_m=ev_arr(mous, 0), mou_c=ev_arr(mous, 1), mou_boost=lev.t5_mou.relationship_boost,
        mou_cost=lev.t5_mou.cost_krw_bn_per_mou,
    )
    return Params(**p), cal, table


def scheduled_tenders(r: Resolved, cal: Calendar, table: CountryTable) -> list[tuple[int, int, int, int, float, int]]:
    """(month, country, domain, type, value USD m, incumbency) of named mega-project phases in the horizon."""
    from simulation.engine.kernels.constants import INC_FULL, INC_NONE

    out = []
    for st in r.scenario.market.scheduled:
        for ph in st.phases:
            m = cal.month(ph.date)
            if 0 <= m < cal.n_months and ph.share > 0:
                out.append((m, table.index(st.country), DOMAINS.index(st.domain), TYPES.index(st.type),
                            st.value_usd_m * ph.share, INC_FULL if st.korean_incumbent else INC_NONE))
    out.sort(key=lambda e: e[0])
    return out


assert PPP == TYPES.index("ppp") and NRISK == 8
