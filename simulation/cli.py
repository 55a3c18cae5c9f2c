"""The `scsim` command line (also `python -m simulation`)."""
from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Sequence

from .scenario.errors import ScenarioError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line and status 2, like every bad input
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"error: {message}\n")


def _load_all(paths: Sequence[str], overrides: Sequence[str]):
    from .scenario.loader import load_scenario

    loaded = [load_scenario(p, overrides) for p in paths]
    names = [r.scenario.name for r in loaded]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ScenarioError(f"two scenarios are both named {sorted(dup)[0]!r}; give each a distinct `name:`")
    return loaded


def cmd_run(args: argparse.Namespace) -> int:
    from .outputs import check_target, git_commit, versions, write_results
    from .runner import format_summary, run_batch, summary

    if args.reps < 1:
        raise ScenarioError(f"--reps must be at least 1, got {args.reps}")
    if args.seed < 0:
        raise ScenarioError(f"--seed must be a non-negative integer, got {args.seed}")
    scenarios = _load_all(args.scenarios, args.set or [])
    key = hashlib.sha256(json.dumps({"scenarios": [r.hash for r in scenarios], "seed": args.seed,
                                     "reps": args.reps}).encode()).hexdigest()
    default_out = args.out is None
    out = Path(args.out) if args.out else Path("results") / (
        "-".join(r.scenario.name for r in scenarios)[:80] + f"-{key[:10]}")
    if default_out and (out / "manifest.json").exists() and not args.force:
        manifest = json.loads((out / "manifest.json").read_text())
        if manifest.get("key") == key:
            import pandas as pd
            print(f"results for these scenarios and seeds already exist in {out} (use --force to recompute)")
            print(format_summary(pd.read_csv(out / "summary.csv"), args.reps))
            return 0
    check_target(out, args.force)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    batch = run_batch(scenarios, args.seed, args.reps, progress=not args.quiet)
    table = batch.table
    summ = summary(table)
    manifest = {
        "key": key,
        "command": "scsim " + " ".join(shlex.quote(a) for a in args.argv),
        "started": started,
        "seconds": round(batch.seconds, 3),
        "seeds": batch.seeds,
        "replications": args.reps,
        "git_commit": git_commit(),
        "versions": versions(),
        "scenarios": [
            {"name": r.scenario.name, "file": r.files[0], "extends_chain": r.files, "hash": r.hash,
             "resolved": r.nested,
             "provenance": {".".join(map(str, p)): {"kind": pr.kind, "source": pr.source, "file": pr.file,
                                                    "line": pr.line} for p, pr in r.prov.items()}}
            for r in scenarios],
        "tables": {"yearly": "tidy: run, scenario, seed, year, metric, group, value",
                   "summary": "mean over replications of yearly win rate, wins, bids and value won"},
    }
    write_results(out, {"yearly": table, "summary": summ}, manifest, args.force)
    print(format_summary(summ, args.reps))
    n_runs = len(scenarios) * args.reps
    print(f"{n_runs} run{'s' if n_runs != 1 else ''} in {batch.seconds:.1f} s; results in {out}/ "
          "(yearly.parquet, yearly.csv, summary.csv, manifest.json)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    for r in _load_all(args.scenarios, args.set or []):
        unstated = [".".join(map(str, p)) for p, pr in r.prov.items()
                    if pr.kind == "unstated" and p not in (("name",), ("description",))]
        print(f"ok: {r.files[0]}: scenario {r.scenario.name!r}, {len(r.values)} parameters, hash {r.hash[:12]}")
        for p in unstated:
            file, line = r.where(tuple(p.split(".")))
            print(f"  note: {file}:{line}: {p}: no provenance given (add provenance: seed|literature|assumption|calibrated)")
    return 0


def _fmt(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    if hasattr(value, "model_dump"):
        return _fmt(value.model_dump())
    return str(value)


def cmd_show(args: argparse.Namespace) -> int:
    from .scenario.loader import field_meta

    (r,) = _load_all([args.scenario], args.set or [])
    rows = []
    for path, value in r.values.items():
        meta = field_meta(path)
        pr = r.prov[path]
        where = f"{pr.file}:{pr.line}" if pr.line else pr.file
        rows.append({"parameter": ".".join(map(str, path)), "value": _fmt(value), "unit": meta["unit"],
                     "measure": meta["measure"] or "", "provenance": pr.kind, "source": pr.source, "set_in": where})
    if args.format == "json":
        print(json.dumps({"name": r.scenario.name, "hash": r.hash, "files": r.files, "parameters": rows}, indent=2))
        return 0
    print(f"scenario {r.scenario.name!r} (hash {r.hash[:12]}), from {' <- '.join(r.files)}")
    print(f"  {r.scenario.description}")
    cols = ("parameter", "value", "unit", "measure", "provenance", "set_in", "source")
    width = {c: min(60, max(len(c), *(len(x[c]) for x in rows))) for c in cols[:-1]}
    print("  ".join(f"{c:<{width[c]}}" for c in cols[:-1]) + "  source")
    for x in rows:
        val = x["value"] if len(x["value"]) <= 60 else x["value"][:57] + "..."
        x = dict(x, value=val)
        print("  ".join(f"{x[c]:<{width[c]}}" for c in cols[:-1]) + "  " + x["source"])
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="scsim", description="Smart-city export policy simulator (2019 Smart City Overseas Expansion Activation Plan).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run scenarios over replications and write tidy yearly tables")
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    run.add_argument("--seed", type=int, default=0, help="master seed: replication i uses seed+i (default 0)")
    run.add_argument("--reps", type=int, default=1, help="replications per scenario (default 1)")
    run.add_argument("--out", help="results folder (default results/<scenarios>-<hash>)")
    run.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help="override a parameter (repeatable)")
    run.add_argument("--force", action="store_true", help="replace an existing results folder")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check scenario files")
    val.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    val.add_argument("--set", action="append", metavar="KEY.PATH=VALUE")
    val.set_defaults(func=cmd_validate)

    show = sub.add_parser("show", help="print the fully resolved scenario: value, unit, measure and provenance of every parameter")
    show.add_argument("scenario", metavar="SCENARIO.yaml")
    show.add_argument("--set", action="append", metavar="KEY.PATH=VALUE")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.set_defaults(func=cmd_show)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return int(args.func(args) or 0)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
