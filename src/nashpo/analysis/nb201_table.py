"""The NB201 paper's Table 5, ours beside the published rows.

Protocol (NB201 paper, Sec. 5): search cifar10 (the cifar10-valid split) on the 12-epoch schedule's
validation accuracy under a simulated-time budget (12,000 s), then report the final incumbent's
200-epoch accuracy on cifar10 (validation = cifar10-valid's x-valid, test = cifar10's test set),
cifar100 and ImageNet16-120 (x-valid, x-test). Each cell is mean ± std over seeds.

Published rows: Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural
Architecture Search", ICLR 2020 (arXiv:2001.00326), Table 5, 500 runs per method. Our rows are
matched to a published method (``COUNTERPART``): rs -> RS, re and re_autodl -> REA (AutoDL's REA
is ``re_autodl``), reinforce -> REINFORCE, bohb_nb201 (the paper's BOHB protocol: hpbandster,
every query at 12 epochs) and bohb (hpbandster's defaults, rungs on 12 and 200 epochs) -> BOHB.
``smac_hb`` (SMAC3's Hyperband with a random forest) is not BOHB and has no counterpart.

``settings``: for a published row the paper's settings (AutoDL-Projects' scripts), for ours the
hyperparameters the runs were made with (``run.json``), so every row says what it is.

``incumbent_rule`` (which architecture a run reports; the search and its trial log are the same):
``budget`` (default) the run's incumbent over the trials that fit the budget (``run.json``
``incumbent``); ``paper`` each row by its published counterpart's script (AutoDL-Projects, Jan
2020): ``exps/algos/reinforce.py`` appends the trial that crosses the time budget to its trace before
the budget check and reports the best of the trace, so reinforce's incumbent is the best of its
counted trials and that crossing trial (``run.json`` ``stop``, observed validation accuracy), while
``RANDOM.py`` and ``R_EA.py`` drop the crossing trial (rs, re, re_autodl: the budget rule);
``crossing`` the crossing trial joins every run's trace (a measurement, not a paper rule).

``dSE``: (our mean - published mean) / sqrt(our_std^2 / our_n + published_std^2 / 500), our std with
ddof=1: the difference in standard errors of the difference.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from nashpo.analysis.io import expand_runs
from nashpo.analysis.runs import workers_of
from nashpo.atomic import write_text_atomic
from nashpo.benchmarks.nb201 import NB201Benchmark
from nashpo.data.sources import DATASETS
from nashpo.data.tables import FULL_EPOCHS
from nashpo.errors import InputError
from nashpo.space import N_ARCHS
from nashpo.triallog import read_record

SEARCH_DATASET = "cifar10"
SEARCH_PROTOCOL = "proxy"
SPLITS = ("valid", "test")
METRICS = [(d, s) for d in DATASETS for s in SPLITS]
LABELS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}
SOURCE = "Dong & Yang, NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture Search, ICLR 2020 (arXiv:2001.00326), Table 5"
PUBLISHED_N = 500
# NB201 paper, Table 5: (mean, std) of the 200-epoch accuracy in %, per (dataset, split), 500 runs each.
PUBLISHED: dict[str, dict[tuple[str, str], tuple[float, float]]] = {
    "REA": {
        ("cifar10", "valid"): (91.19, 0.31),
        ("cifar10", "test"): (93.92, 0.30),
        ("cifar100", "valid"): (71.81, 1.12),
        ("cifar100", "test"): (71.84, 0.99),
        ("ImageNet16-120", "valid"): (45.15, 0.89),
        ("ImageNet16-120", "test"): (45.54, 1.03),
    },
    "RS": {
        ("cifar10", "valid"): (90.93, 0.36),
        ("cifar10", "test"): (93.70, 0.36),
        ("cifar100", "valid"): (70.93, 1.09),
        ("cifar100", "test"): (71.04, 1.07),
        ("ImageNet16-120", "valid"): (44.45, 1.10),
        ("ImageNet16-120", "test"): (44.57, 1.25),
    },
    "REINFORCE": {
        ("cifar10", "valid"): (91.09, 0.37),
        ("cifar10", "test"): (93.85, 0.37),
        ("cifar100", "valid"): (71.61, 1.12),
        ("cifar100", "test"): (71.71, 1.09),
        ("ImageNet16-120", "valid"): (45.05, 1.02),
        ("ImageNet16-120", "test"): (45.24, 1.18),
    },
    "BOHB": {
        ("cifar10", "valid"): (90.82, 0.53),
        ("cifar10", "test"): (93.61, 0.52),
        ("cifar100", "valid"): (70.74, 1.29),
        ("cifar100", "test"): (70.85, 1.28),
        ("ImageNet16-120", "valid"): (44.26, 1.36),
        ("ImageNet16-120", "test"): (44.42, 1.49),
    },
}
PUBLISHED_OPTIMAL = {
    ("cifar10", "valid"): 91.61,
    ("cifar10", "test"): 94.37,
    ("cifar100", "valid"): 73.49,
    ("cifar100", "test"): 73.51,
    ("ImageNet16-120", "valid"): 46.77,
    ("ImageNet16-120", "test"): 47.31,
}
PUBLISHED_SETTINGS = {
    "REA": "population 10, tournament 3 (AutoDL-Projects scripts-search/algos/R-EA.sh)",
    "RS": "uniform samples (scripts-search/algos/Random.sh)",
    "REINFORCE": "Adam lr 0.001, EMA momentum 0.9 (scripts-search/algos/REINFORCE.sh)",
    "BOHB": "hpbandster, eta 3, budgets 12-200, num_samples 4, random_fraction 0, bandwidth_factor 3, 12-epoch queries (scripts-search/algos/BOHB.sh)",
}
INCUMBENT_RULES = ("budget", "paper", "crossing")
# Optimizers whose counterpart's paper script reports the best of a trace holding the crossing trial.
KEEPS_CROSSING = ("reinforce",)  # AutoDL-Projects exps/algos/reinforce.py: trace.append(...) before the budget check
COUNTERPART = {"rs": "RS", "re": "REA", "re_autodl": "REA", "reinforce": "REINFORCE", "bohb_nb201": "BOHB", "bohb": "BOHB"}
ORDER = ["rs", "re", "re_autodl", "reinforce", "bohb_nb201", "bohb", "smac_hb", "dehb", "tpe", "smac"]


def settings_text(hyperparameters: dict[str, object]) -> str:
    """One run's hyperparameters as ``key=value`` pairs (``defaults`` when there are none)."""
    return ", ".join(f"{k}={v}" for k, v in sorted(hyperparameters.items())) or "defaults"


def col(dataset: str, split: str, what: str) -> str:
    return f"{dataset}_{split}_{what}"


def check_rule(rule: str) -> str:
    if rule not in INCUMBENT_RULES:
        raise InputError("incumbent_rule", rule, f"unknown; choose from {', '.join(INCUMBENT_RULES)}")
    return rule


def keeps_crossing(rule: str, optimizer: str) -> bool:
    """Whether the trial that crossed the budget joins the trace the run reports the best of."""
    return rule == "crossing" or (rule == "paper" and optimizer in KEEPS_CROSSING)


def crossing_incumbent(rec: dict, run: Path) -> tuple[int, bool]:
    """The run's incumbent when the trial that crossed the budget joins its trace: (arch code, whether
    the crossing trial is it). The crossing trial wins as any trial would (``NB201View.row``): if it
    is an incumbent candidate at a higher fidelity, or at the same fidelity with a strictly higher
    observed validation accuracy (ties keep the earlier trial, as ``max`` over the paper's trace)."""
    inc, stop = rec["incumbent"], rec.get("stop") or {}
    code = inc["arch_code"]
    if stop.get("reason") != "next trial would cross max_sim_seconds":
        return code, False  # stopped by max_evals or at the budget exactly: no trial crossed it
    if "arch_code" not in stop:
        raise InputError(
            "runs", str(run), "run.json's stop lacks the crossing trial (written by an older nashpo); rerun it or use incumbent_rule budget"
        )
    wins = stop["incumbent_candidate"] and (
        code is None
        or code < 0
        or stop["epochs"] > inc["epochs"]
        or (stop["epochs"] == inc["epochs"] and stop["valid_acc"] > inc["valid_acc"])
    )
    return (int(stop["arch_code"]), True) if wins else (code, False)


def incumbents(run_dirs: list[Path], rule: str = "budget") -> pd.DataFrame:
    """One row per one-worker cifar10 proxy search: optimizer, seed, budget, the arch code it reports under
    ``rule`` (``INCUMBENT_RULES``) and whether that is the trial that crossed the budget."""
    check_rule(rule)
    rows = []
    for run in run_dirs:
        rec = read_record(run)
        if rec["dataset"] != SEARCH_DATASET or rec["protocol"] != SEARCH_PROTOCOL or workers_of(rec) != 1:
            continue  # the paper's searches: cifar10, proxy protocol, one worker
        code, crossed = rec["incumbent"]["arch_code"], False
        if keeps_crossing(rule, rec["optimizer"]):
            code, crossed = crossing_incumbent(rec, run)
        if code is None or code < 0:
            raise InputError("runs", str(run), "has no incumbent (no trial fitted the budget)")
        budget = rec["budget"]
        rows.append(
            {
                "optimizer": rec["optimizer"],
                "settings": settings_text(rec.get("hyperparameters") or {}),
                "seed": rec["seed"],
                "arch_code": int(code),
                "incumbent_rule": rule,
                "crossing_trial": crossed,
                "max_sim_seconds": budget.get("max_sim_seconds"),
                "max_evals": budget.get("max_evals"),
                "sim_time": rec["sim_time"],
            }
        )
    if not rows:
        raise InputError("runs", len(run_dirs), f"none is a {SEARCH_DATASET} search with the {SEARCH_PROTOCOL} protocol")
    return pd.DataFrame(rows)


def lookups(incs: pd.DataFrame, data_dir: Path | None = None) -> pd.DataFrame:
    """Each incumbent's 200-epoch validation and test accuracy on every dataset."""
    out = incs.copy()
    codes = incs["arch_code"].to_numpy(np.int64)
    for d in DATASETS:
        values = NB201Benchmark(d, data_dir).query_many(codes, FULL_EPOCHS)
        out[col(d, "valid", "acc")] = np.asarray(values["valid_acc"], float)
        out[col(d, "test", "acc")] = np.asarray(values.get("test_acc", np.full(len(codes), np.nan)), float)
    return out


def oracle_row(data_dir: Path | None = None) -> dict[str, object]:
    row: dict[str, object] = {"method": "optimal", "source": "ours (tables)", "counterpart": "optimal", "n": np.nan, "settings": ""}
    for d in DATASETS:
        bench = NB201Benchmark(d, data_dir)
        everything = bench.query_many(np.arange(N_ARCHS), FULL_EPOCHS)
        for s, key in (("valid", "valid_acc"), ("test", "test_acc")):
            v = np.asarray(everything.get(key, [np.nan]), float)
            row[col(d, s, "mean")] = float(np.nanmax(v)) if np.isfinite(v).any() else np.nan
            row[col(d, s, "std")] = np.nan
            row[col(d, s, "dSE")] = np.nan
    return row


def table(per_run: pd.DataFrame, data_dir: Path | None = None) -> pd.DataFrame:
    """Wide table: published rows, then ours (``ORDER``, then any others), then the optimal rows."""
    rows: list[dict[str, object]] = []
    for method, cells in PUBLISHED.items():
        row: dict[str, object] = {
            "method": method,
            "source": "published",
            "counterpart": method,
            "n": PUBLISHED_N,
            "settings": PUBLISHED_SETTINGS[method],
        }
        for (d, s), (m, sd) in cells.items():
            row.update({col(d, s, "mean"): m, col(d, s, "std"): sd, col(d, s, "dSE"): np.nan})
        rows.append(row)
    names = sorted(per_run["optimizer"].unique(), key=lambda o: (ORDER.index(o) if o in ORDER else len(ORDER), o))
    for opt in names:
        g = per_run[per_run["optimizer"] == opt]
        n = len(g)
        pub = COUNTERPART.get(opt)
        row = {"method": opt, "source": "ours", "counterpart": pub or "", "n": n, "settings": " | ".join(sorted(g["settings"].unique()))}
        for d, s in METRICS:
            v = g[col(d, s, "acc")].to_numpy(float)
            mean = float(np.mean(v))
            std = float(np.std(v, ddof=1)) if n > 1 else np.nan
            row[col(d, s, "mean")], row[col(d, s, "std")] = mean, std
            dse = np.nan
            if pub is not None and n > 1:
                pm, ps = PUBLISHED[pub][(d, s)]
                se = math.sqrt(std**2 / n + ps**2 / PUBLISHED_N)
                dse = (mean - pm) / se if se > 0 else np.nan
            row[col(d, s, "dSE")] = dse
        rows.append(row)
    published_optimal: dict[str, object] = {
        "method": "optimal",
        "source": "published",
        "counterpart": "optimal",
        "n": np.nan,
        "settings": "",
    }
    for (d, s), m in PUBLISHED_OPTIMAL.items():
        published_optimal.update({col(d, s, "mean"): m, col(d, s, "std"): np.nan, col(d, s, "dSE"): np.nan})
    rows += [published_optimal, oracle_row(data_dir)]
    return pd.DataFrame(rows)


def cell(mean: float, std: float) -> str:
    if not np.isfinite(mean):
        return "--"
    return f"{mean:.2f}±{std:.2f}" if np.isfinite(std) else f"{mean:.2f}"


def display(wide: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: one "mean±std" cell per dataset and split, then the dSE columns."""
    out = pd.DataFrame(
        {"Method": wide["method"], "Source": wide["source"], "n": wide["n"].map(lambda v: "" if pd.isna(v) else str(int(v)))}
    )
    for d, s in METRICS:
        out[f"{LABELS[d]} {s}"] = [cell(m, sd) for m, sd in zip(wide[col(d, s, "mean")], wide[col(d, s, "std")], strict=True)]
    out["vs"] = wide["counterpart"].where(wide["source"] == "ours", "")
    out.loc[wide["method"] == "optimal", "vs"] = ""
    for d, s in METRICS:
        out[f"dSE {LABELS[d]} {s}"] = [f"{v:+.1f}" if np.isfinite(v) else "" for v in wide[col(d, s, "dSE")]]
    out["Settings"] = wide["settings"].fillna("")
    return out


RULE_TEXT = {
    "budget": "the final incumbent over the trials that fit the budget",
    "paper": (
        "the final incumbent over the trials that fit the budget; for reinforce, as in AutoDL-Projects' reinforce.py, "
        "the best of those trials and the trial that crossed the budget by observed validation accuracy"
    ),
    "crossing": "the best of the trials that fit the budget and the trial that crossed it, by observed validation accuracy",
}


def caption(per_run: pd.DataFrame) -> str:
    rule = str(per_run["incumbent_rule"].iloc[0])
    budgets = sorted({f"{b:,.0f} simulated seconds" for b in per_run["max_sim_seconds"].dropna()})
    evals = sorted({f"{int(e)} evaluations" for e in per_run["max_evals"].dropna()})
    budget = " / ".join(budgets + evals)
    counts = per_run.groupby("optimizer").size()
    seeds = ", ".join(f"{o} {n}" for o, n in counts.items()) if counts.nunique() > 1 else f"{int(counts.iloc[0])} seeds each"
    return (
        f"NB201 Table 5 layout. Search on cifar10 (cifar10-valid split) with the 12-epoch proxy and a budget of {budget}; "
        f"cells: the 200-epoch accuracy (%) of {RULE_TEXT[rule]}, mean ± std over seeds ({seeds}). "
        f"Published rows (RS, REA, REINFORCE, BOHB; 500 runs each; optimal = best architecture): {SOURCE}. "
        "Ours: rs~RS, re and re_autodl (AutoDL's tournament and mutation)~REA, reinforce~REINFORCE, "
        "bohb_nb201 (the paper's BOHB protocol) and bohb (hpbandster's defaults, rungs on 12 and 200 epochs)~BOHB; "
        "smac_hb (SMAC3's Hyperband, random forest) has no counterpart. Settings: each row's hyperparameters. "
        "dSE: (ours - published) / sqrt(our std^2 / our n + published std^2 / 500), the standard error of the difference. "
        "optimal (ours) is the best value in our tables."
    )


def nb201_table(
    runs: list[str | Path], out_dir: Path, data_dir: Path | None = None, log: TextIO = sys.stderr, incumbent_rule: str = "budget"
) -> list[Path]:
    per_run = lookups(incumbents(expand_runs(runs), check_rule(incumbent_rule)), data_dir)
    wide = table(per_run, data_dir)
    shown = display(wide)
    text = caption(per_run)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "nb201_table.csv": wide.to_csv(index=False, float_format="%.6g"),
        "nb201_table_runs.csv": per_run.to_csv(index=False, float_format="%.6g"),
        "nb201_table.md": f"{shown.to_markdown(index=False)}\n\n{text}\n",
        "nb201_table.tex": shown.to_latex(index=False, escape=True, caption=text, label="tab:nb201").replace("±", r"$\pm$"),
        "nb201_table.rst": text + "\n",
    }
    written = []
    for name, content in files.items():
        write_text_atomic(content, out_dir / name)
        written.append(out_dir / name)
    crossed = int(per_run["crossing_trial"].sum())
    print(
        f"nb201 table: {len(per_run)} cifar10 searches, {per_run['optimizer'].nunique()} optimizers, incumbent rule {incumbent_rule} "
        f"({crossed} report the trial that crossed the budget) -> {out_dir}",
        file=log,
    )
    return written
