#!/usr/bin/env bash
# Stand-in for a cluster's submit command (sbatch/qsub) in the workflow tests: runs the job script
# in the background on this machine and prints a job id, like a scheduler would.
set -euo pipefail
jobscript="$1"
log="$(dirname "$jobscript")/$(basename "$jobscript").out"
nohup bash "$jobscript" > "$log" 2>&1 &
echo "local-$!"
