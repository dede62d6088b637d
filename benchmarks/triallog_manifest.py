"""Checksums of every trial log of a study, keyed by (family, task, objective set, optimizer, seed).

    python benchmarks/triallog_manifest.py write results tests/golden/default_study_triallogs.csv
    python benchmarks/triallog_manifest.py check results tests/golden/default_study_triallogs.csv

``write`` records, for every run folder under RESULTS (any layout: the key comes from ``run.json``,
never from the path), the digest of its trial log over all columns but the wall-clock ``opt_time``
(``nashpo.triallog.log_digest``) and the settings that reproduce it (budget, hyperparameters,
protocol, noise, objectives). ``check`` recomputes the digests of RESULTS and prints every run that is
missing, extra or different; it exits 1 on any difference. A restructuring of the code must leave
every digest unchanged.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from nashpo.triallog import RECORD_FILE, log_digest, one_worker_clock, read_trials

KEY = ("family", "task", "objectives", "optimizer", "seed")
FIELDS = (*KEY, "protocol", "noise", "budget", "hyperparameters", "objective_specs", "n_trials", "sim_time", "digest")
# The single objective of a run without an objective set: the family's error objective, named as
# in multi-objective sets (nashpo.objectives).
ERROR_OBJECTIVE = {"nb201": "valid_error", "hpolib": "valid_loss", "hpobench": "valid_error"}


def run_entry(run: Path) -> dict[str, str]:
    record = json.loads((run / RECORD_FILE).read_text())
    family = (record.get("benchmark") or {}).get("family", "nb201")
    multi = bool(record.get("multi_objective"))
    objectives = record.get("objective_set") or ERROR_OBJECTIVE[family]
    specs = ",".join(o["name"] for o in record["objectives"]) if multi else ""
    return {
        "family": family,
        "task": record["dataset"],
        "objectives": objectives,
        "optimizer": record["optimizer"],
        "seed": str(record["seed"]),
        "protocol": str(record.get("protocol")),
        "noise": str(record.get("noise")),
        "budget": json.dumps(record["budget"], sort_keys=True),
        "hyperparameters": json.dumps(record.get("hyperparameters") or {}, sort_keys=True),
        "objective_specs": specs,
        "n_trials": str(record["n_trials"]),
        "sim_time": repr(float(record["sim_time"])),
        "digest": digest(read_trials(run)),
    }


def digest(trials) -> str:
    """The log's digest; a log whose worker columns are not one worker's cannot match one."""
    return log_digest(trials) if one_worker_clock(trials) else "worker columns are not one worker's"


def study_entries(results: Path) -> dict[tuple[str, ...], dict[str, str]]:
    out: dict[tuple[str, ...], dict[str, str]] = {}
    for record in sorted(Path(results).rglob(RECORD_FILE)):
        if "deepcave" in record.relative_to(results).parts or not (record.parent / "trials.parquet").is_file():
            continue
        entry = run_entry(record.parent)
        key = tuple(entry[k] for k in KEY)
        if key in out:
            sys.exit(f"two runs of {'/'.join(key)}: {record.parent} and another")
        out[key] = entry
    return out


def read_manifest(path: Path) -> dict[tuple[str, ...], dict[str, str]]:
    with open(path, newline="") as fh:
        return {tuple(row[k] for k in KEY): row for row in csv.DictReader(fh)}


def write(results: Path, manifest: Path) -> None:
    entries = study_entries(results)
    tmp = manifest.with_name(f".{manifest.name}.tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS, lineterminator="\n")
        writer.writeheader()
        for key in sorted(entries):
            writer.writerow(entries[key])
    tmp.replace(manifest)
    print(f"{len(entries)} trial logs -> {manifest}")


def check(results: Path, manifest: Path) -> int:
    want, have = read_manifest(manifest), study_entries(results)
    missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    differ = sorted(k for k in set(want) & set(have) if want[k]["digest"] != have[k]["digest"])
    for label, keys in (("missing", missing), ("extra", extra), ("different", differ)):
        for key in keys:
            print(f"{label}: {'/'.join(key)}")
    same = len(set(want) & set(have)) - len(differ)
    print(f"{same} of {len(want)} trial logs match; {len(missing)} missing, {len(extra)} extra, {len(differ)} different")
    return 1 if missing or extra or differ else 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("action", choices=("write", "check"))
    p.add_argument("results", type=Path, help="a study's results folder")
    p.add_argument("manifest", type=Path, help="the checksum manifest (CSV)")
    args = p.parse_args()
    if args.action == "write":
        write(args.results, args.manifest)
    else:
        sys.exit(check(args.results, args.manifest))


if __name__ == "__main__":
    main()
