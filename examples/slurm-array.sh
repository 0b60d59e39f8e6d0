#!/bin/bash
# A sweep on Slurm: a job array of 4 tasks, each recording one shard of the configs (runledger
# reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN) and pushing it to
# the team's registry.
#
#   sbatch slurm-array.sh
#   runledger pull ghcr.io/acme/qap --all-tags
#   runledger merge ghcr.io/acme/qap:grid-1-shard-{0..3}-of-4 --into ghcr.io/acme/qap:grid-1
#SBATCH --job-name=qap-grid-1
#SBATCH --array=0-3
#SBATCH --cpus-per-task=8
#SBATCH --time=02:00:00
#SBATCH --output=qap-grid-1-%a.log
set -euo pipefail

export RUNLEDGER_SWEEP=ghcr.io/acme/qap:grid-1
# Each task its own store on local disk; the shard leaves through the registry.
export RUNLEDGER_HOME="${TMPDIR:-/tmp}/runledger-$SLURM_JOB_ID-$SLURM_ARRAY_TASK_ID"
node examples/sweep.mjs
