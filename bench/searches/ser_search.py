"""Choose the ResNet's `cpu` recipe on VALIDATION speakers only (the test speakers' items are never read).

Two searches, both on the first folds of EmoDB (leave one speaker out, `N_VAL_SPEAKERS` validation speakers):

**Recipes** (one seed): every candidate of `CANDIDATES` is trained for the same step budget; the script records the
validation UA of the selected checkpoint and the mean validation UA of the last five evaluations. The winner (best
mean validation UA on both measures) became the `cpu` preset of `SERConfig`.

    python bench/searches/ser_search.py WORKSPACE OUT.csv [FOLDS] [CONFIGS]   (CONFIGS: names of CANDIDATES joined by ';')

**Seeds** (`--seeds`): the `cpu` recipe is trained once per fold and seed, and the weights it could keep are read out
of that one run (`READOUTS`: several EMA decays, the best validation evaluation or the last weights; `fit_ser` calls
`on_step` after every step), so no readout costs an optimiser step more. Each readout is scored per validation speaker
(the test UA is per speaker too); the script reports each readout's mean UA and its seed standard deviation (taken
per fold and validation speaker, then averaged). The previous rule, the best validation evaluation, is cross-fitted:
the evaluation is chosen on one validation speaker and scored on the other (choosing and scoring on the same speaker
would flatter it; choosing on one speaker instead of two makes its choice somewhat noisier than the benchmark's).

    python bench/searches/ser_search.py WORKSPACE OUT.csv FOLDS --seeds 0,1,2

Selection rule of the seed search, written before it ran: the readout with the lowest mean seed sd of per-speaker
validation UA (folds 0-2 x 3 seeds) wins, provided its mean validation UA is within 2 points of the current rule's
and its mean seed sd is lower than the current rule's; otherwise the `cpu` preset stays as it is and the test folds
are not run again. It chose the EMA 0.99 weights at the end of the budget (`select='last'`), now in the `cpu` preset.

**Weight averaging** (`--swa RECIPE`): on the 10 test folds that preset's seeds still disagree (seed sd 7.4 points of
test UA per fold, against at most 5 wanted). Each recipe of `SWA_RECIPES` (the `cpu` recipe at 600 and at 1,200 steps)
is trained once per fold and seed and read out three ways (`SWA_READOUTS`): the current rule (EMA 0.99, last weights,
what `fit_ser` returns) and stochastic weight averaging over the last half or the last quarter of the budget
(`WeightAverage`, rebuilt through `on_step` exactly as `fit_ser(select='swa')` builds it; BatchNorm statistics
recomputed on the training items). Scored per validation speaker as above.

    python bench/searches/ser_search.py WORKSPACE OUT.csv FOLDS --seeds 0,1,2 --swa RECIPE

Selection rule of the weight-averaging search, written before it ran: over all (recipe, readout) pairs on folds 0-2 x
seeds 0-2, the pair with the lowest mean seed sd of per-speaker validation UA wins, provided its mean validation UA is
at least the current rule's (600 steps, EMA 0.99, last weights) minus 2 points and its mean seed sd is lower than the
current rule's; ties go to fewer steps. The winner becomes the `cpu` preset and the 10 test folds are run once with it,
whatever they give; if no pair qualifies, the preset stays. It chose SWA over the last 50 % of 1,200 steps (seed sd
5.1 points against 6.9, validation UA 72.0 % against 72.6 %): the `cpu` preset is now steps=1200, select='swa'.

**Ensembles at the same step budget** (`--ensemble RECIPE`): on the 10 test folds that preset still gave a seed sd of
7.7 points per fold. A run of `ENSEMBLE_RECIPES[RECIPE]` splits the same 1,200 optimiser steps between `members` nets
(member m of seed s is trained with seed s*members + m, each with weights averaged over the last half of its own
steps) and predicts with the mean of their softmax probabilities. Scored per validation speaker as above, on folds 0-2
x seeds 0-2.

    python bench/searches/ser_search.py WORKSPACE OUT.csv FOLDS --seeds 0,1,2 --ensemble RECIPE

Selection rule of the ensemble search, written before it ran (session 10; one recipe, 3 members of 400 steps, what
the CPU allowed): it wins if its mean validation UA is at least the preset's (71.95 %, the 'cpu, 1,200 steps' / 'SWA
over the last 50 %' rows of validation_swa.csv, same folds, seeds and speakers) minus 2 points and its mean seed sd
is lower than the preset's (5.10). The winner becomes the `cpu` preset and the 10 test
folds are run once with it, whatever they give; if no recipe qualifies, the preset stays. It qualified (validation
UA 78.2 % against 72.0 %, seed sd 2.3 points against 5.1): the `cpu` preset is now members=3 (3 nets of 400 steps).

On the 10 test folds that preset reached 72.7 % UA with a seed sd of 5.4 points (target: at most 5). Fifth search
(session 10, rule written before it ran): 'cpu, 5 x 400 steps' (5 nets of the same 400 steps, a 2,000-step run) on
the same folds and seeds. It replaces the preset if its mean seed sd is lower than the 3-net preset's (2.3, the
'cpu, 3 x 400 steps' rows of validation_ensemble.csv) and its mean validation UA is at least that preset's (78.2 %)
minus 2 points; the 10 test folds are then run once with it (about 70 minutes of a 2-core CPU), whatever they give.
It did not qualify: validation UA 77.5 %, seed sd 4.1 points (max 6.2) against the 3-net preset's 2.3, so the
preset stays at 3 nets and the test folds were not run again. That more members spread more says mostly how loosely
3 seeds x 6 (fold, speaker) cells estimate a seed sd: the 3-net figure of 2.3 was likely a low draw.

Sixth search (session 11, rule written and committed before its runs): the fifth compared the two recipes on 6
(fold, speaker) cells, too few to tell seed sds apart. Both recipes, 'cpu, 3 x 400 steps' (the preset) and 'cpu, 5 x
400 steps', are now also trained on folds 3-5 (validation speakers 13, 14 / 12, 13 / 13, 16; test speakers never
read) with seeds 0-2, and the decision is taken on all 12 cells of folds 0-5 together, the fifth search's cells
included (so the evidence against 5 nets counts): 5 nets replace the preset if their mean seed sd over the 12 cells is
lower than the preset's over the same 12 cells and their mean validation UA is at least the preset's minus 2 points.
The 10 test folds are then run once with 5 nets (about 70 minutes), whatever they give; otherwise the preset stays and
the test folds are not run again. Rows of folds 3-5 are appended to validation_ensemble.csv.

    python bench/searches/ser_search.py WORKSPACE A.csv 3,4,5 --seeds 0,1,2 --ensemble "cpu, 5 x 400 steps"
    python bench/searches/ser_search.py WORKSPACE B.csv 3,4,5 --seeds 0,1,2 --ensemble "cpu, 3 x 400 steps"

It did not qualify: over the 12 cells, 3 nets 79.3 % validation UA and a seed sd of 2.9 points, 5 nets 79.2 % and
3.6 points (both tables: 04, the README). The preset stays at 3 nets; the test folds were not run again.

**Seventh search: item disagreement of the ensembles' own nets** (`--pool NETS`; session 12, rule committed before
its runs). The seed sd of 3 runs per cell estimates a spread loosely (its relative standard error is about 50 %), and
twice it could not tell 3 nets from 5. A sensitive measure of the same instability counts items: how often two runs
with different seeds give an item different classes. An ensemble of M nets at seed s is nets sM, ..., sM + M - 1 of
one pool (member m of seed s is trained with seed sM + m, alone, on 400 steps with weights averaged over the last
200: `fit_ser`'s members). The script trains nets 0 to NETS - 1 of that pool per fold, keeps each net's softmax
probabilities on the validation speakers (an .npz beside OUT, resumed after an interruption) and rebuilds every
disjoint ensemble of M = 1 to 5 nets from them; with NETS = 15, nets 0-8 rebuild the committed 3-net runs of seeds 0-2
and nets 0-14 the 5-net runs (the script checks both against validation_ensemble.csv). Per (fold, validation
speaker) cell and M: the UA of each disjoint ensemble, their seed sd, and their disagreement, the share of the cell's
items on which two of them differ, averaged over all pairs. Folds 0-5 (the sixth search's 12 cells), 15 nets each.

    python bench/searches/ser_search.py WORKSPACE OUT.csv FOLDS --pool 15 [--merge OTHER.npz,...]  (nets of other processes)

Selection rule, written before the runs: 5 nets replace the 3-net preset if their disagreement, averaged over the 12
cells, is lower than the preset's, with the 95 % t-interval over the 6 folds of the per-fold difference (5 nets minus
3, cells averaged within a fold) entirely below zero, and their mean validation UA is at least the preset's minus 2
points. The 10 test folds are then run once with 5 nets (about 70 minutes of a 2-core CPU), whatever they give;
otherwise the preset stays and the test folds are not run again. This is the third look at 5 nets on these
validation speakers, with a sharper measure; the seed sds of all M are reported beside it, whatever they say.

It qualified: 5 nets disagree on 12.6 % of the items against 15.3 % for 3 (per fold -2.75 points, 95 % t-interval
-3.88 to -1.62 over 6 folds), at 79.2 % validation UA against 78.7 %; the rebuilt 3- and 5-net runs of seeds 0-2 equal
the committed ones (72 UAs, largest gap 0). Their seed sd, from 3 disjoint runs per cell against 5, was 3.6 against 3.2
points. The `cpu` preset is now members=5, steps=2000, and the 10 test folds were run once with it: UA 73.3 % mean
over folds, per-fold seed sd 3.6 points on average (95 % t-interval over folds 1.7 to 5.5; 7.8 at most), against 72.7 %
and 5.4 with 3 nets (results/emodb/resnet-real).
"""
import sys, time
from pathlib import Path
from scipy.special import softmax
import numpy as np, pandas as pd
from emogen.core import EMA
from emogen.dataset import load_features, speaker_folds
from emogen.stats import classification_metrics, t_interval
from emogen.ser import SERConfig, fit_ser, predict_logits, speaker_standardise, WeightAverage
from emogen.evaluation import N_VAL_SPEAKERS

BASE = dict(width=8, steps=600)  # the `cpu` preset before the recipe search (ResNet-18 width 8, 600 steps)
CANDIDATES = {
    'cpu (global norm)': {},
    'speaker norm': dict(input_norm='speaker'),
    'speaker norm + EMA': dict(input_norm='speaker', ema=0.99),
    'speaker norm + EMA + mixup + smoothing': dict(input_norm='speaker', ema=0.99, mixup=0.2, label_smoothing=0.1),
    'global norm + EMA': dict(ema=0.99),
    'speaker norm + EMA, width 16': dict(input_norm='speaker', ema=0.99, width=16),
    'speaker norm + EMA, 1000 steps': dict(input_norm='speaker', ema=0.99, steps=1000),
}
SEARCHED = dict(width=8, steps=600, seeds=3, input_norm='speaker', ema=0.99, mixup=0.2, label_smoothing=0.1)  # the
# `cpu` recipe the recipe search chose (select='val'); the seed search reads its runs out in these ways:
READOUTS = {  # name -> (EMA decay, 'val': the best validation evaluation (cross-fitted) or 'last': the last weights)
    'EMA 0.99, best validation evaluation (previous rule)': (0.99, 'val'),
    'EMA 0.99, last weights': (0.99, 'last'),
    'EMA 0.995, last weights': (0.995, 'last'),
    'EMA 0.998, last weights': (0.998, 'last'),
}

SWA_RECIPES = {'cpu, 600 steps': dict(SEARCHED, select='last'),
               'cpu, 1,200 steps': dict(SEARCHED, select='last', steps=1200)}
ENSEMBLE_RECIPES = {'cpu, 3 x 400 steps': dict(SEARCHED, select='swa', steps=1200, members=3),
                    'cpu, 5 x 400 steps': dict(SEARCHED, select='swa', steps=2000, members=5)}
POOL_NET = dict(SEARCHED, select='swa', steps=400)  # one member of ENSEMBLE_RECIPES: alone, its 400 steps
POOL_SIZES = (1, 2, 3, 4, 5)  # nets per ensemble rebuilt from the pool
SWA_READOUTS = {'EMA 0.99, last weights (current rule)': None,  # name -> None (what fit_ser returns) or swa_start
                'SWA over the last 50 %': 0.5, 'SWA over the last 25 %': 0.75}


def recipe_search(f, y, spk, folds, folds_run, names, out):
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


def _ua(y, p, n_classes): return 100*classification_metrics(y, p, n_classes)['UA']


def _per_speaker(yv, sv, pred, n_classes):
    "(validation speaker, UA %, items) of the predictions `pred`, one per validation speaker"
    return [(s, _ua(yv[sv == s], pred[sv == s], n_classes), int((sv == s).sum())) for s in sorted(set(sv))]


def seed_search(f, y, spk, folds, folds_run, seeds, out):
    "Train the `cpu` recipe once per fold and seed; score every readout per validation speaker"
    cfg, n_classes = SERConfig(**SEARCHED), len(f.classes)
    x = speaker_standardise(f.x, spk)
    decays = sorted({d for d, _ in READOUTS.values()})
    rows = []
    for k in folds_run:
        fd = folds[k]
        xv, yv, sv = x[fd.val], y[fd.val], spk[fd.val]
        for seed in seeds:
            emas, preds = {}, {d: {} for d in decays}  # decay -> step -> validation predictions

            def on_step(step, model):  # step 0: before training, where the run starts its own EMA
                if step == 0: emas.update({d: EMA(model, d, average_buffers=False) for d in decays})
                else:
                    for e in emas.values(): e.update(model)
                if step and (step % cfg.eval_every == 0 or step == cfg.steps):
                    for d, e in emas.items(): preds[d][step] = predict_logits(e.model, xv).argmax(1)
            t0 = time.time()
            _, hist = fit_ser(x[fd.train], y[fd.train], xv, yv, n_classes, cfg, seed=seed, on_step=on_step)
            seconds = round(time.time() - t0, 1)
            # the run's own EMA (the one it evaluates and selects on) is the 0.99 one read out here
            ref = np.array([_ua(yv, preds[cfg.ema][s], n_classes) for s in hist.step])
            np.testing.assert_allclose(ref, 100*hist.val_UA.values, atol=1e-9)
            steps = list(hist.step)
            for s in sorted(set(sv)):
                me, other = sv == s, sv != s
                for name, (d, rule) in READOUTS.items():
                    if rule == 'last': at = steps[-1]
                    else:  # the latest of the best evaluations on the other validation speaker
                        ua_other = [_ua(yv[other], preds[d][t][other], n_classes) for t in steps]
                        at = steps[max(i for i, u in enumerate(ua_other) if u == max(ua_other))]
                    rows.append({'readout': name, 'fold': k, 'seed': seed, 'val_speaker': s,
                                 'UA': _ua(yv[me], preds[d][at][me], n_classes), 'step': at,
                                 'n_items': int(me.sum()), 'seconds': seconds})
            pd.DataFrame(rows).to_csv(out, index=False)
            r = pd.DataFrame(rows).query('fold == @k and seed == @seed').groupby('readout', sort=False).UA.mean()
            print(f'fold {k} seed {seed} ({seconds:.0f} s): ' + '; '.join(f'{n} {v:.1f}' for n, v in r.items()),
                  flush=True)
    print(summarize_seeds(pd.DataFrame(rows)).round(2).to_string())


def swa_search(f, y, spk, folds, folds_run, seeds, recipe, out):
    "Train `SWA_RECIPES[recipe]` once per fold and seed; score the returned weights and each weight average"
    cfg, n_classes = SERConfig(**SWA_RECIPES[recipe]), len(f.classes)
    x = speaker_standardise(f.x, spk)
    starts, rows = [a for a in SWA_READOUTS.values() if a is not None], []
    for k in folds_run:
        fd = folds[k]
        xv, yv, sv = x[fd.val], y[fd.val], spk[fd.val]
        for seed in seeds:
            avgs = {}  # swa_start -> WeightAverage, built as fit_ser(select='swa') builds it

            def on_step(step, model):
                for a in starts:
                    if step == int(cfg.steps*a): avgs[a] = WeightAverage(model)
                    elif step > int(cfg.steps*a): avgs[a].update(model)
            t0 = time.time()
            model, _ = fit_ser(x[fd.train], y[fd.train], xv, yv, n_classes, cfg, seed=seed, on_step=on_step)
            seconds = round(time.time() - t0, 1)
            logits = {name: predict_logits(model if a is None else avgs[a].finish(x[fd.train], cfg.batch_size), xv)
                      for name, a in SWA_READOUTS.items()}
            per = {name: _per_speaker(yv, sv, lg.argmax(1), n_classes) for name, lg in logits.items()}
            for i in range(len(set(sv))):  # rows ordered by speaker, then readout
                for name, p in per.items():
                    rows.append({'recipe': recipe, 'readout': name, 'fold': k, 'seed': seed, 'val_speaker': p[i][0],
                                 'UA': p[i][1], 'steps': cfg.steps, 'n_items': p[i][2], 'seconds': seconds})
            pd.DataFrame(rows).to_csv(out, index=False)
            r = pd.DataFrame(rows).query('fold == @k and seed == @seed').groupby('readout', sort=False).UA.mean()
            print(f'{recipe}, fold {k} seed {seed} ({seconds:.0f} s): ' +
                  '; '.join(f'{n} {v:.1f}' for n, v in r.items()), flush=True)
    print(summarize_seeds(pd.DataFrame(rows)).round(2).to_string())


def ensemble_search(f, y, spk, folds, folds_run, seeds, recipe, out):
    "Train `ENSEMBLE_RECIPES[recipe]` (fit_ser trains and averages the members) once per fold and seed"
    cfg, n_classes = SERConfig(**ENSEMBLE_RECIPES[recipe]), len(f.classes)
    x, rows = speaker_standardise(f.x, spk), []
    for k in folds_run:
        fd = folds[k]
        xv, yv, sv = x[fd.val], y[fd.val], spk[fd.val]
        for seed in seeds:
            t0 = time.time()
            model, _ = fit_ser(x[fd.train], y[fd.train], xv, yv, n_classes, cfg, seed=seed)
            seconds, lg = round(time.time() - t0, 1), predict_logits(model, xv)
            for s, ua, n in _per_speaker(yv, sv, lg.argmax(1), n_classes):
                rows.append({'recipe': recipe, 'readout': 'ensemble', 'fold': k, 'seed': seed, 'val_speaker': s,
                             'UA': ua, 'steps': cfg.steps, 'members': cfg.members, 'n_items': n, 'seconds': seconds})
            pd.DataFrame(rows).to_csv(out, index=False)
            print(f'{recipe}, fold {k} seed {seed} ({seconds:.0f} s): ' +
                  ', '.join(f"{r['UA']:.1f}" for r in rows[-len(set(sv)):]), flush=True)
    print(summarize_seeds(pd.DataFrame(rows)).round(2).to_string())


def pool_search(f, y, spk, folds, folds_run, nets, out, merge=()):
    "Train nets 0..`nets`-1 of the ensembles' pool per fold (none already in OUT's .npz or `merge`); rebuild ensembles"
    cfg, n_classes = SERConfig(**POOL_NET), len(f.classes)
    x, store = speaker_standardise(f.x, spk), Path(out).with_suffix('.npz')
    probs = dict(np.load(store)) if store.exists() else {}  # 'fold{k}_net{m}' -> (n_val, n_classes)
    for other in merge: probs.update(np.load(other))  # another process's nets (e.g. other folds)
    for k in folds_run:
        fd = folds[k]
        for m in range(nets):
            if f'fold{k}_net{m}' in probs: continue
            t0 = time.time()
            model, _ = fit_ser(x[fd.train], y[fd.train], x[fd.val], y[fd.val], n_classes, cfg, seed=m)
            probs[f'fold{k}_net{m}'] = softmax(predict_logits(model, x[fd.val]), axis=1)
            np.savez(store, **probs)
            print(f'fold {k} net {m} ({time.time() - t0:.0f} s)', flush=True)
    rows, dis = [], []
    for k in folds_run:
        fd = folds[k]
        yv, sv = y[fd.val], spk[fd.val]
        p = np.stack([probs[f'fold{k}_net{m}'] for m in range(nets)])
        for size in POOL_SIZES:
            preds = [p[j*size:(j + 1)*size].mean(0).argmax(1) for j in range(nets//size)]  # seed j's ensemble
            for s in sorted(set(sv)):
                me = sv == s
                for j, pr in enumerate(preds):
                    rows.append({'nets': size, 'fold': k, 'val_speaker': s, 'seed': j,
                                 'UA': _ua(yv[me], pr[me], n_classes), 'n_items': int(me.sum())})
                pairs = [(a, b) for a in range(len(preds)) for b in range(a + 1, len(preds))]
                dis.append({'nets': size, 'fold': k, 'val_speaker': s, 'ensembles': len(preds),
                            'disagreement': 100*np.mean([(preds[a][me] != preds[b][me]).mean() for a, b in pairs])})
    v, d = pd.DataFrame(rows), pd.DataFrame(dis)
    v.to_csv(out, index=False)
    d.to_csv(Path(out).with_name(Path(out).stem + '_disagreement.csv'), index=False)
    print(pool_table(v, d).round(2).to_string())
    committed = Path(__file__).resolve().parents[2]/'results'/'emodb'/'resnet-search'/'validation_ensemble.csv'
    if committed.exists():
        n, gap = pool_check(v, pd.read_csv(committed))
        print(f'rebuilt ensembles against the committed ensemble runs: {n} (fold, seed, speaker) UAs, largest gap {gap:.2g}')
    if {3, 5} <= set(POOL_SIZES) and len(folds_run) > 1:
        r = pool_decision(d, v)
        print(f"disagreement, 5 nets minus 3: {r['diff']:+.2f} points [{r['lo']:+.2f}, {r['hi']:+.2f}] (95 % t over "
              f"{len(folds_run)} folds); validation UA {r['UA_new']:.1f} % against {r['UA_old']:.1f} %: "
              f"{'5 nets qualify' if r['qualifies'] else '5 nets do not qualify'}")


def pool_check(v: pd.DataFrame, committed: pd.DataFrame) -> tuple[int, float]:
    "(UAs compared, largest |UA difference|) between the pool's rebuilt ensembles and the committed ensemble runs"
    c = committed.assign(nets=committed.members, val_speaker=committed.val_speaker.astype(str).str.zfill(2))
    m = v.merge(c[['nets', 'fold', 'seed', 'val_speaker', 'UA']], on=['nets', 'fold', 'seed', 'val_speaker'],
                suffixes=('', '_committed'))
    return len(m), float((m.UA - m.UA_committed).abs().max())


def pool_table(v: pd.DataFrame, d: pd.DataFrame) -> pd.DataFrame:
    "Per ensemble size: mean validation UA, seed sd (all disjoint ensembles; mean and max over cells), disagreement"
    sd = v.groupby(['nets', 'fold', 'val_speaker']).UA.std(ddof=1).groupby('nets')
    return pd.DataFrame({'val UA % (mean)': v.groupby('nets').UA.mean(), 'seed sd (mean)': sd.mean(),
                         'seed sd (max)': sd.max(), 'ensembles per cell': d.groupby('nets').ensembles.first(),
                         'disagreement % (mean)': d.groupby('nets').disagreement.mean()})


def pool_decision(d: pd.DataFrame, v: pd.DataFrame, new: int = 5, old: int = 3) -> dict:
    "The seventh search's rule: per-fold disagreement difference (new - old), its t-interval over folds, and the UA gap"
    per = d.groupby(['nets', 'fold']).disagreement.mean().unstack(0)
    ci, ua = t_interval((per[new] - per[old]).values), v.groupby('nets').UA.mean()
    return {'diff': ci['mean'], 'lo': ci['lo'], 'hi': ci['hi'], 'UA_new': ua[new], 'UA_old': ua[old],
            'qualifies': bool(ci['hi'] < 0 and ua[new] >= ua[old] - 2)}


def summarize_seeds(v: pd.DataFrame) -> pd.DataFrame:
    "Per (recipe and) readout: mean validation UA, and the seed sd per (fold, validation speaker), its mean and max"
    key = [c for c in ('recipe', 'readout') if c in v]
    sd = v.groupby(key + ['fold', 'val_speaker'], sort=False).UA.std(ddof=1).groupby(level=key, sort=False)
    return pd.DataFrame({'val UA % (mean)': v.groupby(key, sort=False).UA.mean(), 'seed sd (mean)': sd.mean(),
                         'seed sd (max)': sd.max(), 'runs': v.groupby(key, sort=False).size()})


def _pop(args, flag):
    "(the value after `flag` or None, `args` without the two)"
    if flag not in args: return None, args
    i = args.index(flag)
    return args[i + 1], args[:i] + args[i + 2:]


if __name__ == '__main__':
    args = sys.argv[1:]
    swa, args = _pop(args, '--swa')
    ens, args = _pop(args, '--ensemble')
    pool, args = _pop(args, '--pool')
    merge, args = _pop(args, '--merge')
    seeds, args = _pop(args, '--seeds')
    seeds = None if seeds is None else [int(s) for s in seeds.split(',')]
    ws, out = args[0], args[1]
    folds_run = [int(k) for k in args[2].split(',')] if len(args) > 2 else [0, 1, 2]
    f = load_features(ws, 'emodb', 'emogen')
    y, spk = f.meta.label.values.astype(int), f.meta.speaker.astype(str).values
    folds = speaker_folds(f.meta, n_val_speakers=N_VAL_SPEAKERS)
    if pool is not None: pool_search(f, y, spk, folds, folds_run, int(pool), out,
                                             merge.split(',') if merge else ())
    elif seeds is None: recipe_search(f, y, spk, folds, folds_run, args[3].split(';') if len(args) > 3 else
                                      list(CANDIDATES), out)
    elif ens is not None: ensemble_search(f, y, spk, folds, folds_run, seeds, ens, out)
    elif swa is not None: swa_search(f, y, spk, folds, folds_run, seeds, swa, out)
    else: seed_search(f, y, spk, folds, folds_run, seeds, out)
