#!/usr/bin/env bash
# run.sh FUZZER WORKDIR SEEDDIR SECONDS: a bounded libFuzzer run. New inputs go
# to WORKDIR (in the build tree), never into the seed corpus in the sources.
set -euo pipefail
fuzzer=$1 work=$2 seeds=$3 seconds=$4
mkdir -p "$work"
dirs=("$work")
[ -d "$seeds" ] && dirs+=("$seeds")
exec "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/" "${dirs[@]}"
