#!/bin/sh
# The shortened reproduction runs behind RESULTS.md's "Paper reproduction" section: one run each, few
# epochs, some on the first N sequences (--limit), one thread, because the machine has 2 cores shared
# with other work. Results (JSON + JSONL logs) go to bench/results/reproduce/; then
#   npx tsx scripts/results-md.ts  rewrites the section from them.
set -e
cd "$(dirname "$0")/.."
R="npx tsx scripts/dev-cli.ts reproduce"
O="--out bench/results/reproduce --quiet --threads 1"
$R physionet --model cfc --epochs 3 $O
$R physionet --model ode-rnn --epochs 1 $O
$R xor --model cfc --epochs 5 --limit 10000 $O
$R walker2d --model cfc --epochs 8 $O
$R et-smnist --model cfc-mixed --epochs 3 --limit 5000 $O
$R person-activity --model cfc --epochs 10 $O
$R xor --model cfc-mixed --epochs 5 --limit 10000 $O
$R walker2d --model cfc-mixed --epochs 5 $O
