#!/usr/bin/env bash
# Re-run the committed default experiment (params.yaml as committed: synthetic sample, tiny backbone) in a fresh
# clone at one torch thread and compare its metrics with the committed metrics/metrics.json to the last digit
# (timings aside) and its data by the md5s in dvc.lock, printing what differs and the environment
# record's diff (docs/reproducibility.md).
# Usage: scripts/check_reproduction.sh [--hardware-may-differ] [REPO]   (dvc, bioner and python from PATH)
# Exit 0 reproduced, 1 not reproduced, 2 the run itself failed. KEEP_CLONE=1 keeps the clone for inspection.
set -euo pipefail
opts=()
if [[ "${1:-}" == --hardware-may-differ ]]; then opts+=("$1"); shift; fi
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bioner-repro.XXXXXX")
if [[ "${KEEP_CLONE:-0}" == 1 ]]; then echo "clone kept in $work/clone"; else trap 'rm -rf "$work"' EXIT; fi
git clone -q "$repo" "$work/clone"
cd "$work/clone"
echo "re-running $(git log -1 --format='%h %s' | cut -c1-100) in a fresh clone, one torch thread"
mkdir -p "$work/committed" "$work/new"
for f in metrics/metrics.json metrics/environment.json dvc.lock; do
  git show "HEAD:$f" > "$work/committed/${f#metrics/}" 2>/dev/null || rm -f "$work/committed/${f#metrics/}"
done
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
start=$(date +%s)
if ! dvc repro > "$work/repro.log" 2>&1; then
  tail -n 20 "$work/repro.log"; echo "dvc repro failed (log above)"; exit 2
fi
echo "dvc repro took $(( $(date +%s) - start )) s"
cp metrics/metrics.json dvc.lock "$work/new/"
cp metrics/environment.json "$work/new/" 2>/dev/null || true
PYTHONPATH=src python -m bioner.study.reproduction --committed "$work/committed" --new "$work/new" "${opts[@]}"
