#!/bin/bash
# Reproduce results/emodb/functionals-real from a deleted workspace and compare its metrics.csv byte for byte.
#   bench/reproduce_emodb.sh DATA_DIR/emodb/wav WORKSPACE      (run from the repository root; WORKSPACE is deleted first)
set -e
rm -rf "$2"
emogen prepare --corpus emodb --data-dir "$1" --out "$2"
start=$(date +%s)
emogen evaluate --corpus emodb --out "$2" --classifier functionals --arms real --folds 10 --quiet
echo "evaluate, no cache: $(( $(date +%s) - start )) s"
cmp "$2/experiments/evaluate-emodb-emogen-functionals/metrics.csv" results/emodb/functionals-real/metrics.csv
echo "metrics.csv: identical to results/emodb/functionals-real/metrics.csv"
