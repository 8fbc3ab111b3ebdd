"""Choose the ResNet's `cpu` recipe on VALIDATION speakers only (the test speakers' items are never read).

For each of the first folds of EmoDB (leave one speaker out, `N_VAL_SPEAKERS` validation speakers) and one seed, every
candidate recipe is trained for the same step budget; the script records the validation UA of the selected checkpoint
and the mean validation UA of the last five evaluations (less optimistic than the best one). Writes a CSV.

    python bench/ser_search.py WORKSPACE OUT.csv [FOLDS] [CONFIGS]   (CONFIGS: names of CANDIDATES joined by ';')

The winner (best mean validation UA on both measures) became the `cpu` preset of `SERConfig`.
"""
import sys, time
import numpy as np, pandas as pd
from emogen.preprocessing import load_features, speaker_folds
from emogen.evaluation import SERConfig, fit_ser, speaker_standardise, N_VAL_SPEAKERS

BASE = dict(width=8, steps=600)  # the `cpu` preset before this search (ResNet-18 width 8, 600 steps)
CANDIDATES = {
    'cpu (global norm)': {},
    'speaker norm': dict(input_norm='speaker'),
    'speaker norm + EMA': dict(input_norm='speaker', ema=0.99),
    'speaker norm + EMA + mixup + smoothing': dict(input_norm='speaker', ema=0.99, mixup=0.2, label_smoothing=0.1),
    'global norm + EMA': dict(ema=0.99),
    'speaker norm + EMA, width 16': dict(input_norm='speaker', ema=0.99, width=16),
    'speaker norm + EMA, 1000 steps': dict(input_norm='speaker', ema=0.99, steps=1000),
}

if __name__ == '__main__':
    ws, out = sys.argv[1], sys.argv[2]
    folds_run = [int(k) for k in sys.argv[3].split(',')] if len(sys.argv) > 3 else [0, 1, 2]
    names = sys.argv[4].split(';') if len(sys.argv) > 4 else list(CANDIDATES)
    f = load_features(ws, 'emodb', 'emogen')
    y, spk = f.meta.label.values.astype(int), f.meta.speaker.astype(str).values
    folds = speaker_folds(f.meta, n_val_speakers=N_VAL_SPEAKERS)
    xs = {'global': f.x, 'speaker': speaker_standardise(f.x, spk)}
    rows = []
    for k in folds_run:
        fd = folds[k]
        for name in names:
            cfg = SERConfig(**BASE, **CANDIDATES[name])
            x = xs[cfg.input_norm]
            t0 = time.time()
            _, hist = fit_ser(x[fd.train], y[fd.train], x[fd.val], y[fd.val], len(f.classes), cfg, seed=0)
            rows.append({'config': name, 'fold': k, 'val_speakers': ','.join(sorted(set(spk[fd.val]))),
                         'val_UA_selected': 100*hist.val_UA.max(), 'val_UA_last5': 100*hist.val_UA.tail(5).mean(),
                         'best_step': int(hist.step[hist.best].iloc[0]), 'seconds': round(time.time() - t0, 1),
                         'config_json': cfg.to_dict()})
            pd.DataFrame(rows).to_csv(out, index=False)
            print(f"fold {k} {name}: val UA selected {rows[-1]['val_UA_selected']:.1f}, "
                  f"last 5 {rows[-1]['val_UA_last5']:.1f} ({rows[-1]['seconds']:.0f} s)", flush=True)
    t = pd.DataFrame(rows).groupby('config', sort=False)[['val_UA_selected', 'val_UA_last5', 'seconds']].mean()
    print(t.round(1).to_string())
