"""The scenario schema: every parameter of the model, its type, range, unit and the measure it implements.

Nothing here has a default value: every number comes from a scenario file (the root is
`scenarios/no_plan.yaml`), so that each one carries its provenance there. Field metadata
(`unit`, `measure`) feeds `scsim show` and the generated parameter documentation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from simulation.scenario.types import (
    DOMAINS,
    ORIGINS,
    REGIONS,
    SIZES,
    TYPES,
    Domain,
    Flag,
    Float,
    Int,
    Iso3,
    MoneyKrwBn,
    MoneyUsdM,
    Months,
    Name,
    Prob,
    Ratio,
    Region,
    Sched,
    TenderType,
    Weight,
    YearMonth,
    between,
    int_between,
    sched,
)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def P(desc: str, unit: str, measure: str | None = None, *, needs: tuple[str, ...] = (), acts: str | None = None) -> Any:
    """A required parameter with its unit and (for levers) the plan measure code it implements.

    `needs`: what must hold for a lever to act at all (see `scenario/inert.py`), each a key path
    that must be on, non-zero at some month of the horizon, or non-empty (`A | B`: either;
    `PATH < N`; `PATH in horizon`: a month no later than time.end; a lever section: that lever can
    act). `acts`: how the lever acts, for the note that says it cannot."""
    extra: dict[str, Any] = {"unit": unit, "measure": measure}
    if needs:
        extra["needs"] = needs
    if acts:
        extra["acts"] = acts
    return Field(..., description=desc, json_schema_extra=extra)


def extra_of(info: FieldInfo) -> dict[str, Any]:
    """What `P` put in a field's json_schema_extra (unit, measure, needs, acts); {} for none."""
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def keyed(name: str, keys: tuple[str, ...], t: Any, unit: str, desc: str) -> type[Section]:
    """A section with one field per key (size class, tender type, domain, origin, region)."""
    fields: dict[str, Any] = {k: (t, P(f"{desc} ({k})", unit)) for k in keys}
    return create_model(name, __base__=Section, **fields)


if TYPE_CHECKING:

    class Keyed(Section):
        """What mypy sees of a section made by `keyed` or create_model: its fields are found at run time."""

        def __getattr__(self, name: str) -> Any: ...

    # mypy cannot follow create_model: to it, each keyed section is a Keyed
    SizeShares: TypeAlias = Keyed
    SizeCapability: TypeAlias = Keyed
    SizeCount: TypeAlias = Keyed
    SizeCapacity: TypeAlias = Keyed
    SizeCapital: TypeAlias = Keyed
    SizeSubsidy: TypeAlias = Keyed
    DomainShares: TypeAlias = Keyed
    TypeShares: TypeAlias = Keyed
    TypeValue: TypeAlias = Keyed
    TypeMonths: TypeAlias = Keyed
    TypeYears: TypeAlias = Keyed
    TypeRatio: TypeAlias = Keyed
    OriginShares: TypeAlias = Keyed
    OriginRelationship: TypeAlias = Keyed
    SizeOdds: TypeAlias = Keyed
    OriginProfiles: TypeAlias = Keyed
    RegionOriginMix: TypeAlias = Keyed
    RegionOriginRelationship: TypeAlias = Keyed
else:  # ---- keyed helper sections ------------------------------------------------------------
    SizeShares = keyed("SizeShares", SIZES, Ratio, "fraction", "share of firms")
    SizeCapability = keyed(
        "SizeCapability", SIZES, Annotated[Float, between(0.0, 1.0)], "score 0-1", "mean capability in the main domain"
    )
    SizeCount = keyed("SizeCount", SIZES, Annotated[Float, between(0.0, 1000.0)], "count", "mean number")
    SizeCapacity = keyed("SizeCapacity", SIZES, Annotated[Int, int_between(1, 1000)], "open bids", "bid capacity")
    SizeCapital = keyed("SizeCapital", SIZES, MoneyUsdM, "USD m", "median capital")
    SizeSubsidy = keyed("SizeSubsidy", SIZES, sched(Ratio), "fraction of bid cost", "market-exploration subsidy ratio")
    DomainShares = keyed("DomainShares", DOMAINS, Ratio, "fraction", "share")
    TypeShares = keyed("TypeShares", TYPES, Ratio, "fraction", "share of tenders")
    TypeValue = keyed("TypeValue", TYPES, Annotated[Float, between(0.001, 1e6)], "USD m", "median tender value")
    TypeMonths = keyed("TypeMonths", TYPES, Annotated[Int, int_between(1, 120)], "months", "duration")
    TypeYears = keyed("TypeYears", TYPES, Annotated[Float, between(0.0, 40.0)], "years", "financing duration")
    TypeRatio = keyed("TypeRatio", TYPES, Ratio, "fraction of value", "share")
    OriginShares = keyed("OriginShares", ORIGINS, Ratio, "fraction", "share of foreign bids")
    OriginRelationship = keyed(
        "OriginRelationship", ORIGINS, Ratio, "0-1", "relationship of the origin's bidders with the region's buyers"
    )
    SizeOdds = keyed(
        "SizeOdds",
        SIZES,
        Annotated[Float, between(0.1, 10.0)],
        "odds ratio",
        "odds of learning of a tender relative to an SME",
    )

RiskArray = Any  # placeholder name for readability in annotations below


class RiskClassValues(Section):
    """One value per OECD country-risk class 0..7."""

    c0: Annotated[Float, between(0.0, 1.0)] = P("class 0", "per year")
    c1: Annotated[Float, between(0.0, 1.0)] = P("class 1", "per year")
    c2: Annotated[Float, between(0.0, 1.0)] = P("class 2", "per year")
    c3: Annotated[Float, between(0.0, 1.0)] = P("class 3", "per year")
    c4: Annotated[Float, between(0.0, 1.0)] = P("class 4", "per year")
    c5: Annotated[Float, between(0.0, 1.0)] = P("class 5", "per year")
    c6: Annotated[Float, between(0.0, 1.0)] = P("class 6", "per year")
    c7: Annotated[Float, between(0.0, 1.0)] = P("class 7", "per year")

    def as_list(self) -> list[float]:
        return [getattr(self, f"c{i}") for i in range(8)]


# ---- world -------------------------------------------------------------------------------
class Time(Section):
    start: YearMonth = P("first simulated month", "YYYY-MM")
    end: YearMonth = P("last simulated month (inclusive)", "YYYY-MM")


class World(Section):
    countries_file: str = P("country table: 'builtin' or a CSV path relative to the scenario file", "path")
    n_firms: Annotated[Int, int_between(1, 1_000_000)] = P(
        "Korean firms in the population (Smart City Convergence Alliance and others)", "count", "C3"
    )
    size_shares: SizeShares = P("firm size-class shares", "fraction")
    alliance_share: Ratio = P("share of firms in the Smart City Convergence Alliance", "fraction", "C3")
    domain_shares: DomainShares = P("share of firms whose main solution domain is each domain", "fraction")
    capability_mean: SizeCapability = P("mean capability in the main domain", "score 0-1")
    capability_sd: Annotated[Float, between(0.0, 1.0)] = P("spread of capability between firms", "score 0-1")
    extra_domains: SizeCount = P("mean number of secondary domains a firm can bid in", "count")
    capital_usd_m: SizeCapital = P("median starting capital", "USD m")
    capital_sigma: Annotated[Float, between(0.0, 5.0)] = P("log-spread of starting capital", "log units")
    known_countries: SizeCount = P("mean number of foreign countries a firm already knows", "count")
    initial_wins: SizeCount = P("mean overseas references (won projects) before the start", "count")
    bid_capacity: SizeCapacity = P("maximum simultaneous open bids", "open bids")
    markup_mean: Annotated[Float, between(-0.5, 2.0)] = P("mean price markup over cost", "fraction")
    markup_sd: Annotated[Float, between(0.0, 1.0)] = P("spread of markups between firms", "fraction")
    domestic_income: Annotated[Float, between(0.0, 0.5)] = P(
        "monthly retained domestic earnings as a share of starting capital", "fraction/month"
    )


class Phase(Section):
    date: YearMonth = P("tender month", "YYYY-MM")
    share: Ratio = P("share of the project value", "fraction")


class ScheduledTender(Section):
    name: str = P("label", "text")
    country: Iso3 = P("buyer country", "ISO3")
    domain: Domain = P("solution domain", "domain")
    type: TenderType = P("tender type", "type")
    value_usd_m: MoneyUsdM = P("total value across phases", "USD m")
    phases: list[Phase] = P("tender dates and value shares", "list")
    korean_incumbent: Flag = P("Korean firms hold the master plan (incumbency in the award)", "bool")


class Market(Section):
    levels_usd_bn: dict[Annotated[Int, int_between(1990, 2100)], Annotated[Float, between(0.0, 1e6, gt=0.0)]] = P(
        "stated global smart-city market levels {year: USD bn}; consecutive levels must agree with cagr", "USD bn"
    )
    cagr: Annotated[Float, between(-0.5, 1.0)] = P("market growth rate up to the last stated level", "per year")
    cagr_after: Annotated[Float, between(-0.5, 1.0)] = P("market growth after the last stated level", "per year")
    addressable_share: Annotated[Float, between(0.0, 1.0)] = P(
        "share of the global market tendered internationally in the modelled countries", "fraction"
    )
    type_mix_developing: TypeShares = P("tender-type mix for developing buyers", "fraction")
    type_mix_developed: TypeShares = P("tender-type mix for high-income buyers", "fraction")
    domain_mix: DomainShares = P("domain mix of tenders", "fraction")
    value_median_usd_m: TypeValue = P("median tender value by type", "USD m")
    value_sigma: Annotated[Float, between(0.0, 4.0)] = P("log-spread of tender values", "log units")
    open_months: TypeMonths = P("months from publication to award", "months")
    contract_months: TypeMonths = P("months of contract execution", "months")
    financed_share: TypeRatio = P("share of the contract price financed by the bidder", "fraction")
    finance_years: TypeYears = P("financing duration", "years")
    bid_cost_share: TypeRatio = P("bid-preparation cost as a share of tender value", "fraction")
    scheduled: list[ScheduledTender] = P("named mega-projects tendered on fixed dates (e.g. Kuwait Abdullah)", "list")


class OriginProfile(Section):
    quality: Annotated[Float, between(0.0, 2.0)] = P("mean bid quality", "score 0-1")
    quality_sd: Annotated[Float, between(0.0, 1.0)] = P("spread of bid quality", "score")
    markup: Annotated[Float, between(-0.5, 2.0)] = P("mean log price ratio before financing", "log units")
    markup_sd: Annotated[Float, between(0.0, 1.0)] = P("spread of log price ratio", "log units")
    rate: Annotated[Float, between(0.0, 0.5)] = P(
        "financing rate offered before the buyer's country-risk premium", "per year"
    )
    finance_score: Annotated[Float, between(0.0, 5.0)] = P("financing package score", "score")
    experience: Annotated[Float, between(0.0, 1000.0)] = P("track record (references)", "count")


if not TYPE_CHECKING:  # (what mypy sees of them: above)
    OriginProfiles = create_model(
        "OriginProfiles",
        __base__=Section,
        **{o: (OriginProfile, P(f"competitor profile ({o})", "profile")) for o in ORIGINS},
    )
    RegionOriginMix = create_model(
        "RegionOriginMix",
        __base__=Section,
        **{r: (OriginShares, P(f"origin mix of foreign bids ({r})", "fraction")) for r in REGIONS},
    )
    RegionOriginRelationship = create_model(
        "RegionOriginRelationship",
        __base__=Section,
        **{r: (OriginRelationship, P(f"foreign bidders' relationship with the buyers of {r}", "0-1")) for r in REGIONS},
    )


class Competition(Section):
    foreign_bids_mean: Annotated[Float, between(0.0, 100.0)] = P(
        "mean number of foreign bids on a tender of the reference value in a class-3 country", "count"
    )
    foreign_bids_dispersion: Annotated[Float, between(0.0, 3.0)] = P(
        "log-spread of the foreign-bid rate between tenders (over-dispersion)", "log units"
    )
    bids_value_elasticity: Annotated[Float, between(-1.0, 2.0)] = P(
        "elasticity of the foreign-bid rate to tender value", "elasticity"
    )
    bids_risk_slope: Annotated[Float, between(-2.0, 2.0)] = P(
        "change of the log foreign-bid rate per country-risk class above 3", "log units/class"
    )
    reference_value_usd_m: Annotated[Float, between(0.001, 1e6)] = P(
        "tender value at which the foreign-bid rate is foreign_bids_mean", "USD m"
    )
    strength: Annotated[Float, between(0.0, 10.0)] = P(
        "multiplier on the foreign-bid rate (uncertainty lever)", "multiplier"
    )
    quality_shift: Annotated[Float, between(-1.0, 1.0)] = P(
        "shift of all foreign bid qualities (uncertainty lever)", "score"
    )
    origin_mix: RegionOriginMix = P("origin mix of foreign bids by region", "fraction")
    profiles: OriginProfiles = P("competitor profiles by origin", "profile")
    relationship: RegionOriginRelationship = P(
        "foreign bidders' relationship with buyer governments, by region and origin", "0-1"
    )


class AwardWeights(Section):
    quality: Weight = P("weight on bid quality", "utility/score")
    price: Weight = P("weight on log price ratio (entered negatively)", "utility/log")
    finance: Weight = P("weight on the financing package score", "utility/score")
    relationship: Weight = P("weight on the bidder's relationship with the buyer", "utility/0-1")
    track_record: Weight = P("weight on log(1 + references)", "utility/log")
    incumbency: Weight = P("bonus for the holder of the master plan (K-SCON/KSP/mega-project)", "utility", "N1")


class FinanceScores(Section):
    pis: Annotated[Float, between(0.0, 5.0)] = P("score added by PIS fund equity on a PPP bid", "score", "F1")
    blended: Annotated[Float, between(0.0, 5.0)] = P("score added by a blended concessional package", "score", "F3")
    edpf: Annotated[Float, between(0.0, 5.0)] = P("score added by EDPF finance on a PPP bid", "score", "F8")
    ksure: Annotated[Float, between(0.0, 5.0)] = P(
        "score added by K-SURE insurance in high-risk countries", "score", "F7"
    )
    ksp_incumbency: Ratio = P("KSP-shaped tenders carry this fraction of the full incumbency bonus", "fraction", "T3")


class Award(Section):
    developing: AwardWeights = P("award weights of developing-country buyers", "weights", "C6")
    developed: AwardWeights = P("award weights of high-income buyers", "weights", "C6")
    scores: FinanceScores = P("financing-package scores", "score")
    nest_scale: Annotated[Float, between(0.2, 1.0)] = P(
        "nested-logit scale of a nationality's bids (1: independent taste shocks; lower: bids of one "
        "nationality share a common component, so more of them add less)",
        "scale",
    )
    reservation_utility: Annotated[Float, between(-100.0, 100.0)] = P(
        "utility of the buyer's outside option: it rejects every bid when this "
        "(plus a Gumbel shock) beats the best bid",
        "utility",
    )
    retender_prob: Prob = P("chance a rejected tender is tendered again", "probability")
    retender_lag_months: Months = P("months from the rejection to the new tender", "months")


class Behaviour(Section):
    margin: Annotated[Float, between(0.0, 1.0)] = P("expected profit margin on a won contract", "fraction of value")
    belief_prior_wins: Annotated[Float, between(0.01, 1000.0)] = P(
        "Beta prior: pseudo-wins in a firm's belief about its win chance", "count"
    )
    belief_prior_losses: Annotated[Float, between(0.01, 1000.0)] = P("Beta prior: pseudo-losses", "count")
    crowding: Annotated[Float, between(0.0, 100.0)] = P(
        "how much each Korean bid already on a tender lowers the next Korean firm's expected chance", "per bid"
    )
    risk_aversion: Annotated[Float, between(1.0, 10.0)] = P(
        "weight a firm puts on the expected loss from a buyer's default it bears itself", "multiple"
    )
    risk_priced: Annotated[Float, between(0.0, 1.0)] = P(
        "share of the risk cost every bidder bears without the special account (the expected loss "
        "from a buyer's default, weighted by the risk aversion, after ordinary cover where it exists) "
        "that the contract's price carries: bidders price country risk into their bids",
        "fraction",
    )
    entry_cost_share: Annotated[Float, between(0.0, 10.0)] = P(
        "extra bid cost in a country the firm does not know (local partners, legal "
        "advice, site visits), as a share of the bid cost; it falls as the firm's "
        "knowledge of the country grows",
        "fraction of bid cost",
    )
    partner_prob: Prob = P(
        "chance a large firm bidding alone on a big EPC/PPP tender takes an SME partner without KOTRA support",
        "probability",
    )
    bond_share: Annotated[Float, between(0.0, 1.0)] = P(
        "capital a firm must hold per unit of its share of tender value", "fraction"
    )
    quality_noise_sd: Annotated[Float, between(0.0, 1.0)] = P(
        "spread of a Korean bid's quality around the firm's capability", "score"
    )
    default_loss_share: Ratio = P("share of contract value lost by the contractor when the buyer defaults", "fraction")


class Discovery(Section):
    odds_base: Annotated[Float, between(1e-6, 10.0)] = P(
        "odds that an SME capable in a tender's domain learns of it, in a country of average market "
        "weight at the reference distance, with no knowledge, contact or support",
        "odds",
    )
    size_odds: SizeOdds = P("odds ratio of learning of a tender by size class (SME = 1)", "odds ratio")
    market_elasticity: Annotated[Float, between(-2.0, 2.0)] = P(
        "elasticity of the odds to the country's market weight", "elasticity"
    )
    distance_elasticity: Annotated[Float, between(0.0, 3.0)] = P(
        "the odds fall with distance from Seoul as distance^(-this)", "elasticity"
    )
    reference_distance_km: Annotated[Float, between(100.0, 20000.0)] = P(
        "distance at which the distance term is 1", "km"
    )
    relationship_odds: Annotated[Float, between(1.0, 10.0)] = P(
        "odds ratio of a relationship of 1 against 0 (2019 base relationship)", "odds ratio"
    )
    known_odds: Annotated[Float, between(1.0, 10.0)] = P(
        "odds ratio of full knowledge of the country (fades, see knowledge)", "odds ratio"
    )
    contact_odds: Annotated[Float, between(1.0, 10.0)] = P(
        "odds ratio of full contact with the region (roadshows, fairs)", "odds ratio"
    )
    lift_cap: Annotated[Float, between(1.0, 10.0)] = P(
        "the most that support channels, knowledge and contact together can multiply the odds of "
        "learning of a tender: they carry the same news, so they saturate towards this (at most 10)",
        "odds ratio",
    )
    contact_half_life_months: Annotated[Float, between(0.1, 600.0)] = P("half-life of contacts", "months")
    mdb_access_base: Ratio = P(
        "Korean firms' access to multilateral-funded tenders without joint entry", "fraction", "N6"
    )


class Knowledge(Section):
    half_life_new_months: Annotated[Float, between(0.5, 600.0)] = P(
        "half-life of a firm's knowledge of a country it has touched once", "months"
    )
    half_life_established_months: Annotated[Float, between(0.5, 1200.0)] = P(
        "half-life once established (won there, or used uses_to_establish times)", "months"
    )
    uses_to_establish: Annotated[Int, int_between(1, 15)] = P(
        "bids that make knowledge of a country established", "count"
    )
    introduction_strength: Ratio = P(
        "knowledge from meeting a country's buyers (expo, roadshow) as a share of a first bid's", "fraction"
    )


class Relationship(Section):
    half_life_months: Annotated[Float, between(0.1, 1200.0)] = P(
        "half-life of event boosts back toward the base relationship", "months"
    )
    win_boost: Annotated[Float, between(0.0, 1.0)] = P("relationship gain from a Korean win", "0-1")
    boost_ceiling: Annotated[Float, between(0.01, 1.0)] = P(
        "the most that boosts can raise a relationship above its base: each boost closes its share "
        "of the remaining room, so stacked measures saturate",
        "0-1",
    )


class Finance(Section):
    krw_per_usd: Annotated[Float, between(1.0, 1e5)] = P("exchange rate", "KRW/USD")
    base_rate: Annotated[Float, between(0.0, 0.5)] = P("Korean bidders' base financing rate", "per year")
    risk_premium: RiskClassValues = P("financing premium by country-risk class", "per year")
    contract_default_pd: RiskClassValues = P("annual chance a buyer defaults on a contract, by risk class", "per year")
    max_uninsured_risk: Annotated[Int, int_between(0, 7)] = P(
        "highest risk class with ordinary cover; above it a firm bears a buyer's default "
        "itself unless the special account insures it",
        "class",
        "F7",
    )
    working_capital_share: Ratio = P(
        "working capital a contract ties up while it runs, as a share of its value (what a "
        "contract-performance loan finances)",
        "fraction",
        "F6",
    )
    sme_credit_share: Ratio = P(
        "share of a contract's working capital an SME or startup can borrow from its banks; it "
        "finances the rest from its own capital while the contract runs (large and mid-size firms "
        "borrow all of it)",
        "fraction",
        "F6",
    )


# ---- levers ------------------------------------------------------------------------------
class CountryFrom(Section):
    country: str = P("ISO3 code, or csv:<flag column> for every flagged country (by market weight)", "ISO3")
    start: YearMonth = P("month it starts", "YYYY-MM")


class CountryDate(Section):
    country: Iso3 = P("ISO3 code", "ISO3")
    date: YearMonth = P("month", "YYYY-MM")


class F1Pis(Section):
    enabled: Flag = P("PIS fund invests in Korean-won PPP projects", "bool", "F1")
    start: YearMonth = P("month the fund starts investing", "YYYY-MM", "F1")
    fund_krw_bn: MoneyKrwBn = P("target size of the smart-city (sub-)fund", "KRW bn", "F1")
    government_share: Ratio = P("government tranche share of the target", "fraction", "F1")
    public_share: Ratio = P("public-bodies tranche share of the target", "fraction", "F1")
    private_target_share: Ratio = P("private tranche share sought", "fraction", "F1")
    expected_loss_rate: Ratio = P("portfolio loss rate private investors expect", "fraction", "F2")
    private_loss_tolerance: Annotated[Float, between(0.0, 1.0, gt=0.0)] = P(
        "expected private loss at which no private money joins", "fraction", "F2"
    )
    equity_share: Ratio = P("fund equity as a share of project value", "fraction", "F1")
    max_equity_krw_bn: MoneyKrwBn = P("cap on equity per project", "KRW bn", "F1")
    holding_years: Annotated[Float, between(0.1, 50.0)] = P("years from investment to exit", "years", "F4")
    return_multiple: Annotated[Float, between(0.0, 10.0)] = P("exit proceeds per unit invested", "multiple", "F1")
    public_funding_rate: Annotated[Float, between(0.0, 0.2)] = P(
        "yearly cost to the public purse of the government and public tranches' paid-in capital", "per year", "F1"
    )
    project_default_pd: RiskClassValues = P("annual default chance of a funded project by risk class", "per year", "F1")
    loss_given_default: Ratio = P("share of an investment lost on default", "fraction", "F1")


class F2LossOrder(Section):
    order: Literal["subordinated", "pari_passu"] = P(
        "loss order of the PIS tranches (government→public→private, or pro rata)", "choice", "F2"
    )


class F3Blended(Section):
    enabled: Flag = P("blended KOICA/EDCF/policy finance packages for developing buyers", "bool", "F3")
    budget_usd_m_per_year: Sched[MoneyUsdM] = P("yearly concessional lending available", "USD m/year", "F3")
    rate_cut: Annotated[Float, between(0.0, 0.2)] = P("rate reduction of a blended package", "per year", "F3")
    eligible_incomes: list[Literal["low", "lower_middle", "upper_middle", "high"]] = P(
        "buyer income groups eligible", "list", "F3"
    )


class F4FundLife(Section):
    investment_period_years: Annotated[Float, between(0.0, 50.0)] = P(
        "years after the fund start in which new investments are made", "years", "F4"
    )
    fund_life_years: Annotated[Float, between(0.0, 50.0)] = P(
        "fund life: holdings exit at the latest at its end", "years", "F4"
    )


class F5CoEntry(Section):
    enabled: Flag = P("large–SME co-entry finance programme", "bool", "F5")
    rate_cut: Sched[Annotated[Float, between(0.0, 0.2)]] = P(
        "loan-rate cut on an SME partner's working-capital loan", "per year", "F5"
    )
    pot_krw_bn: MoneyKrwBn = P("initial lending pot", "KRW bn", "F5")
    topup_krw_bn_per_year: Sched[MoneyKrwBn] = P(
        "yearly widening of the pot when demand exhausted it", "KRW bn/year", "F5"
    )


class F6SmeSole(Section):
    enabled: Flag = P("support for SMEs' sole contracts", "bool", "F6")
    guarantee_fee_cut: Annotated[Float, between(0.0, 0.2)] = P("performance-guarantee fee cut", "per year", "F6")
    loan_rate_cut: Annotated[Float, between(0.0, 0.2)] = P(
        "contract-performance loan rate cut (taken when larger than the fee cut)", "per year", "F6"
    )


class F7Ksure(Section):
    enabled: Flag = P("K-SURE special account for ultra-high-risk countries", "bool", "F7")
    account_krw_bn: MoneyKrwBn = P("account capital", "KRW bn", "F7")
    cover_share: Ratio = P("share of a defaulted contract's loss the account pays", "fraction", "F7")
    premium_to_expected_loss: Annotated[Float, between(0.0, 5.0)] = P(
        "premium charged per unit of the expected claim (1: actuarially fair)", "ratio", "F7"
    )


class F8Edpf(Section):
    enabled: Flag = P("EDPF concessional finance for PPP projects (company borrowers)", "bool", "F8")
    budget_usd_m_per_year: Sched[MoneyUsdM] = P("yearly EDPF lending for PPP", "USD m/year", "F8")
    rate_cut: Annotated[Float, between(0.0, 0.2)] = P("rate reduction of EDPF finance", "per year", "F8")


class N1Kscon(Section):
    enabled: Flag = P("K-SCON / K-City Network open call", "bool", "N1")
    selections_per_year: Sched[Annotated[Int, int_between(0, 10_000)]] = P(
        "projects selected each year", "count/year", "N1"
    )
    call_month: Annotated[Int, int_between(1, 12)] = P("calendar month of selection", "month", "N1")
    eligible_regions: list[Region] = P("regions whose developing countries may apply", "list", "N1")
    cost_krw_bn_per_selection: MoneyKrwBn = P("Korean cost share of the plan / feasibility study", "KRW bn", "N1")
    follow_on_prob: Prob = P("chance a selected project leads to a main tender", "probability", "N1")
    lag_months_min: Months = P("shortest lag from selection to the main tender", "months", "N1")
    lag_months_max: Months = P("longest lag", "months", "N1")
    relationship_boost: Annotated[Float, between(0.0, 1.0)] = P("relationship gain on selection", "0-1", "N1")


class N2Subsidy(Section):
    ratio: SizeSubsidy = P("share of bid cost reimbursed by size class", "fraction", "N2")
    cap_krw_mn: Annotated[Float, between(0.0, 1e6)] = P("cap per project", "KRW mn", "N2")
    budget_krw_bn_per_year: Sched[MoneyKrwBn] = P("yearly budget", "KRW bn/year", "N2")
    wide_scope: Sched[Flag] = P(
        "scope includes ICT and urban-solution domains (else construction/design only)", "bool", "N2"
    )


class N3InfoDb(Section):
    enabled: Flag = P("integrated overseas-order information DB", "bool", "N3")
    start: YearMonth = P("month it goes live", "YYYY-MM", "N3")
    discovery_odds: Annotated[Float, between(1.0, 10.0)] = P(
        "odds ratio of learning of a tender while the DB is live", "odds ratio", "N3"
    )
    cost_krw_bn_per_year: MoneyKrwBn = P("running cost", "KRW bn/year", "N3")


_KOTRA = ("levers.n4_hubs.kotra_centres", "levers.n4_hubs.kotra_max_centres")
_KOTRA_ACTS = "KOTRA centres bring tenders in their countries to firms and cut their bid costs"
_KIND = ("levers.n4_hubs.kind_centres",)
_KIND_ACTS = "KIND centres bring PPP tenders in their countries to firms"


class N4Hubs(Section):
    kotra_centres: list[CountryFrom] = P(
        "KOTRA smart-city order-support centres", "list", "N4", needs=_KOTRA, acts=_KOTRA_ACTS
    )
    kotra_max_centres: Annotated[Int, int_between(0, 10_000)] = P(
        "at most this many of the listed centres open (sweepable count)", "count", "N4", needs=_KOTRA, acts=_KOTRA_ACTS
    )
    kotra_discovery_odds: Annotated[Float, between(1.0, 10.0)] = P(
        "odds ratio of learning of a tender in a centre country", "odds ratio", "N4", needs=_KOTRA, acts=_KOTRA_ACTS
    )
    kotra_bid_cost_cut: Ratio = P(
        "bid-cost reduction in a centre country (local help, partners)",
        "fraction",
        "N4",
        needs=_KOTRA,
        acts=_KOTRA_ACTS,
    )
    kotra_cost_krw_bn_per_year: MoneyKrwBn = P(
        "running cost per centre", "KRW bn/year", "N4", needs=_KOTRA, acts=_KOTRA_ACTS
    )
    kind_centres: list[CountryFrom] = P("KIND overseas infrastructure cooperation centres", "list", "N4")
    kind_ppp_discovery_odds: Annotated[Float, between(1.0, 10.0)] = P(
        "odds ratio of learning of a PPP tender in a KIND country", "odds ratio", "N4", needs=_KIND, acts=_KIND_ACTS
    )
    kind_cost_krw_bn_per_year: MoneyKrwBn = P(
        "running cost per KIND centre", "KRW bn/year", "N4", needs=_KIND, acts=_KIND_ACTS
    )


class N5Training(Section):
    cohorts_per_year: Sched[Annotated[Int, int_between(0, 10_000)]] = P(
        "invitation-training cohorts a year", "count/year", "N5"
    )
    month: Annotated[Int, int_between(1, 12)] = P("calendar month of the cohorts", "month", "N5")
    target_regions: list[Region] = P("regions invited", "list", "N5")
    relationship_boost: Annotated[Float, between(0.0, 1.0)] = P("relationship gain per cohort", "0-1", "N5")
    cost_krw_bn_per_cohort: MoneyKrwBn = P("cost per cohort", "KRW bn", "N5")


class N6IntlOrgs(Section):
    regions: list[Region] = P("regions with joint entry with the World Bank / IDB", "list", "N6")
    access: Ratio = P(
        "Korean firms' access to multilateral-funded tenders there",
        "fraction",
        "N6",
        needs=("levers.n6_intl_orgs.regions",),
        acts="joint entry opens multilateral-funded tenders in its regions",
    )
    cost_krw_bn_per_region_per_year: MoneyKrwBn = P(
        "Korea's contribution to the joint programme per region", "KRW bn/year", "N6"
    )


class C1Expo(Section):
    enabled: Flag = P("World Smart City Expo", "bool", "C1")
    start: YearMonth = P("first expo", "YYYY-MM", "C1")
    month: Annotated[Int, int_between(1, 12)] = P("calendar month of the yearly expo", "month", "C1")
    buyer_countries: Annotated[Int, int_between(0, 1000)] = P("visiting buyer countries", "count", "C1")
    firm_attendance: Ratio = P("share of alliance firms exhibiting", "fraction", "C1")
    meet_prob: Prob = P(
        "chance an exhibitor meets a visiting country's buyers (and learns the country)", "probability", "C1"
    )
    relationship_boost: Annotated[Float, between(0.0, 1.0)] = P("relationship gain for a visiting country", "0-1", "C1")
    cost_krw_bn: MoneyKrwBn = P("cost per expo", "KRW bn", "C1")


_PARTNERS = (
    "levers.c2_consortia.slots_per_year | behaviour.partner_prob",
    "world.size_shares.large",
    "world.size_shares.sme | world.size_shares.startup",
)
_PARTNERS_ACTS = "large firms' bids on big EPC/PPP tenders take SME partners (brokered by C2, or on their own)"
_SLOTS = (
    "levers.c2_consortia.slots_per_year",
    "world.size_shares.large",
    "world.size_shares.sme | world.size_shares.startup",
)
_SLOTS_ACTS = "KOTRA brokers an SME partner for large firms' bids on big EPC/PPP tenders, slots a year"


class C2Consortia(Section):
    slots_per_year: Sched[Annotated[Int, int_between(0, 100_000)]] = P(
        "consortia KOTRA helps form per year", "count/year", "C2", needs=_SLOTS, acts=_SLOTS_ACTS
    )
    min_value_usd_m: MoneyUsdM = P(
        "smallest EPC/PPP tender on which large firms take partners",
        "USD m",
        "C2",
        needs=_PARTNERS,
        acts=_PARTNERS_ACTS,
    )
    sme_share: Ratio = P("SME partner's share of the work", "fraction", "C2", needs=_PARTNERS, acts=_PARTNERS_ACTS)
    synergy: Annotated[Float, between(0.0, 1.0)] = P(
        "quality gain of pooling capabilities", "score", "C2", needs=_PARTNERS, acts=_PARTNERS_ACTS
    )
    cost_krw_bn_per_consortium: MoneyKrwBn = P(
        "KOTRA's cost of brokering one consortium", "KRW bn", "C2", needs=_SLOTS, acts=_SLOTS_ACTS
    )


class C3Alliance(Section):
    catalogue: Flag = P(
        "technology catalogue: consortium partners found among all alliance SMEs, not only aware ones", "bool", "C3"
    )
    cost_krw_bn_per_year: MoneyKrwBn = P(
        "running cost of the alliance's catalogue and business-model work while the catalogue runs", "KRW bn/year", "C3"
    )


class C4Fair(Section):
    enabled: Flag = P("Smart City Fair / ASEAN pavilion", "bool", "C4")
    month: Annotated[Int, int_between(1, 12)] = P("calendar month", "month", "C4")
    region: Region = P("region", "region", "C4")
    firms: Annotated[Int, int_between(0, 100_000)] = P("Korean firms exhibiting", "count", "C4")
    contact_boost: Annotated[Float, between(0.0, 10.0)] = P("contact gained with the region", "contact", "C4")
    relationship_boost: Annotated[Float, between(0.0, 1.0)] = P(
        "relationship gain for the region's countries", "0-1", "C4"
    )
    cost_krw_bn: MoneyKrwBn = P("cost per fair", "KRW bn", "C4")


class C5Roadshows(Section):
    per_year: Sched[Annotated[Int, int_between(0, 1000)]] = P("roadshows a year", "count/year", "C5")
    regions: list[Region] = P("regions visited in rotation", "list", "C5")
    firms_per_roadshow: Annotated[Int, int_between(0, 100_000)] = P(
        "Korean firms on each roadshow (SMEs and startups first)", "count", "C5"
    )
    contact_boost: Annotated[Float, between(0.0, 10.0)] = P("contact gained with the visited region", "contact", "C5")
    relationship_boost: Annotated[Float, between(0.0, 1.0)] = P("relationship gain for the host country", "0-1", "C5")
    cost_krw_bn_each: MoneyKrwBn = P("cost per roadshow", "KRW bn", "C5")


class C6Strategy(Section):
    enabled: Flag = P("country-specific strategies: solution-tailored offers and cross-demonstration", "bool", "C6")
    fit_developing: Annotated[Float, between(0.0, 1.0)] = P(
        "quality gain of a solution-tailored bid to a developing buyer", "score", "C6"
    )
    fit_developed: Annotated[Float, between(0.0, 1.0)] = P(
        "quality gain of a cross-demonstrated bid to a high-income buyer", "score", "C6"
    )
    cost_krw_bn_per_year: MoneyKrwBn = P(
        "cost of the country strategies (studies, demonstrations) while enabled", "KRW bn/year", "C6"
    )


class T1HighLevel(Section):
    visits: list[CountryDate] = P("high-level visits and joint committees", "list", "T1")
    relationship_boost: Annotated[Float, between(0.0, 1.0)] = P("relationship gain per visit", "0-1", "T1")
    cost_krw_bn_per_visit: MoneyKrwBn = P("cost per visit", "KRW bn", "T1")


class T2Coordination(Section):
    enabled: Sched[Flag] = P(
        "the pan-government smart-city sub-committee sits (full reach of the network and Team Korea levers)",
        "bool",
        "T2",
    )
    reach_without: Ratio = P(
        "share of the network and Team Korea levers' effect that reaches firms and buyers "
        "without the sub-committee (1 with it)",
        "fraction",
        "T2",
    )
    cost_krw_bn_per_year: MoneyKrwBn = P("running cost of the sub-committee while it sits", "KRW bn/year", "T2")


class T3Ksp(Section):
    projects_per_year: Sched[Annotated[Int, int_between(0, 10_000)]] = P(
        "KSP smart-city projects a year", "count/year", "T3"
    )
    month: Annotated[Int, int_between(1, 12)] = P("calendar month", "month", "T3")
    eligible_regions: list[Region] = P("regions eligible", "list", "T3")
    follow_on_prob: Prob = P("chance a KSP project shapes a later tender", "probability", "T3")
    lag_months_min: Months = P("shortest lag", "months", "T3")
    lag_months_max: Months = P("longest lag", "months", "T3")
    relationship_boost: Annotated[Float, between(0.0, 1.0)] = P("relationship gain per project", "0-1", "T3")
    cost_krw_bn_per_project: MoneyKrwBn = P("cost per project", "KRW bn", "T3")


class T4Envoys(Section):
    countries: list[CountryFrom] = P("countries with a private cooperation envoy", "list", "T4")
    relationship_boost_per_month: Annotated[Float, between(0.0, 1.0)] = P(
        "monthly relationship gain", "0-1/month", "T4"
    )
    cost_krw_bn_per_year: MoneyKrwBn = P("cost per envoy", "KRW bn/year", "T4")


class T5Mou(Section):
    mous: list[CountryDate] = P("G2G smart-city MOUs (those before the start count with their decay)", "list", "T5")
    relationship_boost: Annotated[Float, between(0.0, 1.0)] = P("relationship jump per MOU", "0-1", "T5")
    cost_krw_bn_per_mou: MoneyKrwBn = P(
        "cost of preparing and following up one MOU (inside the horizon)", "KRW bn", "T5"
    )


class Levers(Section):
    """The plan's measures. `needs` on a lever says what must hold for it to act at all: the one
    table `scsim validate`, `run` and `compare` read to name levers that cannot act (scenario/inert.py).
    Derived from how params.py and the kernels read each lever; keep it in step with them."""

    f1_pis: F1Pis = P(
        "F1 PIS fund",
        "section",
        "F1",
        needs=(
            "levers.f1_pis.enabled",
            "levers.f1_pis.fund_krw_bn",
            "levers.f1_pis.start in horizon",
            "levers.f1_pis.government_share | levers.f1_pis.public_share | levers.f1_pis.private_target_share",
            "levers.f1_pis.equity_share",
            "levers.f1_pis.max_equity_krw_bn",
            "levers.f4_fund_life.investment_period_years",
            "levers.f4_fund_life.fund_life_years",
            "market.type_mix_developing.ppp | market.type_mix_developed.ppp",
        ),
        acts="invests fund equity in the PPP projects Korean firms bid for",
    )
    f2_loss_order: F2LossOrder = P(
        "F2 subordinated loss waterfall",
        "section",
        "F2",
        needs=("levers.f1_pis",),
        acts="orders the losses of the PIS fund's tranches",
    )
    f3_blended: F3Blended = P(
        "F3 blended finance",
        "section",
        "F3",
        needs=(
            "levers.f3_blended.enabled",
            "levers.f3_blended.budget_usd_m_per_year",
            "levers.f3_blended.eligible_incomes",
        ),
        acts="lends concessional money to bids for buyers of the eligible income groups",
    )
    f4_fund_life: F4FundLife = P(
        "F4 longer fund life",
        "section",
        "F4",
        needs=(
            "levers.f1_pis",
            "levers.f4_fund_life.investment_period_years years from levers.f1_pis.start in horizon"
            " | levers.f4_fund_life.fund_life_years years from levers.f1_pis.start in horizon",
        ),
        acts="sets how long the PIS fund invests and holds, which matters only where the period ends inside the horizon",
    )
    f5_co_entry: F5CoEntry = P(
        "F5 large–SME co-entry finance",
        "section",
        "F5",
        needs=(
            "levers.f5_co_entry.enabled",
            "levers.f5_co_entry.rate_cut",
            "levers.f5_co_entry.pot_krw_bn | levers.f5_co_entry.topup_krw_bn_per_year",
            "behaviour.partner_prob | levers.c2_consortia.slots_per_year",
            "levers.c2_consortia.sme_share",
        ),
        acts="lends at a cut rate to the SME partners of large firms' big EPC/PPP bids",
    )
    f6_sme_sole: F6SmeSole = P(
        "F6 SME sole-contract support",
        "section",
        "F6",
        needs=("levers.f6_sme_sole.enabled",),
        acts="cuts SMEs' guarantee fees and loan rates on their own bids",
    )
    f7_ksure: F7Ksure = P(
        "F7 K-SURE special account",
        "section",
        "F7",
        needs=("levers.f7_ksure.enabled", "levers.f7_ksure.account_krw_bn", "finance.max_uninsured_risk < 7"),
        acts="covers bids in countries riskier than finance.max_uninsured_risk, lowering their risk cost",
    )
    f8_edpf: F8Edpf = P(
        "F8 EDPF for PPP",
        "section",
        "F8",
        needs=(
            "levers.f8_edpf.enabled",
            "levers.f8_edpf.budget_usd_m_per_year",
            "market.type_mix_developing.ppp | market.type_mix_developed.ppp",
        ),
        acts="finances PPP bids at a cut rate",
    )
    n1_kscon: N1Kscon = P(
        "N1 K-SCON",
        "section",
        "N1",
        needs=("levers.n1_kscon.enabled", "levers.n1_kscon.selections_per_year", "levers.n1_kscon.eligible_regions"),
        acts="selects master plans that may lead to main tenders with a Korean incumbent",
    )
    n2_subsidy: N2Subsidy = P(
        "N2 market-exploration subsidy",
        "section",
        "N2",
        needs=("levers.n2_subsidy.ratio", "levers.n2_subsidy.budget_krw_bn_per_year", "levers.n2_subsidy.cap_krw_mn"),
        acts="reimburses part of each bid's cost within a cap and a yearly budget",
    )
    n3_info_db: N3InfoDb = P(
        "N3 information DB",
        "section",
        "N3",
        needs=("levers.n3_info_db.enabled", "levers.n3_info_db.start in horizon"),
        acts="brings tenders to capable firms from the month it goes live",
    )
    n4_hubs: N4Hubs = P("N4 overseas hubs", "section", "N4")
    n5_training: N5Training = P(
        "N5 invitation training",
        "section",
        "N5",
        needs=("levers.n5_training.cohorts_per_year", "levers.n5_training.target_regions"),
        acts="invites officials of the target regions, raising relationships",
    )
    n6_intl_orgs: N6IntlOrgs = P("N6 international organisations", "section", "N6")
    c1_expo: C1Expo = P(
        "C1 World Smart City Expo",
        "section",
        "C1",
        needs=("levers.c1_expo.enabled", "levers.c1_expo.start in horizon"),
        acts="brings buyer countries to alliance firms once a year",
    )
    c2_consortia: C2Consortia = P("C2 consortium formation support", "section", "C2")
    c3_alliance: C3Alliance = P(
        "C3 Smart City Convergence Alliance",
        "section",
        "C3",
        needs=("levers.c2_consortia.slots_per_year", "world.alliance_share"),
        acts="widens C2's partner search to every alliance SME of the domain",
    )
    c4_fair: C4Fair = P(
        "C4 Smart City Fair",
        "section",
        "C4",
        needs=("levers.c4_fair.enabled",),
        acts="a yearly fair that gives exhibitors contacts in its region",
    )
    c5_roadshows: C5Roadshows = P(
        "C5 overseas roadshows",
        "section",
        "C5",
        needs=("levers.c5_roadshows.per_year", "levers.c5_roadshows.regions"),
        acts="takes delegations of firms to the target regions",
    )
    c6_strategy: C6Strategy = P(
        "C6 country-specific strategy",
        "section",
        "C6",
        needs=("levers.c6_strategy.enabled", "levers.c6_strategy.fit_developing | levers.c6_strategy.fit_developed"),
        acts="raises the quality of Korean bids tailored to the buyer's type",
    )
    t1_high_level: T1HighLevel = P(
        "T1 high-level support",
        "section",
        "T1",
        needs=("levers.t1_high_level.visits",),
        acts="raises the relationship with each visited country",
    )
    t2_coordination: T2Coordination = P(
        "T2 pan-government support system",
        "section",
        "T2",
        needs=("levers.t2_coordination.enabled",),
        acts="lets the network and Team Korea levers reach firms and buyers fully",
    )
    t3_ksp: T3Ksp = P(
        "T3 KSP track",
        "section",
        "T3",
        needs=("levers.t3_ksp.projects_per_year", "levers.t3_ksp.eligible_regions"),
        acts="runs KSP projects that may shape later tenders",
    )
    t4_envoys: T4Envoys = P(
        "T4 private cooperation envoys",
        "section",
        "T4",
        needs=("levers.t4_envoys.countries",),
        acts="raises the relationship with each envoy's country month by month",
    )
    t5_mou: T5Mou = P(
        "T5 G2G cooperation and MOUs",
        "section",
        "T5",
        needs=("levers.t5_mou.mous",),
        acts="raises the relationship with each MOU country on its date",
    )


class Scenario(Section):
    name: Name = P("scenario name (also names the default results folder)", "text")
    description: str = P("what this scenario represents", "text")
    time: Time = P("simulated period", "section")
    world: World = P("the firm population and countries", "section")
    market: Market = P("the tender market", "section")
    competition: Competition = P("foreign competition", "section")
    award: Award = P("how buyers choose", "section")
    behaviour: Behaviour = P("firms' bidding behaviour", "section")
    discovery: Discovery = P("how firms learn of tenders", "section")
    knowledge: Knowledge = P("how firms' knowledge of countries fades unless used", "section")
    relationship: Relationship = P("Korea's relationships with buyer governments", "section")
    finance: Finance = P("financing conditions", "section")
    levers: Levers = P("the plan's measures F1–T5", "section")
