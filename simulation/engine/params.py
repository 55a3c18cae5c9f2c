"""Turn a validated scenario into the numeric `Params` the kernels read.

Schedules become per-month (or per-year) arrays, country lists become per-country arrays,
money is put in one unit per quantity (tender values USD m, public money KRW bn).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from simulation.engine.kernels.constants import NO_MONTH, NRISK, PPP
from simulation.engine.kernels.financing import interest_pv
from simulation.engine.kernels.knowledge import knowledge_table
from simulation.engine.state import Params
from simulation.scenario.calendar import Calendar
from simulation.scenario.countries import CountryTable, load_countries, resolve_path
from simulation.scenario.loader import Resolved
from simulation.scenario.types import DOMAINS, INCOMES, ORIGINS, REGIONS, SIZES, TYPES

F8 = np.float64
I8 = np.int64


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


@functools.lru_cache(maxsize=4096)
def _pv(rate: float, years: int, disc: float) -> float:
    """kernels.financing.interest_pv as plain Python (its `py_func`: no compilation to build Params);
    remembered, since Params asks for the same few hundred every time it is built."""
    return float(interest_pv.py_func(rate, years, disc))


def _wc_saving(base: float, cut: float, years: int) -> float:
    """What a working-capital loan at the base rate less `cut`, lent for `years` whole years, saves per
    unit lent, in today's money: F6's contract loan and F5's co-entry loan (the saving passes into
    the price, and the lender forgoes it: the public cost of the same loan)."""
    return _pv(base, years, base) - _pv(max(0.0, base - cut), years, base)


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
    mean_value = np.array(
        [float(np.sum(type_mix[j] * medians)) * math.exp(mk.value_sigma**2 / 2.0) for j in range(2)], dtype=F8
    )

    subsidy_ratio = np.stack([cal.monthly(getattr(lev.n2_subsidy.ratio, k)) for k in SIZES], axis=1)
    year_frac = np.array([np.sum(cal.year_of == y) / 12.0 for y in range(n_years)], dtype=F8)

    region_in = lambda regions: np.array([REGIONS[g] in regions for g in table.region], dtype=np.uint8)  # noqa: E731
    kotra_from = _from_months(lev.n4_hubs.kotra_centres, table, cal, lev.n4_hubs.kotra_max_centres)
    kind_from = _from_months(lev.n4_hubs.kind_centres, table, cal)
    envoy_from = _from_months(lev.t4_envoys.countries, table, cal)
    n6 = region_in(lev.n6_intl_orgs.regions)
    n6_access = np.where(n6 == 1, lev.n6_intl_orgs.access, s.discovery.mdb_access_base).astype(F8)
    blended_ok = (
        np.array([INCOMES[g] in lev.f3_blended.eligible_incomes for g in table.income]) & bool(lev.f3_blended.enabled)
    ).astype(np.uint8)

    origin_cum = np.vstack([np.cumsum(mix(getattr(comp.origin_mix, reg), ORIGINS)) for reg in REGIONS])
    rel_f = np.vstack([mix(getattr(comp.relationship, REGIONS[g]), ORIGINS) for g in table.region])
    disc = s.discovery
    # the gravity baseline of learning of a tender in each country: market weight (relative to the
    # average country), distance from Seoul, the 2019 relationship
    disc_odds = (
        disc.odds_base
        * (table.weight * C) ** disc.market_elasticity
        * (table.distance / disc.reference_distance_km) ** (-disc.distance_elasticity)
        * disc.relationship_odds**table.relationship
    )
    fin_n = np.array([int(round(y)) for y in mix(mk.finance_years, TYPES)], dtype=I8)
    fin_share = mix(mk.financed_share, TYPES)
    premium = np.array(fin.risk_premium.as_list(), dtype=F8)
    contract_years = mix(mk.contract_months, TYPES) / 12.0
    # whole years a contract's working capital is lent (F5's and F6's loans)
    wc_n = np.array([max(1, int(round(cy))) for cy in contract_years], dtype=I8)
    annual_pd = np.array(fin.contract_default_pd.as_list(), dtype=F8)
    # expected loss from a buyer's default over a contract, per unit of value, by risk class and type
    el = s.behaviour.default_loss_share * (1.0 - (1.0 - annual_pd[:, None]) ** contract_years[None, :])
    # the foreign bids' log financing term by origin, type and risk class: the origin's rate plus the
    # buyer's country-risk premium, which every bidder pays, as the PV of an amortising loan's interest
    o_lnfin = np.array(
        [
            [
                [math.log(1.0 + f * _pv(r + premium[q], int(n), fin.base_rate + premium[q])) for q in range(NRISK)]
                for n, f in zip(fin_n, fin_share, strict=True)
            ]
            for r in [getattr(comp.profiles, o).rate for o in ORIGINS]
        ],
        dtype=F8,
    )
    # F6: an SME's saving on a sole contract per unit of value, the larger of the guarantee-fee cut
    # (on the performance bond, for the contract's life) and the contract-performance loan's cut
    f6 = lev.f6_sme_sole
    f6_loan = f6.enabled and f6.loan_rate_cut > 0.0  # its contract-performance loan finances the working capital
    sole_save = np.array(
        [
            max(
                f6.guarantee_fee_cut * s.behaviour.bond_share * cy,
                fin.working_capital_share * _wc_saving(fin.base_rate, f6.loan_rate_cut, int(n)),
            )
            for cy, n in zip(contract_years, wc_n, strict=True)
        ],
        dtype=F8,
    )
    # F5: per KRW lent on a partner's working capital, the saving at the cut of the month the bid is made
    f5_cut = cal.monthly(lev.f5_co_entry.rate_cut) * (1.0 if lev.f5_co_entry.enabled else 0.0)
    by_cut = {c: [_wc_saving(fin.base_rate, c, int(n)) for n in wc_n] for c in set(f5_cut.tolist())}
    f5_save = np.array([by_cut[c] for c in f5_cut.tolist()], dtype=F8).reshape(len(f5_cut), len(wc_n))
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
        n_months=n_months,
        n_years=n_years,
        n_firms=s.world.n_firms,
        n_countries=C,
        year_of=cal.year_of,
        moy=cal.moy,
        tender_scale=tender_scale,
        t2_reach=np.where(
            cal.monthly(lev.t2_coordination.enabled, np.int64) > 0, 1.0, lev.t2_coordination.reach_without
        ).astype(F8),
        n3_db_on=np.where((np.arange(n_months) >= cal.month(lev.n3_info_db.start)) & lev.n3_info_db.enabled, 1.0, 0.0),
        f5_rate_cut=f5_cut,
        f5_save=f5_save,
        n2_subsidy_ratio=np.ascontiguousarray(subsidy_ratio),
        n2_wide_scope=cal.monthly(lev.n2_subsidy.wide_scope, np.int64).astype(F8),
        t2_cost_krw_bn_per_month=(cal.monthly(lev.t2_coordination.enabled, np.int64) > 0)
        * lev.t2_coordination.cost_krw_bn_per_year
        / 12.0,
        n2_budget_krw_bn=cal.yearly(lev.n2_subsidy.budget_krw_bn_per_year) * year_frac,
        f3_budget_usd_m=cal.yearly(lev.f3_blended.budget_usd_m_per_year)
        * year_frac
        * (1.0 if lev.f3_blended.enabled else 0.0),
        f8_budget_usd_m=cal.yearly(lev.f8_edpf.budget_usd_m_per_year)
        * year_frac
        * (1.0 if lev.f8_edpf.enabled else 0.0),
        f5_topup_krw_bn=cal.yearly(lev.f5_co_entry.topup_krw_bn_per_year),
        c2_slots=cal.yearly(lev.c2_consortia.slots_per_year, I8),
        n1_selections=cal.yearly(lev.n1_kscon.selections_per_year, I8) * (1 if lev.n1_kscon.enabled else 0),
        t3_projects=cal.yearly(lev.t3_ksp.projects_per_year, I8),
        n5_cohorts=cal.yearly(lev.n5_training.cohorts_per_year, I8),
        c5_roadshows=cal.yearly(lev.c5_roadshows.per_year, I8),
        year_frac=year_frac,
        region=table.region,
        income=table.income,
        developing=developing,
        risk=table.risk,
        weight=table.weight,
        distance=table.distance,
        rel_base=table.relationship,
        mdb_share=table.mdb_share,
        n4_kotra_from=kotra_from,
        n4_kind_from=kind_from,
        t4_envoy_from=envoy_from,
        n6_access=n6_access,
        f3_eligible=blended_ok,
        n1_eligible=region_in(lev.n1_kscon.eligible_regions) & developing,
        t3_eligible=region_in(lev.t3_ksp.eligible_regions) & developing,
        n5_eligible=region_in(lev.n5_training.target_regions),
        mean_value=mean_value,
        type_cum=np.ascontiguousarray(np.cumsum(type_mix, axis=1)),
        value_mu=np.log(medians),
        value_sigma=float(mk.value_sigma),
        open_m=mix(mk.open_months, TYPES).astype(I8),
        contract_m=mix(mk.contract_months, TYPES).astype(I8),
        fin_share=fin_share,
        fin_n=fin_n,
        el=np.ascontiguousarray(el),
        bid_cost=mix(mk.bid_cost_share, TYPES),
        domain_cum=np.cumsum(mix(mk.domain_mix, DOMAINS)),
        foreign_mean=float(comp.foreign_bids_mean),
        foreign_disp=float(comp.foreign_bids_dispersion),
        strength=float(comp.strength),
        quality_shift=float(comp.quality_shift),
        origin_cum=np.ascontiguousarray(origin_cum),
        o_q=prof("quality"),
        o_qsd=prof("quality_sd"),
        o_mk=prof("markup"),
        o_mksd=prof("markup_sd"),
        o_fs=prof("finance_score"),
        wts=np.ascontiguousarray(wts),
        o_lnfin=np.ascontiguousarray(o_lnfin),
        o_lnexp=np.array([math.log(1.0 + x) for x in prof("experience")], dtype=np.float64),
        rel_f=np.ascontiguousarray(rel_f),
        bids_elast=float(comp.bids_value_elasticity),
        bids_risk=float(comp.bids_risk_slope),
        ref_value=float(comp.reference_value_usd_m),
        nest=s.award.nest_scale,
        reserve=s.award.reservation_utility,
        retender_p=s.award.retender_prob,
        retender_lag=s.award.retender_lag_months,
        sc_pis=s.award.scores.pis,
        sc_blended=s.award.scores.blended,
        sc_edpf=s.award.scores.edpf,
        sc_ksure=s.award.scores.ksure,
        ksp_inc=s.award.scores.ksp_incumbency,
        margin=s.behaviour.margin,
        prior_w=s.behaviour.belief_prior_wins,
        prior_l=s.behaviour.belief_prior_losses,
        bond_share=s.behaviour.bond_share,
        crowding=s.behaviour.crowding,
        q_noise=s.behaviour.quality_noise_sd,
        default_loss=s.behaviour.default_loss_share,
        dom_income=s.world.domestic_income,
        risk_aversion=s.behaviour.risk_aversion,
        risk_priced=s.behaviour.risk_priced,
        partner_prob=s.behaviour.partner_prob,
        entry_cost=s.behaviour.entry_cost_share,
        disc_odds=disc_odds.astype(F8),
        size_odds=mix(disc.size_odds, SIZES),
        known_gain=disc.known_odds - 1.0,
        contact_gain=disc.contact_odds - 1.0,
        lift_room=disc.lift_cap - 1.0,
        contact_decay=2.0 ** (-1.0 / s.discovery.contact_half_life_months),
        k_table=knowledge_table(
            s.knowledge.half_life_new_months,
            s.knowledge.half_life_established_months,
            s.knowledge.uses_to_establish,
            n_months,
            s.knowledge.introduction_strength,
        ),
        k_uses=s.knowledge.uses_to_establish,
        rel_decay=2.0 ** (-1.0 / s.relationship.half_life_months),
        win_boost=s.relationship.win_boost,
        rel_ceiling=s.relationship.boost_ceiling,
        krw=krw,
        base_rate=fin.base_rate,
        premium=premium,
        contract_pd_m=_monthly_pd(fin.contract_default_pd.as_list()),
        max_uninsured=fin.max_uninsured_risk,
        f1_enabled=int(f1.enabled),
        f1_start_m=pis_start,
        f4_invest_end_m=pis_start + int(round(lev.f4_fund_life.investment_period_years * 12)),
        f4_fund_end_m=pis_start + int(round(lev.f4_fund_life.fund_life_years * 12)),
        f1_equity_share=f1.equity_share,
        f1_max_equity_krw_bn=f1.max_equity_krw_bn,
        f1_holding_m=max(1, int(round(f1.holding_years * 12))),
        f1_return_multiple=f1.return_multiple,
        f1_project_default_pd_m=_monthly_pd(f1.project_default_pd.as_list()),
        f1_loss_given_default=f1.loss_given_default,
        f1_public_funding_rate_m=f1.public_funding_rate / 12.0,
        f2_loss_order=0 if lev.f2_loss_order.order == "subordinated" else 1,
        f3_rate_cut=lev.f3_blended.rate_cut,
        f5_enabled=int(lev.f5_co_entry.enabled),
        f6_enabled=int(lev.f6_sme_sole.enabled),
        f6_sole_save=sole_save,
        wc_share=fin.working_capital_share,
        sme_wc_own=0.0 if f6_loan else 1.0 - fin.sme_credit_share,
        partner_wc_own=1.0 - fin.sme_credit_share,
        f7_enabled=int(lev.f7_ksure.enabled),
        f7_cover_share=lev.f7_ksure.cover_share,
        f7_premium_to_expected_loss=lev.f7_ksure.premium_to_expected_loss,
        f8_enabled=int(lev.f8_edpf.enabled),
        f8_rate_cut=lev.f8_edpf.rate_cut,
        n1_enabled=int(lev.n1_kscon.enabled),
        n1_call_moy=lev.n1_kscon.call_month - 1,
        n1_cost_krw_bn_per_selection=lev.n1_kscon.cost_krw_bn_per_selection,
        n1_follow_on_prob=lev.n1_kscon.follow_on_prob,
        n1_lag_months_min=lev.n1_kscon.lag_months_min,
        n1_lag_months_max=lev.n1_kscon.lag_months_max,
        n1_relationship_boost=lev.n1_kscon.relationship_boost,
        n2_cap_usd_m=lev.n2_subsidy.cap_krw_mn / 1000.0 * 1000.0 / krw,
        n3_discovery_odds_gain=lev.n3_info_db.discovery_odds - 1.0,
        n3_cost_krw_bn_per_month=lev.n3_info_db.cost_krw_bn_per_year / 12.0,
        n4_kotra_discovery_odds_gain=lev.n4_hubs.kotra_discovery_odds - 1.0,
        n4_kotra_bid_cost_cut=lev.n4_hubs.kotra_bid_cost_cut,
        n4_kotra_cost_krw_bn_per_month=lev.n4_hubs.kotra_cost_krw_bn_per_year / 12.0,
        n4_kind_ppp_discovery_odds_gain=lev.n4_hubs.kind_ppp_discovery_odds - 1.0,
        n4_kind_cost_krw_bn_per_month=lev.n4_hubs.kind_cost_krw_bn_per_year / 12.0,
        n6_cost_krw_bn_per_month=len(lev.n6_intl_orgs.regions)
        * lev.n6_intl_orgs.cost_krw_bn_per_region_per_year
        / 12.0,
        n5_moy=lev.n5_training.month - 1,
        n5_relationship_boost=lev.n5_training.relationship_boost,
        n5_cost_krw_bn_per_cohort=lev.n5_training.cost_krw_bn_per_cohort,
        c1_enabled=int(lev.c1_expo.enabled),
        c1_start_m=cal.month(lev.c1_expo.start),
        c1_moy=lev.c1_expo.month - 1,
        c1_buyer_countries=lev.c1_expo.buyer_countries,
        c1_firm_attendance=lev.c1_expo.firm_attendance,
        c1_meet_prob=lev.c1_expo.meet_prob,
        c1_relationship_boost=lev.c1_expo.relationship_boost,
        c1_cost_krw_bn=lev.c1_expo.cost_krw_bn,
        c2_min_value_usd_m=lev.c2_consortia.min_value_usd_m,
        c2_sme_share=lev.c2_consortia.sme_share,
        c2_synergy=lev.c2_consortia.synergy,
        c2_cost_krw_bn_per_consortium=lev.c2_consortia.cost_krw_bn_per_consortium,
        c3_catalogue=int(lev.c3_alliance.catalogue),
        c3_cost_krw_bn_per_month=lev.c3_alliance.cost_krw_bn_per_year / 12.0 if lev.c3_alliance.catalogue else 0.0,
        c6_cost_krw_bn_per_month=lev.c6_strategy.cost_krw_bn_per_year / 12.0 if lev.c6_strategy.enabled else 0.0,
        c4_enabled=int(lev.c4_fair.enabled),
        c4_moy=lev.c4_fair.month - 1,
        c4_region=REGIONS.index(lev.c4_fair.region),
        c4_firms=lev.c4_fair.firms,
        c4_contact_boost=lev.c4_fair.contact_boost,
        c4_relationship_boost=lev.c4_fair.relationship_boost,
        c4_cost_krw_bn=lev.c4_fair.cost_krw_bn,
        c5_regions=np.array([REGIONS.index(g) for g in lev.c5_roadshows.regions], dtype=I8),
        c5_firms_per_roadshow=lev.c5_roadshows.firms_per_roadshow,
        c5_contact_boost=lev.c5_roadshows.contact_boost,
        c5_relationship_boost=lev.c5_roadshows.relationship_boost,
        c5_cost_krw_bn_each=lev.c5_roadshows.cost_krw_bn_each,
        c6_fit=np.array([lev.c6_strategy.fit_developing, lev.c6_strategy.fit_developed], dtype=F8)
        * (1.0 if lev.c6_strategy.enabled else 0.0),
        t1_visit_m=ev_arr(visits, 0),
        t1_visit_c=ev_arr(visits, 1),
        t1_relationship_boost=lev.t1_high_level.relationship_boost,
        t1_cost_krw_bn_per_visit=lev.t1_high_level.cost_krw_bn_per_visit,
        t3_moy=lev.t3_ksp.month - 1,
        t3_cost_krw_bn_per_project=lev.t3_ksp.cost_krw_bn_per_project,
        t3_follow_on_prob=lev.t3_ksp.follow_on_prob,
        t3_lag_months_min=lev.t3_ksp.lag_months_min,
        t3_lag_months_max=lev.t3_ksp.lag_months_max,
        t3_relationship_boost=lev.t3_ksp.relationship_boost,
        t4_relationship_boost_per_month=lev.t4_envoys.relationship_boost_per_month,
        t4_cost_krw_bn_per_month=lev.t4_envoys.cost_krw_bn_per_year / 12.0,
        t5_mou_m=ev_arr(mous, 0),
        t5_mou_c=ev_arr(mous, 1),
        t5_relationship_boost=lev.t5_mou.relationship_boost,
        t5_cost_krw_bn_per_mou=lev.t5_mou.cost_krw_bn_per_mou,
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
                out.append(
                    (
                        m,
                        table.index(st.country),
                        DOMAINS.index(st.domain),
                        TYPES.index(st.type),
                        st.value_usd_m * ph.share,
                        INC_FULL if st.korean_incumbent else INC_NONE,
                    )
                )
    out.sort(key=lambda e: e[0])
    return out


assert TYPES.index("ppp") == PPP and NRISK == 8
