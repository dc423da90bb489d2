#!/bin/sh
# Third set: PhysioNet ODE-RNN (dopri5) for one epoch right after the 8-epoch CfC run of
# scripts/reproduce-more.sh (the time-per-epoch pair in RESULTS.md), then CfC for 16 epochs.
set -e
cd "$(dirname "$0")/.."
R="npx tsx scripts/dev-cli.ts reproduce"
O="--out bench/results/reproduce --quiet --threads 1"
$R physionet --model ode-rnn --epochs 1 $O
$R physionet --model cfc --epochs 16 $O
