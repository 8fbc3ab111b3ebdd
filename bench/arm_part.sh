#!/usr/bin/env bash
# One part of the pre-registered arm tables (results/PREREGISTRATION.md, steps 2 and 3) in one sitting of a 2-core
# machine: two processes of one thread side by side, then the part's report.
#
#   bash bench/arm_part.sh CORPUS K WORKSPACE DATA_DIR     (from the repository root; CORPUS: emodb or ravdess)
#
# Process 1 fits fold K's VAE on the fold's training speakers (judged on its validation speakers only, as every fit
# is), then runs the VAE's arm. Process 2 fits the fold's latent diffusion model the same way, runs every arm that
# needs no VAE, then (the VAE fitted by then) the arm that needs both, refined. Both write to the part's
# run folder, so the last step, the pre-registered command itself (bench/evaluation.py), finds every generator
# fitted and every run done, reads them back and writes results/CORPUS/arms-hifigan/parts/fold-K (EmoDB) or block-K
# (RAVDESS). A sitting that is interrupted is resumed by the same line: fits go on from their last epoch, finished
# runs are read back, and the part's sitting.json says so (its seconds are the last sitting's). A RAVDESS block takes
# about 2.3 hours this way (its VAE 1.7, each arm whose items are vocoded about 0.3: HiFi-GAN runs at about real time on
# one thread), where one process takes over four.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: bash bench/arm_part.sh CORPUS K WORKSPACE DATA_DIR" >&2; exit 2; }
corpus=$1 k=$2 w=$3 data=$4
case $corpus in
  emodb) part=fold ;;
  ravdess) part=block ;;
  *) echo "CORPUS must be emodb or ravdess, not '$corpus'" >&2; exit 2 ;;
esac
# the budgets the budget rule chose for the corpus (bench/budget_rule.py)
read -r steps epochs < <(python -c "import json; m = json.load(open('results/$corpus/budget/choice.json'))['models']; \
print(m['diffusion']['chosen_budget'], m['vae']['chosen_epochs'])")
machine="2-core CPU, two processes of one thread each"
start=$(date +%s)
# what an earlier, interrupted sitting of this part left (checkpoints, finished runs): this sitting's seconds omit its time
earlier=$(ls "$w/experiments/$corpus-arms-hifigan/runs" "$w/experiments/$corpus-arms-hifigan/runs/generators" 2>/dev/null \
          | grep -c "fold${k}_" || true)
export OMP_NUM_THREADS=1  # two processes of one thread: more threads oversubscribe the two cores
[ -d "$w/processed" ] || emogen prepare --corpus "$corpus" --data-dir "$data" --features hifigan --out "$w"
arms=real,real+augment,real+resample,real+gaussian,real+gaussian-shuffled,real+copypaste,real+vae,real+diffusion
arms=$arms,real+refined,real+converted,real+diffusion-shuffled
# the pre-registered command's options, before and after its --arms
pre=(--corpus "$corpus" --out "$w" --features hifigan --classifier functionals)
post=(--ratio 0.25 --generator-steps "$steps" --generator-epochs "$epochs" --vocoder hifigan --judge-domain natural
      --preset cpu --run "$corpus-arms-hifigan" --only-folds "$k" --quiet)
ev() { emogen evaluate "${pre[@]}" "${post[@]}" "$@"; }
logs=$w/logs; mkdir -p "$logs"
fitted=$logs/$corpus-$k-vae-fitted; rm -f "$fitted"
echo "$part $k of $corpus: logs in $logs/$corpus-$k-{1,2}.log"
(ev --arms real,real+vae --quality-only && touch "$fitted" && ev --arms real,real+vae) >"$logs/$corpus-$k-1.log" 2>&1 &
p1=$!
# the refined arm needs both generators: process 2 runs it last, once process 1 has fitted the VAE
(ev --arms real,real+diffusion --quality-only && ev --arms real,real+augment,real+resample,real+gaussian,\
real+gaussian-shuffled,real+copypaste,real+diffusion,real+converted,real+diffusion-shuffled &&
 while [ ! -e "$fitted" ] && kill -0 $p1 2>/dev/null; do sleep 30; done &&
 [ -e "$fitted" ] && ev --arms real,real+refined) >"$logs/$corpus-$k-2.log" 2>&1 & p2=$!
rc=0; wait $p1 || rc=$?; wait $p2 || rc=$?
[ $rc -eq 0 ] || { echo "a process failed: see $logs" >&2; exit $rc; }
python bench/evaluation.py --machine "$machine" --name "arms-hifigan/parts/$part-$k" -- "${pre[@]}" --arms "$arms" "${post[@]}"
# command.json's seconds are the last step's (it reads the runs back): the sitting's are recorded beside them
printf '{\n  "command": "bash bench/arm_part.sh %s %s WORKSPACE DATA",\n  "seconds": %s,\n  "machine": "%s",\n  "resumed": %s\n}\n' \
  "$corpus" "$k" "$(( $(date +%s) - start ))" "$machine" "$([ "$earlier" -gt 0 ] && echo "\"yes: $earlier files of an earlier sitting (checkpoints, finished runs) were there; its time is not in seconds\"" || echo false)" \
  >"results/$corpus/arms-hifigan/parts/$part-$k/sitting.json"
