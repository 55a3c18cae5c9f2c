"""The candidate scan alone (`discovery.discover`) on a synthetic large world: ns per candidate.

    python -m simulation.bench.scan                    # 100,000 firms, 40,000 on the domain list
    python -m simulation.bench.scan --firms 500 --rounds 5

Not a test. At 100,000 firms the scan is about three quarters of a run's monthly steps, and this VM's
speed drifts by a third within the hour, so a whole run says little about a change to the scan. This
calls the scan itself, in one compiled loop over tenders, on a world shaped like the bench's largest
(`scsim bench`: 100k firms × 200 countries): 40 % of firms on the tender's domain list, 2 % inactive,
5.5 % with knowledge of the country, 1.1 % with a contact, in 3 of the 8 regions. Tenders cycle through
the countries, so 3 in 8 are in a region with contacts. It prints the minimum and median over rounds
and a checksum (aware firms and the generator's final state), the same for any version of the
scan that gives the model's results.

To compare two versions of the scan (with this file in both: a change of the scan's arguments
changes its call here too), run each tree at once, one per core, and swap the cores between rounds
(both then meet the same slow minutes; docs/speed.md, "The largest world"):

    PYTHONPATH=/path/to/old taskset -c 0 python -m simulation.bench.scan &
    PYTHONPATH=/path/to/new taskset -c 1 python -m simulation.bench.scan; wait
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

N_COUNTRIES = 200
CONTACT_REGIONS = 3  # regions 0..2 have contacts, as the shipped plans' fairs and roadshows give
# every tender's month, lift room, MDB access and the gains of knowledge and contact; the channel odds
# ratio is CH in even-numbered countries, CH_CENTRE in odd ones (as a KOTRA centre would make it)
MONTH, ROOM, ACCESS, KNOWN_GAIN, CONTACT_GAIN = 120, 9.0, 1.0, 0.8, 0.5
CH, CH_CENTRE = 1.3, 1.6


def synthetic_world(firms: int, seed: int = 1) -> dict[str, np.ndarray]:
    """The arrays the scan reads, shaped like the bench's largest world (see the module's docstring)."""
    from simulation.engine.kernels.constants import KNOW_SHIFT, NR, NS

    g = np.random.default_rng(seed)
    months = 139
    know = np.full((N_COUNTRIES, firms), -1, np.int32)
    mask = g.random((N_COUNTRIES, firms)) < 0.055
    know[mask] = (g.integers(0, months - 1, mask.sum()) * KNOW_SHIFT + g.integers(0, 5, mask.sum())).astype(np.int32)
    contact = np.zeros((NR, firms + 1))
    contacted = np.zeros(firms, np.uint8)
    who = g.choice(firms, max(1, firms * 11 // 1000), replace=False)
    contacted[who] = 1
    contact[g.integers(0, CONTACT_REGIONS, who.size), who] = g.random(who.size)
    odds = np.zeros(2 * NS)  # by size class: the odds, then (per tender) the chance with no knowledge or contact
    odds[:NS] = [0.01, 0.02, 0.005, 0.003][:NS]
    return dict(
        size=g.integers(0, NS, firms).astype(np.int64),
        dom=np.sort(g.choice(firms, firms * 2 // 5, replace=False)).astype(np.int32),
        active=(g.random(firms) < 0.98).astype(np.uint8),
        know=know,
        contact=contact,
        contacted=contacted,
        contact_in=(np.arange(NR) < CONTACT_REGIONS).astype(np.uint8),
        k_table=2.0 ** (-np.arange(months + 1)[None, :] / (6.0 + 10.0 * np.arange(KNOW_SHIFT)[:, None])),
        odds=odds,
        aware=np.zeros(firms, np.int64),
        p_of=np.zeros(firms),
        known=np.zeros(firms, np.int64),
        lift_at=np.zeros(KNOW_SHIFT * (months + 1)),
        lift_k=np.full(KNOW_SHIFT * (months + 1), -1, np.int64),
    )


def _compiled_loop():
    from numba import njit

    from simulation.engine.kernels.constants import NR, NS
    from simulation.engine.kernels.discovery import capped_lift, discover, prob_of

    @njit(cache=False)
    def scan_tenders(tenders, rng, W_size, dom, active, know, contact, contacted, contact_in, k_table, odds, aware,
                     p_of, known, lift_at, lift_k):  # fmt: skip
        total = 0
        for k in range(tenders):
            c = k % know.shape[0]
            g = c % NR
            ch = CH_CENTRE if c % 2 else CH
            ch_lift = capped_lift(ch, ROOM)
            for s in range(NS):  # as bidding fills them per tender
                odds[NS + s] = prob_of(odds[s], ch_lift, ACCESS)
            n, _ = discover(
                MONTH, 0, dom.shape[0], c, g, odds, ch, ch_lift, ROOM, ACCESS, dom, active, W_size, know, k_table,
                contact, contacted, contact_in[g] != 0, KNOWN_GAIN, CONTACT_GAIN, aware, p_of, known, lift_at,
                lift_k, k, rng,
            )  # fmt: skip
            total += n
        return total

    return scan_tenders


def bench_scan(firms: int = 100_000, tenders: int = 400, rounds: int = 10) -> dict:
    """ns per candidate (min and median over rounds) and a checksum of what the scan found."""
    W = synthetic_world(firms)
    loop = _compiled_loop()
    arrays = [W[k] for k in ("size", "dom", "active", "know", "contact", "contacted", "contact_in", "k_table",
                             "odds", "aware", "p_of", "known", "lift_at", "lift_k")]  # fmt: skip
    loop(2, np.random.Generator(np.random.PCG64(3)), *arrays)  # compile
    per, check = [], None
    for _ in range(rounds):
        W["lift_k"][:] = -1
        rng = np.random.Generator(np.random.PCG64(3))
        t = time.perf_counter()
        found = loop(tenders, rng, *arrays)
        per.append((time.perf_counter() - t) / tenders / W["dom"].shape[0] * 1e9)
        check = (int(found), int(rng.bit_generator.state["state"]["state"] % 10**9))
    return {"firms": firms, "tenders": tenders, "ns_min": min(per), "ns_median": statistics.median(per), "check": check}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=100_000)
    ap.add_argument("--tenders", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args(argv)
    r = bench_scan(a.firms, a.tenders, a.rounds)
    print(
        f"candidate scan, {r['firms']:,} firms ({r['firms'] * 2 // 5:,} on the list), {r['tenders']} tenders: "
        f"{r['ns_min']:.2f} ns a candidate (min), {r['ns_median']:.2f} (median); check {r['check']}"
    )


if __name__ == "__main__":
    main()
