"""This runner beside syne-tune 0.16's simulator backend on NB201 cifar10 with K workers.

Usage (after `make data` and `make peer-venv`):
  python benchmarks/peer_syne_tune.py [--seeds 20] [--workers 4] [--budget 12000] [--out FILE]

Both sides search the proxy protocol's table: 12-epoch validation error (NB201's separate 12-epoch
schedule) charged with its 12-epoch train time, budget 12,000 simulated seconds. The nashpo side runs
in this interpreter (`run_search`, exact event clock); the syne-tune side runs in `.venv-peer`
(`--peer-python`) as `Tuner` + `UserBlackboxBackend` (a `BlackboxTabular` built from the same table,
elapsed time = the 12-epoch train time) + `SimulatorCallback`, its default tuner sleep of 5 s.

Per seed and side: completed trials (a trial counts if its result arrives at or before the budget,
the same rule on both sides) and regret = best 12-epoch validation error found minus the table's best.
Three syne-tune searches per seed:
  rs         syne-tune's RandomSearch (its own random stream);
  rs-replay  RandomSearch fed nashpo rs's proposals of the same seed in ask order
             (points_to_evaluate): the same trials through syne-tune's clock, so the difference in
             completed trials is the clock-step loss of that run, trial for trial;
  rea        syne-tune's REA (population 10, sample 3) beside nashpo's re with the same settings and
             syne-tune's two choices (tournament with replacement, one edge mutated), at one worker
             and, where re declares a parallel capability, at K (else syne-tune's at K alone).
Tests: two-sided Mann-Whitney U (scipy) on completed trials and on regret; nashpo's counts are also
compared with syne-tune's after adding each seed's replay loss. Wall time per search: median of each
side over the seeds, one process, sequential.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TASK = "cifar10"
FIDELITY = 12  # the proxy protocol's search fidelity
REA_HP = {"population_size": 10, "sample_size": 3}  # nashpo re's defaults (NB201 paper)
# syne-tune's REA draws its tournament with replacement and mutates one hyperparameter drawn uniformly
# to another value: nashpo re's with_replacement / edge choices
RE_HP = {**REA_HP, "tournament": "with_replacement", "mutation": "edge"}
DEFAULT_PEER_PYTHON = Path(".venv-peer/bin/python")
DEFAULT_DELAY = 0.05  # syne-tune's SimulatorConfig delays (start, result), simulated seconds


# ------------------------------------------------------------------ syne-tune side (runs in .venv-peer)


def peer_side(blackbox_file: Path, request_file: Path, out_file: Path) -> None:
    """Every requested syne-tune search; writes one JSON list of per-search results."""
    import logging
    import random

    import numpy as np
    import pandas as pd
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
    from syne_tune.config_space import choice, randint
    from syne_tune.constants import ST_TUNER_TIME
    from syne_tune.optimizer.baselines import REA, RandomSearch

    logging.disable(logging.WARNING)
    data = np.load(blackbox_file)
    edges, ops = [str(e) for e in data["edges"]], [str(o) for o in data["ops"]]
    op_index = data["op_index"]  # (n_archs, n_edges)
    hps = pd.DataFrame({e: [ops[i] for i in op_index[:, j]] for j, e in enumerate(edges)})
    space = {e: choice(ops) for e in edges}
    evaluations = np.stack([data["valid_error"], data["cost"]], axis=-1)[:, None, None, :]  # (archs, seeds, fidelities, objectives)
    blackbox = BlackboxTabular(
        hyperparameters=hps,
        configuration_space=space,
        fidelity_space={"epoch": randint(1, FIDELITY)},
        objectives_evaluations=evaluations,
        fidelity_values=np.array([FIDELITY]),
        objectives_names=["valid_error", "elapsed_time"],
    )
    code_of = {tuple(row): i for i, row in enumerate(hps.itertuples(index=False, name=None))}
    request = json.loads(request_file.read_text())
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SYNETUNE_FOLDER"] = tmp
        for job in request["jobs"]:
            seed, method, workers, budget = job["seed"], job["method"], job["workers"], request["budget"]
            random.seed(seed)
            np.random.seed(seed)
            if method == "rea":
                scheduler = REA(space, metric="valid_error", do_minimize=True, random_seed=seed, **REA_HP)
            else:
                replay = [dict(zip(edges, [ops[i] for i in op_index[c]], strict=True)) for c in job.get("replay", [])]
                scheduler = RandomSearch(
                    space, metrics=["valid_error"], do_minimize=True, random_seed=seed, points_to_evaluate=replay or None
                )
            backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr="elapsed_time", tuner_sleep_time=request["sleep"])
            tuner = Tuner(
                trial_backend=backend,
                scheduler=scheduler,
                stop_criterion=StoppingCriterion(max_wallclock_time=budget),
                n_workers=workers,
                sleep_time=0,
                callbacks=[SimulatorCallback()],
                tuner_name=f"{method}-{workers}-{seed}",
                save_tuner=False,
                print_update_interval=1e9,
                results_update_interval=1e9,
            )
            t0 = time.perf_counter()
            tuner.run()
            wall = time.perf_counter() - t0
            results = tuner.callbacks[0].dataframe()
            ended = results[results[ST_TUNER_TIME] <= budget].sort_values(ST_TUNER_TIME)
            codes = {
                int(t): code_of[tuple(r)]
                for t, *r in ended[["trial_id", *(f"config_{e}" for e in edges)]].itertuples(index=False, name=None)
            }
            out.append(
                {
                    "side": "syne-tune",
                    "method": method,
                    "seed": seed,
                    "workers": workers,
                    "trials": len(ended),
                    "reported": len(results),
                    "best_valid_error": float(ended["valid_error"].min()) if len(ended) else math.nan,
                    "last_end": float(ended[ST_TUNER_TIME].max()) if len(ended) else 0.0,
                    "codes": codes,
                    "wall": wall,
                }
            )
            print(f"syne-tune {method} K={workers} seed {seed}: {len(ended)} trials, {wall:.2f} s", file=sys.stderr, flush=True)
    out_file.write_text(json.dumps(out))


# ------------------------------------------------------------------ nashpo side (this interpreter)


def write_blackbox(bench: Any, path: Path) -> tuple[float, float]:
    """The table's 12-epoch validation error and train time per arch code, for the peer; returns the
    table's best validation error and mean train time."""
    import numpy as np

    from nashpo.space import EDGE_NAMES, N_ARCHS, OPS, code_to_ops

    cols = bench.table.columns
    valid_error = 100.0 - np.asarray(cols[f"valid_acc@{FIDELITY}"], dtype=np.float64)
    cost = np.asarray(cols[f"cost@{FIDELITY}"], dtype=np.float64)
    op_index = np.array([code_to_ops(c) for c in range(N_ARCHS)], dtype=np.int8)
    np.savez(path, edges=np.array(EDGE_NAMES), ops=np.array(OPS), op_index=op_index, valid_error=valid_error, cost=cost)
    return float(valid_error.min()), float(cost.mean())


def nashpo_search(method: str, seed: int, workers: int, budget: float, bench: Any, data_dir: Path | None, tmp: Path) -> dict[str, Any]:
    from nashpo.runner import Budget, run_search
    from nashpo.triallog import read_trials

    out = tmp / f"{method}-{workers}-{seed}"
    t0 = time.perf_counter()
    hp = RE_HP if method == "re" else None
    rec = run_search(
        method,
        TASK,
        seed,
        Budget(budget),
        out,
        data_dir=data_dir,
        progress=None,
        bench=bench,
        workers=workers,
        force=True,
        hyperparameters=hp,
    )
    wall = time.perf_counter() - t0
    trials = read_trials(out)
    return {
        "side": "nashpo",
        "method": method,
        "seed": seed,
        "workers": workers,
        "trials": int(rec["n_trials"]),
        "best_valid_error": float(trials["objective"].min()),
        "last_end": float(rec["sim_time"]),
        "codes": [int(c) for c in trials["arch_code"]],
        # one worker: the log is in ask order, then the cancelled trial (the proposals do not depend on the clock)
        "ask_costs": [float(c) for c in trials["cost"]] + [float(c["cost"]) for c in rec["cancelled"]] if workers == 1 else None,
        "wall": wall,
    }


def rs_proposals(seed: int, n: int, bench: Any, data_dir: Path | None, tmp: Path) -> list[int]:
    """nashpo rs's first ``n`` proposals of ``seed`` in ask order (its stream does not depend on K)."""
    from nashpo.runner import Budget, run_search
    from nashpo.triallog import read_trials

    out = tmp / f"rs-stream-{seed}"
    run_search("rs", TASK, seed, Budget(max_evals=n), out, data_dir=data_dir, progress=None, bench=bench, force=True)
    return [int(c) for c in read_trials(out)["arch_code"]]


def parallel_re() -> bool:
    from nashpo.optimizers import get_optimizer_class

    return get_optimizer_class("re").parallel in ("async", "batch")


# ------------------------------------------------------------------ comparison


def stepped_trials(costs: Sequence[float], workers: int, budget: float, sleep: float, delay: float = DEFAULT_DELAY) -> int:
    """Completed trials of syne-tune's tuner loop with its simulator backend, for proposals costing
    ``costs`` in ask order (a model read from syne_tune/tuner.py and backend/simulator_backend/): the
    tuner polls at multiples of ``sleep`` (it sleeps only while every worker is busy, and each sleep
    advances the clock by ``sleep``); at a poll it fetches every result that has arrived, then gives each
    free worker a trial; a trial scheduled at poll p reports at p + delay (start) + cost + delay
    (result); the tuner stops at the first poll that fetched a result after the budget. Counted: results
    at or before the budget. The real time syne-tune's loop spends outside its backend, which it adds to
    the clock too, is left out."""
    running: list[float] = []
    ask = iter(costs)
    counted = step = 0
    while True:
        now = step * sleep
        late = False
        while running and running[0] <= now:
            end = heapq.heappop(running)
            counted += end <= budget
            late |= end > budget
        if late:
            return counted
        for _ in range(workers - len(running)):
            heapq.heappush(running, now + delay + next(ask) + delay)
        step += 1


def med(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def mann_whitney(a: list[float], b: list[float]) -> float:
    from scipy.stats import mannwhitneyu

    if len(a) < 2 or len(b) < 2 or (len(set(a)) == 1 and set(a) == set(b)):
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def compare(
    rows: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    best_error: float,
    cost: Sequence[float],
    args: argparse.Namespace,
) -> dict[str, Any]:
    mean_cost = statistics.fmean(cost)

    def pick(side: str, method: str, workers: int) -> list[dict[str, Any]]:
        return sorted((r for r in rows if r["side"] == side and r["method"] == method and r["workers"] == workers), key=lambda r: r["seed"])

    pairs = [("rs", "rs", args.workers), ("rs", "rs-replay", args.workers)]
    for k in sorted({r["workers"] for r in rows if r["method"] in ("re", "rea")}):
        pairs.append(("re", "rea", k))
    lines, summary = [], {}
    header = f"{'nashpo':>8} {'syne-tune':>10} {'K':>3} {'seeds':>5} | {'trials nashpo':>13} {'trials syne-tune':>16} {'p(U)':>6} | {'regret nashpo':>13} {'regret syne-tune':>16} {'p(U)':>6} | {'wall nashpo s':>13} {'wall syne-tune s':>16} {'ratio':>6}"
    lines.append(header)
    lines.append("-" * len(header))
    for ours, theirs, k in pairs:
        a, b = pick("nashpo", ours, k), pick("syne-tune", theirs, k)
        if not a and not b:
            continue
        ta, tb = [r["trials"] for r in a], [r["trials"] for r in b]
        ra, rb = [r["best_valid_error"] - best_error for r in a], [r["best_valid_error"] - best_error for r in b]
        wa, wb = [r["wall"] for r in a], [r["wall"] for r in b]
        key = f"{ours}/{theirs}/K{k}"
        summary[key] = {
            "seeds": len(b),
            "trials_nashpo": ta,
            "trials_syne_tune": tb,
            "regret_nashpo": ra,
            "regret_syne_tune": rb,
            "p_trials": mann_whitney(ta, tb) if a and b else math.nan,
            "p_regret": mann_whitney(ra, rb) if a and b else math.nan,
            "wall_nashpo_median": med(wa),
            "wall_syne_tune_median": med(wb),
        }
        s = summary[key]
        ratio = s["wall_syne_tune_median"] / s["wall_nashpo_median"] if a and b else math.nan
        s["wall_ratio"] = ratio
        lines.append(
            f"{ours if a else '-':>8} {theirs if b else '-':>10} {k:>3} {len(b):>5} | {med(ta):>13.1f} {med(tb):>16.1f} {s['p_trials']:>6.3f} | "
            f"{med(ra):>13.3f} {med(rb):>16.3f} {s['p_regret']:>6.3f} | {med(wa):>13.3f} {med(wb):>16.3f} {ratio:>6.1f}"
        )
    # the clock-step loss: the same proposals through both clocks, seed by seed
    exact, replay, own = (
        pick("nashpo", "rs", args.workers),
        pick("syne-tune", "rs-replay", args.workers),
        pick("syne-tune", "rs", args.workers),
    )
    if not replay:  # --nashpo-only
        return {"table": "\n".join(lines), "summary": summary}
    loss = {r["seed"]: e["trials"] - r["trials"] for e, r in zip(exact, replay, strict=True)}
    stream = {j["seed"]: j["replay"] for j in jobs if j["method"] == "rs-replay"}
    prefix = [all(stream[r["seed"]][int(t)] == c for t, c in r["codes"].items()) for r in replay]
    adjusted = [r["trials"] + loss[r["seed"]] for r in own]
    step_expected = args.workers * args.budget * (1 / mean_cost - 1 / (mean_cost + args.sleep / 2 + 0.1))
    summary["clock_step_loss"] = {
        "per_seed": loss,
        "median": med(list(loss.values())),
        "mean": statistics.fmean(loss.values()) if loss else math.nan,
        "share_of_trials": statistics.fmean(loss[e["seed"]] / e["trials"] for e in exact) if exact else math.nan,
        "expected_from_mean_cost": step_expected,
        "replay_matches_proposals": sum(prefix),
        "p_trials_own_rs_plus_loss": mann_whitney([e["trials"] for e in exact], adjusted),
    }
    c = summary["clock_step_loss"]
    lines.append("")
    lines.append(
        f"clock-step loss (rs, K={args.workers}, the same proposals through both clocks): median {c['median']:.0f} trials per run "
        f"(mean {c['mean']:.1f}, {100 * c['share_of_trials']:.1f}% of the exact clock's trials; expected "
        f"K*B*(1/d - 1/(d + sleep/2 + 0.1 s)) = {step_expected:.1f} with mean train time d = {mean_cost:.1f} s); "
        f"replayed runs whose every syne-tune trial is nashpo rs's proposal of that ask index: {sum(prefix)}/{len(prefix)}"
    )
    lines.append(
        f"nashpo rs trials vs syne-tune rs trials + that seed's clock-step loss: Mann-Whitney U p = {c['p_trials_own_rs_plus_loss']:.3f}"
    )
    # the stepped model: the same proposals through a model of syne-tune's clock, beside its real runs
    model = {r["seed"]: stepped_trials([cost[c] for c in stream[r["seed"]]], args.workers, args.budget, args.sleep) for r in replay}
    hits = sum(model[r["seed"]] == r["trials"] for r in replay)
    off = max(abs(model[r["seed"]] - r["trials"]) for r in replay)
    c["model_exact_runs"], c["model_max_off"] = hits, off
    lines.append(
        f"model of syne-tune's clock (stepped_trials) on the replayed proposals: equals syne-tune's count in {hits}/{len(replay)} runs, "
        f"at most {off} trial(s) off"
    )
    ones, rea1 = pick("nashpo", "re", 1), pick("syne-tune", "rea", 1)
    if ones and rea1:
        stepped = [stepped_trials(r["ask_costs"], 1, args.budget, args.sleep) for r in ones]
        re_loss = [r["trials"] - m for r, m in zip(ones, stepped, strict=True)]
        p = mann_whitney(stepped, [r["trials"] for r in rea1])
        summary["re_one_worker_step_loss"] = {"per_seed": re_loss, "median": med(re_loss), "p_trials_stepped_vs_rea": p}
        lines.append(
            f"re at K=1 (its proposals do not depend on the clock): nashpo's trials through the model of syne-tune's clock lose a "
            f"median {med(re_loss):.0f} trial(s) per run; those counts vs syne-tune REA's: Mann-Whitney U p = {p:.3f}"
        )
    return {"table": "\n".join(lines), "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--budget", type=float, default=12000.0)
    parser.add_argument("--sleep", type=float, default=5.0, help="syne-tune's tuner sleep (simulated seconds per clock step)")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--peer-python", type=Path, default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/peer_syne_tune.json"))
    parser.add_argument("--nashpo-only", action="store_true", help="skip the syne-tune side (no .venv-peer needed)")
    parser.add_argument("--peer", nargs=3, type=Path, metavar=("BLACKBOX", "REQUEST", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        peer_side(*args.peer)
        return
    from nashpo.benchmarks.nb201 import NB201Benchmark

    bench = NB201Benchmark(TASK, args.data_dir)
    seeds = range(args.seeds)
    rows: list[dict[str, Any]] = []
    re_workers = [1, args.workers] if parallel_re() else [1]  # K = 1 too: there the proposals do not depend on the clock
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        best_error, _ = write_blackbox(bench, tmp / "blackbox.npz")
        cost = [float(c) for c in bench.table.columns[f"cost@{FIDELITY}"]]
        nashpo_search("rs", 0, 1, 600.0, bench, args.data_dir, tmp)  # warm caches
        for seed in seeds:
            rows.append(nashpo_search("rs", seed, args.workers, args.budget, bench, args.data_dir, tmp))
            for k in re_workers:
                rows.append(nashpo_search("re", seed, k, args.budget, bench, args.data_dir, tmp))
            print(f"nashpo seed {seed}: rs {rows[-1 - len(re_workers)]['trials']} trials", file=sys.stderr, flush=True)
        jobs: list[dict[str, Any]] = []
        n_stream = 2 * max(r["trials"] for r in rows) + 4 * args.workers
        for seed in seeds:
            jobs.append({"seed": seed, "method": "rs", "workers": args.workers})
            jobs.append(
                {
                    "seed": seed,
                    "method": "rs-replay",
                    "workers": args.workers,
                    "replay": rs_proposals(seed, n_stream, bench, args.data_dir, tmp),
                }
            )
            for k in sorted(set(re_workers) | {args.workers}):
                jobs.append({"seed": seed, "method": "rea", "workers": k})
        if not args.nashpo_only:
            request = tmp / "request.json"
            request.write_text(json.dumps({"budget": args.budget, "sleep": args.sleep, "jobs": jobs}))
            cmd = [
                str(args.peer_python),
                str(Path(__file__).resolve()),
                "--peer",
                str(tmp / "blackbox.npz"),
                str(request),
                str(tmp / "peer.json"),
            ]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # syne-tune's tuner prints its status to stdout
            rows += json.loads((tmp / "peer.json").read_text())
    report = compare(rows, jobs, best_error, cost, args)
    print(f"NB201 {TASK}, 12-epoch validation error and train time, budget {args.budget:.0f} simulated s, {args.seeds} seeds")
    print(f"regret: best validation error found minus the table's best ({best_error:.3f}%); syne-tune tuner sleep {args.sleep} s")
    if not parallel_re():
        print(f"nashpo re declares no parallel capability here: re and rea compared at K=1; rea at K={args.workers} alone")
    print(report["table"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for r in rows:
        r.pop("codes", None)
        r.pop("ask_costs", None)
    args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows, **report}, indent=1))


if __name__ == "__main__":
    main()
