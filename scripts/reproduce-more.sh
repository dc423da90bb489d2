#!/bin/sh
# Second set of shortened runs (after scripts/reproduce-short.sh): PhysioNet CfC for more epochs, and the
# paper's CfC variant on Walker2d at the same length as the torch run, for the variant comparison.
set -e
cd "$(dirname "$0")/.."
R="npx tsx scripts/dev-cli.ts reproduce"
O="--out bench/results/reproduce --quiet --threads 1"
$R physionet --model cfc --epochs 8 $O
if [ "${1:-}" = "--variants" ]; then
  $R walker2d --model cfc --variant paper --epochs 8 $O
fi
