"""Choose the classifier-free guidance scale of the `cpu` run's latent diffusion model on VALIDATION speakers only.

The model is fold 0's latent `tiny` generator of `emogen run --corpus emodb --preset cpu` (test speaker 03 never seen;
the run's two validation speakers picked its best weights but never trained it). For each candidate scale the script
draws 16 samples per emotion with DPM-Solver++ 15 steps from noise seed 1 (03's saved outputs and the run use seed 0,
so no sample scored here is reported there) and scores them with a judge trained on the training speakers alone (C
chosen on the validation speakers, no refit on them): the judge's UA on the intended emotions, and KID to the
validation speakers' real items in the judge's standardised space at equal n. The test speaker's items are never
read.

The rule, fixed before the run: among the candidates whose KID is at most 1.5 times the smallest KID of the
candidates (a fidelity guard), take the highest judge UA; a candidate within 1 point of it with a smaller scale wins
(less extrapolation).

    python bench/searches/guidance.py --workspace WS --data-dir EMODB [--out results/emodb/guidance]

WS is the workspace of the `cpu` run (its fold-0 checkpoint is trained there if missing, as `emogen run` would).
Run with OMP_NUM_THREADS=1. Writes selection.csv and command.json, prints the table and the choice.
"""
import argparse, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch

import emogen
from emogen.core import write_json
from emogen.quality import fit_judge, kid
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/, for its diffusion.py
from diffusion import fold0_latent, equal_n, intended_ua  # bench/diffusion.py: the same model, sets and UA as its (d)

CANDIDATES = (1.0, 1.5, 2.0, 3.0, 4.0)
PER_CLASS, SEED, KID_GUARD, UA_TIE = 16, 1, 1.5, 0.01


def choose(table:pd.DataFrame)->float:
    "The rule above, on a table with columns guidance, judge_UA_intended, KID"
    ok = table[table.KID <= KID_GUARD*table.KID.min()]
    best = ok.judge_UA_intended.max()
    return float(ok[ok.judge_UA_intended >= best - UA_TIE].guidance.min())


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--workspace', required=True)
    p.add_argument('--data-dir', required=True, help="the run's EmoDB folder (part of its checkpoints' key)")
    p.add_argument('--out', default='results/emodb/guidance')
    a = p.parse_args()
    t_start = time.time()
    ws = Path(a.workspace)
    run, fe, fold, model, best = fold0_latent(ws, a.data_dir)
    x, y, C = np.asarray(fe.x), fe.meta.label.values, len(fe.classes)
    judge = fit_judge(x[fold.train], y[fold.train], x[fold.val], y[fold.val], fe.spec, C,
                      cache_dir=ws/'cache'/'functionals', refit=False)
    labels = torch.arange(C).repeat_interleave(PER_CLASS)
    n = min(len(fold.val), len(labels))
    take = equal_n(n)
    e_val = judge.embed(x[fold.val][take(len(fold.val), 0)])
    rows = []
    for g in CANDIDATES:
        xs = model.sample(labels, generator=torch.Generator().manual_seed(SEED), guidance=g).numpy()
        k, se = kid(judge.embed(xs[take(len(xs), 2)]), e_val)
        rows.append({'guidance': g, 'n': len(xs), 'judge_UA_intended': intended_ua(judge.predict(xs), labels.numpy(), C),
                     'KID': k, 'KID_se': se, 'finite': bool(np.isfinite(xs).all())})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    chosen = choose(table)
    ref_k = kid(judge.embed(x[fold.train][take(len(fold.train), 1)]), e_val)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out/'selection.csv', index=False)
    write_json(out/'command.json', {
        'command': 'OMP_NUM_THREADS=1 python bench/searches/guidance.py --workspace WORKSPACE --data-dir DATA',
        'run': 'emogen run --corpus emodb --data-dir DATA --preset cpu --out WORKSPACE (fold 0 latent model)',
        'emogen': emogen.__version__, 'seconds': round(time.time() - t_start, 1),
        'val_speakers': sorted(map(str, fold.val_speakers)),
        'test_speakers_unread': sorted(map(str, fold.test_speakers)), 'n_val_items_for_KID': n,
        'candidates': list(CANDIDATES), 'per_class': PER_CLASS, 'noise_seed': SEED, 'sampler': 'dpm, 15 steps',
        'rule': f'highest judge UA among candidates with KID <= {KID_GUARD} x the smallest; a smaller scale within '
                f'{UA_TIE*100:.0f} point wins', 'chosen_guidance': chosen,
        'KID_real_train_vs_val': list(ref_k), 'spec': fe.spec.to_dict(), 'checkpoint': best.name})
    print(table.round(4).to_string(index=False))
    print(f'real training vs validation speakers: KID {ref_k[0]:.4f} ± {ref_k[1]:.4f}')
    print(f'chosen guidance: {chosen}')
