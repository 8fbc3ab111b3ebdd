"""Benchmark of emogen.enhancement (issue 13) on the EmoDB copy (EMOGEN_REAL_DATA/emodb/wav), CPU-sized.

Pairs: EmoDB utterances (the paper's six emotions) plus white, pink, brown, babble or hum noise (in turn) at 0, 5 and
10 dB, at 16 kHz. Speakers, fixed before any run: test 03, 10 (male), 08, 09 (female); validation 11, 13; training
12, 14, 15, 16. Babble comes from other speakers of the same side. Every setting is fixed a priori except three
chosen on the validation speakers (the test speakers unread) by bench/searches/enhancement_val.py with rules written before
its runs: the SEGAN variant (--segan-arm) and the refiner's strength and gate (--strength, --gate-db). Validation
speakers also pick SEGAN's best epoch and the judge's C.

Four rows per SNR: noisy / SEGAN / refiner on noisy / SEGAN + refiner, scored by PESQ (wide band), STOI,
ESTOI, SI-SDR, DNSMOS (P.835 SIG/BAK/OVRL and P.808, also of the clean test speech; --no-dnsmos skips it) and the
judge's UA (openSMILE ComParE_2016 functionals + class-balanced logistic regression from
emogen.evaluation, trained on the clean recordings of the training speakers, C chosen on the validation speakers),
plus the judge's UA on the clean test speech. Per SNR: the mean over the 4 test speakers (each speaker's mean first)
with a 95 % t-interval over speakers (3 degrees of freedom). The prior's variants (SiLU, ReLU, GELU,
depthwise-separable, 2 heads) are compared at the same number of optimiser steps.

Usage: python bench/enhancement.py [--out results/enhancement] [--work /tmp/emogen-enh] [--per-speaker 8]
       [--segan-steps 600] [--prior-steps 150] [--variant-steps 30] [--refine-steps 4] [--seed 0]
       [--segan-arm NAME] [--wet FRACTION] [--strength 1.0] [--gate-db DB]
       [--refine-method gain|diffiner|diffiner+] [--no-dnsmos]
The committed results/enhancement/ come from (results/enhancement/command.txt)
    python bench/enhancement.py --segan-arm residual+pre0+norm+lr2e-4+cstft20 --segan-steps 2400 --wet 0.5 \
        --strength 0.5 --gate-db 0.0 --variant-steps 0
and variants.csv from the variants at the prior's own schedule (the prior is unchanged since):
       python bench/enhancement.py --variants-only --variant-steps 150     (rewrites variants.csv)
Run both with OMP_NUM_THREADS=1; about 16 + 12 minutes of one shared CPU core.
"""
import argparse, json, sys, time
from dataclasses import replace
from pathlib import Path
import numpy as np, pandas as pd, torch
from emogen.stats import t_interval

import emogen
from emogen.core import real_data_dir, seed_everything, write_json
from emogen.corpora import read_corpus
from emogen.unet import n_params
from emogen.pairs import make_pairs, load_mono, LEVEL
from emogen.speech_quality import enhancement_metrics, dnsmos_table, DNSMOS_COLUMNS
from emogen.enhancement import (SEGANConfig, fit_segan, segan_enhance, prior_config, fit_prior, refine_wave, enhance_spec,
                                PRIOR_VARIANTS)

TEST, VAL = ['03', '10', '08', '09'], ['11', '13']
NOISES = ('white', 'pink', 'brown', 'babble', 'hum')
ROWS = ['noisy', 'SEGAN', 'refiner on noisy', 'SEGAN + refiner']
# SEGAN variants compared on the validation speakers by bench/searches/enhancement_val.py (changes to the cpu size)
PAPER = dict(residual=False, adv_weight=1., stft_weight=0., preemph=0.95, normalise=False)  # the paper's formulation
_CSTFT = dict(residual=True, preemph=0., normalise=True, lr=2e-4, stft_compress=0.3)  # the session-10 arms' common part
ARMS = {'paper': PAPER,
        'residual': dict(residual=True),
        'residual+stft': dict(residual=True, stft_weight=1.),
        'residual+stft+adv0.1': dict(residual=True, stft_weight=1., adv_weight=0.1),
        'residual+adv0': dict(residual=True, adv_weight=0.),
        'residual+stft+adv0': dict(residual=True, stft_weight=1., adv_weight=0.),
        'residual+lr2e-4': dict(residual=True, lr=2e-4),
        'residual+stft+wide': dict(residual=True, stft_weight=1., channels=(16, 32, 32, 64, 64, 128, 128)),
        # session 6: losses on the waveform itself (no pre-emphasis), per-window unit-RMS input
        'residual+pre0': dict(residual=True, preemph=0.),
        'residual+pre0+norm': dict(residual=True, preemph=0., normalise=True),
        'residual+pre0+norm+adv0': dict(residual=True, preemph=0., normalise=True, adv_weight=0.),
        'residual+pre0+norm+adv0+noz': dict(residual=True, preemph=0., normalise=True, adv_weight=0., latent=False),
        'residual+pre0+norm+adv0+stft': dict(residual=True, preemph=0., normalise=True, adv_weight=0., stft_weight=1.),
        'residual+pre0+norm+adv0+lr2e-4': dict(residual=True, preemph=0., normalise=True, adv_weight=0., lr=2e-4),
        # session 10: the STFT term on power-law compressed magnitudes (0.3) instead of log magnitudes, weight 1/5/20
        **{f'residual+pre0+norm+adv0+lr2e-4+cstft{"" if w == 1 else w}': dict(_CSTFT, adv_weight=0., stft_weight=float(w))
           for w in (1, 5, 20)},
        'residual+pre0+norm+lr2e-4+cstft20': dict(_CSTFT, stft_weight=20.)}  # with SEGAN's adversarial term


def segan_config(arm=None, steps=600):
    "the cpu size (with `arm`'s changes over the paper's formulation, when given) for `steps` optimiser steps"
    cfg = SEGANConfig.for_preset('cpu')
    if arm is not None: cfg = replace(cfg, **{**PAPER, **ARMS[arm]})
    per_epoch = min(150, steps)
    return replace(cfg, epochs=max(1, steps//per_epoch), max_batches=per_epoch)


def ci95(v):
    "mean and 95 % t-interval half-width over units"
    v = np.asarray(v, float); v = v[np.isfinite(v)]
    if len(v) < 2: return float(np.mean(v)) if len(v) else np.nan, np.nan
    r = t_interval(v)
    return r['mean'], r['hi'] - r['mean']


def pick(meta, per_speaker, seed):
    "`per_speaker` utterances of each speaker, spread over the emotions (round robin), fixed by seed"
    rng, keep = np.random.default_rng(seed), []
    for _, g in meta.groupby('speaker'):
        by = [list(rng.permutation(e.index)) for _, e in g.groupby('emotion')]
        order = [i for r in range(max(map(len, by))) for b in by if r < len(b) for i in [b[r]]]
        keep += order[:per_speaker]
    return meta.loc[sorted(keep)].reset_index(drop=True)


def clean_sets(tr, va):
    "training clean speech (one copy per utterance) and 12 validation utterances"
    clean_tr = [w for w, s in zip(tr.clean, tr.meta.snr) if s == 0]
    return clean_tr, [w for w, s in zip(va.clean, va.meta.snr) if s == 0][::max(1, len(va)//36)][:12]


def variants_only(a, tr, va, out):
    clean_tr, clean_va = clean_sets(tr, va)
    main_cfg = json.loads((out/'config.json').read_text()) if (out/'config.json').exists() else None
    rows = []
    for v in PRIOR_VARIANTS:
        if v == 'silu' and main_cfg and main_cfg['args']['prior_steps'] == a.variant_steps and main_cfg['args']['seed'] == a.seed:
            h = pd.read_csv(out/'prior_history.csv'); sec = main_cfg['seconds']['prior']
            params = n_params(__import__('emogen.diffusion', fromlist=['x']).DiffusionModel(enhance_spec(0., 1.), 0, prior_config('cpu', v)))
            src = 'main prior run'
        else:
            t0 = time.time()
            m, h = fit_prior(clean_tr, clean_va, prior_config('cpu', v, epochs=10), a.seed, None, 'cpu', False,
                             max_batches=a.variant_steps//10)
            sec, params, src = time.time() - t0, n_params(m), 'this run'
        rows.append({'variant': v, 'params': params, 'steps': a.variant_steps, 's_per_step': sec/a.variant_steps,
                     'val_loss_first_epoch': h.val_loss.iloc[0], 'val_loss_last': h.val_loss.iloc[-1],
                     'val_loss_best': h.val_loss.min(), 'trained_in': src})
        print(rows[-1], flush=True)
    pd.DataFrame(rows).to_csv(out/'variants.csv', index=False)
    cmd = 'python bench/enhancement.py ' + ' '.join(sys.argv[1:])
    with open(out/'command.txt', 'a') as f: f.write(f"EMOGEN_REAL_DATA=<folder holding emodb/wav> OMP_NUM_THREADS=1 {cmd}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='results/enhancement'); ap.add_argument('--work', default='/tmp/emogen-enh')
    ap.add_argument('--per-speaker', type=int, default=8); ap.add_argument('--segan-steps', type=int, default=600)
    ap.add_argument('--prior-steps', type=int, default=150); ap.add_argument('--variant-steps', type=int, default=30)
    ap.add_argument('--refine-steps', type=int, default=4); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--strength', type=float, default=1.0, help="the refiner's strength (chosen on validation speakers)")
    ap.add_argument('--gate-db', type=float, default=None,
                    help="refine only bins whose estimated noise is at least this (dB); default every bin")
    ap.add_argument('--wet', type=float, default=None,
                    help="SEGAN's output = input + this fraction of its change (chosen on validation speakers; default 1)")
    ap.add_argument('--no-judge', action='store_true')
    ap.add_argument('--no-dnsmos', action='store_true', help='skip DNSMOS (needs the enhancement extra)')
    ap.add_argument('--refine-method', default='gain', choices=['gain', 'diffiner', 'diffiner+'],
                    help="the refiner's sampler (emogen.enhancement.refine_segments)")
    ap.add_argument('--segan-arm', default=None, choices=list(ARMS),
                    help="a SEGAN variant of bench/searches/enhancement_val.py's (default: the cpu size as the package defines it)")
    ap.add_argument('--variants-only', action='store_true',
                    help="only the prior's variants, on the main prior's schedule (10 epochs of variant-steps/10 batches); "
                         "the silu row is read from the main run's prior_history.csv when variant-steps equals its prior-steps")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out, work = Path(a.out), Path(a.work); out.mkdir(parents=True, exist_ok=True); work.mkdir(parents=True, exist_ok=True)
    root = real_data_dir('emodb/wav')
    if root is None: sys.exit("set EMOGEN_REAL_DATA to the folder holding emodb/wav")
    T, times = time.time(), {}
    meta, _ = read_corpus('emodb', root, 'paper', progress=False)
    trval = meta[~meta.speaker.isin(TEST)].reset_index(drop=True)
    test_meta = pick(meta[meta.speaker.isin(TEST)], a.per_speaker, a.seed)
    pairs = make_pairs(trval, VAL, (0, 5, 10), NOISES, seed=a.seed, progress=False)
    test = make_pairs(test_meta, TEST, (0, 5, 10), NOISES, seed=a.seed + 1, progress=False)
    tr, va = pairs.select(pairs.meta.side == 'train'), pairs.select(pairs.meta.side == 'test')
    times['pairs'] = time.time() - T; print(f"pairs: train {len(tr)}, validation {len(va)}, test {len(test)} ({times['pairs']:.0f} s)", flush=True)

    if a.variants_only: return variants_only(a, tr, va, out)
    # SEGAN, cpu size, a fixed number of optimiser steps
    T = time.time()
    cfg = segan_config(a.segan_arm, a.segan_steps)
    if a.wet is not None: cfg = replace(cfg, wet=a.wet)
    per_epoch = cfg.max_batches
    gan, hist = fit_segan(tr, va, cfg, a.seed, work/'segan.safetensors', 'cpu', progress=False)
    times['segan'] = time.time() - T; hist.to_csv(out/'segan_history.csv', index=False)
    best = hist.val_loss.idxmin()
    print(f"SEGAN: {cfg.epochs*per_epoch} steps, val L1 {hist.val_l1[best]:.4f} at epoch {best} "
          f"(noisy input {hist.val_l1_input[0]:.4f}; {times['segan']:.0f} s)", flush=True)

    # the clean-speech prior: training clean speech (one copy per utterance), 12 validation utterances
    clean_tr, clean_va = clean_sets(tr, va)
    T, rows = time.time(), []
    for v in (PRIOR_VARIANTS if a.variant_steps else []):  # --variant-steps 0: skip the comparison
        t0 = time.time()
        m, h = fit_prior(clean_tr, clean_va, prior_config('cpu', v, epochs=5), a.seed, None, 'cpu', False, max_batches=a.variant_steps//5)
        rows.append({'variant': v, 'params': n_params(m), 'steps': a.variant_steps, 's_per_step': (time.time() - t0 - 0)/a.variant_steps,
                     'val_loss_first_epoch': h.val_loss.iloc[0], 'val_loss_last': h.val_loss.iloc[-1], 'val_loss_best': h.val_loss.min()})
        print(rows[-1], flush=True)
    if rows: pd.DataFrame(rows).to_csv(out/'variants.csv', index=False)
    times['variants'] = time.time() - T
    T = time.time()
    prior, ph = fit_prior(clean_tr, clean_va, prior_config('cpu', 'silu', epochs=10), a.seed, work/'prior.safetensors', 'cpu', False,
                          max_batches=a.prior_steps//10)
    times['prior'] = time.time() - T; ph.to_csv(out/'prior_history.csv', index=False)
    print(f"prior: {a.prior_steps} steps, val loss {ph.val_loss.iloc[0]:.4f} -> {ph.val_loss.min():.4f} ({times['prior']:.0f} s)", flush=True)

    # enhance the test pairs
    T, waves = time.time(), {r: [] for r in ROWS}
    for i, (x, y) in enumerate(zip(test.noisy, test.clean)):
        s = segan_enhance(gan, x, seed=a.seed)
        waves['noisy'].append(x); waves['SEGAN'].append(s)
        waves['refiner on noisy'].append(refine_wave(prior, x, None, a.strength, a.refine_steps, seed=a.seed,
                                                     gate_db=a.gate_db, method=a.refine_method))
        waves['SEGAN + refiner'].append(refine_wave(prior, x, s, a.strength, a.refine_steps, seed=a.seed,
                                                    gate_db=a.gate_db, method=a.refine_method))
        if i % 20 == 0: print(f"enhanced {i+1}/{len(test)} ({time.time() - T:.0f} s)", flush=True)
    times['enhance'] = time.time() - T
    T, per = time.time(), []
    for r in ROWS:
        for i, (y, e) in enumerate(zip(test.clean, waves[r])):
            per.append({'row': r, 'pair': i, 'speaker': test.meta.speaker[i], 'snr': test.meta.snr[i], 'noise': test.meta.noise[i],
                        **enhancement_metrics(y, e)})
    per = pd.DataFrame(per); times['metrics'] = time.time() - T
    if not a.no_dnsmos:  # DNSMOS of every row and of the clean test speech, all at the models' input level LEVEL
        T, dm = time.time(), list(DNSMOS_COLUMNS)
        for r in ROWS: per.loc[per.row == r, dm] = dnsmos_table(waves[r], progress=False)[dm].values
        clean = per[per.row == 'noisy'][['pair', 'speaker', 'snr', 'noise']].assign(row='clean')
        clean[dm] = dnsmos_table(test.clean, progress=False)[dm].values
        per = pd.concat([per, clean], ignore_index=True); times['dnsmos'] = time.time() - T

    judge = None
    if not a.no_judge:
        from emogen.ser import functionals, fit_functionals_model
        from emogen.stats import classification_metrics
        T = time.time(); classes = sorted(meta.emotion.unique()); lab = {c: i for i, c in enumerate(classes)}
        cache = work/'smile'
        f_of = lambda ws: functionals(ws, 16000, 'ComParE_2016', cache_dir=cache, progress=False)
        tr_m, va_m = trval[~trval.speaker.isin(VAL)], trval[trval.speaker.isin(VAL)]
        ftr, fva = f_of([load_mono(p) for p in tr_m.path]), f_of([load_mono(p) for p in va_m.path])
        judge = fit_functionals_model(ftr, tr_m.emotion.map(lab).values, fva, va_m.emotion.map(lab).values, len(classes))
        g = test.meta.gain.values  # back to each recording's own level (loudness is an emotion cue)
        y_true = test.meta.emotion.map(lab).values
        preds = {'clean': judge.predict_functionals(f_of([w/k for w, k in zip(test.clean, g)]))}
        for r in ROWS: preds[r] = judge.predict_functionals(f_of([w/k for w, k in zip(waves[r], g)]))
        ua = []
        for r, p in preds.items():
            for (spk, snr), idx in test.meta.groupby(['speaker', 'snr']).groups.items():
                ua.append({'row': r, 'speaker': spk, 'snr': snr, 'judge_UA': classification_metrics(y_true[idx], p[idx], len(classes))['UA']})
        ua = pd.DataFrame(ua); ua.to_csv(out/'judge_ua_per_speaker.csv', index=False)
        times['judge'] = time.time() - T
    per.to_csv(out/'per_pair.csv', index=False)

    # the table: per SNR and row, mean over test speakers (speaker means first) with 95 % t-intervals
    scored = [c for c in ['pesq', 'stoi', 'estoi', 'si_sdr', *DNSMOS_COLUMNS] if c in per]
    spk_means = per.groupby(['row', 'snr', 'speaker'])[scored].mean().reset_index()
    if judge is not None: spk_means = spk_means.merge(ua, on=['row', 'snr', 'speaker'], how='outer')
    metrics = [c for c in [*scored, 'judge_UA'] if c in spk_means]
    table = []
    for (r, snr), g_ in spk_means.groupby(['row', 'snr']):
        row = {'snr_db': snr, 'row': r, 'n_speakers': g_.speaker.nunique()}
        for c in metrics:
            m, h = ci95(g_[c]); row[c] = f"{m:.3f} ± {h:.3f}" if np.isfinite(m) else ''
        table.append(row)
    order = {r: i for i, r in enumerate(['clean'] + ROWS)}
    table = pd.DataFrame(table).sort_values(['snr_db', 'row'], key=lambda s: s.map(order) if s.name == 'row' else s)
    table.to_csv(out/'table.csv', index=False)
    print(table.to_string(index=False))
    # SEGAN against the noisy input, per SNR (paired over speakers)
    check = []
    for snr in (0, 5, 10):
        for c in [c for c in ('pesq', 'si_sdr', 'dnsmos_ovrl') if c in spk_means]:
            d = (spk_means[(spk_means.row == 'SEGAN') & (spk_means.snr == snr)].set_index('speaker')[c]
                 - spk_means[(spk_means.row == 'noisy') & (spk_means.snr == snr)].set_index('speaker')[c])
            m, h = ci95(d); check.append({'snr_db': snr, 'metric': c, 'SEGAN_minus_noisy': m, 'ci95': h, 'raises': bool(m > 0)})
    check = pd.DataFrame(check); check.to_csv(out/'segan_vs_noisy.csv', index=False); print(check.to_string(index=False))
    cmd = 'python bench/enhancement.py ' + ' '.join(sys.argv[1:])
    keep = []  # without a variant comparison here, variants.csv and its command line stay
    if not a.variant_steps and (out/'command.txt').exists():
        keep = [l for l in (out/'command.txt').read_text().splitlines(True) if '--variants-only' in l]
    (out/'command.txt').write_text(f"EMOGEN_REAL_DATA=<folder holding emodb/wav> OMP_NUM_THREADS=1 {cmd}\n" + ''.join(keep))
    write_json(out/'config.json', {'args': {**vars(a), 'work': '<work folder>'}, 'segan': cfg.to_dict(),
                                   'prior': prior.config.to_dict(),
                                   'spec': prior.spec.to_dict(), 'level': LEVEL, 'test_speakers': TEST, 'val_speakers': VAL,
                                   'noises': NOISES, 'judge_C': None if judge is None else judge.C,
                                   'n_test_pairs': len(test), 'seconds': times, 'emogen_version': emogen.__version__,
                                   'torch_threads': torch.get_num_threads()})
    print('seconds:', {k: round(v) for k, v in times.items()})


if __name__ == '__main__':
    main()
