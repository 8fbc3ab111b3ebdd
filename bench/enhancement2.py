"""Benchmark of the mask model (emogen.mask), SEGAN and the Diffiner refiner on EmoDB + RAVDESS (issue 29), CPU-sized.

The rules (speakers, the mask variant's and the refiner's choice, the targets) were committed before any run, in
results/enhancement-mask/NOTES.md. Speakers, fixed a priori: EmoDB test 03, 08, 09, 10, validation 11, 13,
training 12, 14, 15, 16; RAVDESS test actors 19-24, validation 17, 18, training 01-16.

Stages (each cached in --work, so a killed run resumes where it stopped):
  1. the two MASK_VARIANTS, --mask-steps optimiser steps each, on mixtures made on the fly from the training
     speakers' clean speech (white, pink, brown, hum, babble; SNR uniform in -5..15 dB; 1 s segments);
  2. the variant chosen on the validation pairs by mean PESQ-wb gain (choices.json, mask_variants.csv);
  3. SEGAN (the cpu preset's architecture and CPU_SEGAN_VARIANT) for --segan-steps steps on made pairs of the
     training speakers (one pair per utterance, SNRs -5, 0, 5, 10, 15 in turn), and the clean-speech prior
     (cpu size, --prior-steps steps) on their clean speech;
  4. the refiner setting (diffiner / diffiner+ x --refine-steps-grid) chosen on validation pairs by mean DNSMOS OVRL
     gain over the mask model's output (refiner_val.csv, choices.json);
  5. the test pairs (--per-speaker utterances of each test speaker, spread over the emotions, at 0, 5 and 10 dB,
     noise kinds in turn): rows noisy / SEGAN / mask / SEGAN + refiner / mask + refiner, PESQ-wb, STOI, ESTOI,
     SI-SDR, DNSMOS SIG/BAK/OVRL/P.808 (and DNSMOS of the clean speech), per SNR and per noise kind, mean over
     test speakers (speaker means first) with a 95 % t-interval; paired differences against the noisy input and
     refiner minus its input.

Usage: EMOGEN_REAL_DATA=DIR OMP_NUM_THREADS=1 python bench/enhancement2.py [--out results/enhancement-mask]
       [--work /tmp/emogen-enh2] [--mask-steps 400] [--segan-steps 300] [--prior-steps 60]
       [--refine-steps-grid 5,10] [--per-speaker 3] [--val-per-speaker 5] [--snrs 0,5,10] [--seed 0]
       [--final-mask-steps 3000] [--shard k/n]
"""
import argparse, json, sys, time
from dataclasses import replace
from pathlib import Path
import numpy as np, pandas as pd, torch

import emogen
from emogen.core import real_data_dir, write_json
from emogen.corpora import read_corpus
from emogen.pairs import make_pairs, load_mono, LEVEL
from emogen.speech_quality import enhancement_metrics, dnsmos_table, DNSMOS_COLUMNS
from emogen.enhancement import SEGANConfig, fit_segan, segan_enhance, prior_config, fit_prior, refine_wave
from emogen.mask import MASK_VARIANTS, MaskConfig, fit_mask, load_mask, mask_enhance
from enhancement import ci95, pick  # bench/enhancement.py beside this script: the same t half-width and item choice

EMODB = dict(test=['03', '08', '09', '10'], val=['11', '13'], train=['12', '14', '15', '16'])
RAVDESS = dict(test=[f'{a:02d}' for a in range(19, 25)], val=['17', '18'], train=[f'{a:02d}' for a in range(1, 17)])
NOISES = ('white', 'pink', 'brown', 'babble', 'hum')
ROWS = ['noisy', 'SEGAN', 'mask', 'SEGAN + refiner', 'mask + refiner']
METRICS = ['pesq', 'stoi', 'estoi', 'si_sdr', *DNSMOS_COLUMNS]


def corpora(root):
    "both corpora's tables, speakers named corpus-NN, with the side of each speaker"
    out = []
    for name, split in (('emodb', EMODB), ('ravdess', RAVDESS)):
        m, _ = read_corpus(name, root/name/('wav' if name == 'emodb' else ''), 'all', progress=False)
        m = m.assign(side=m.speaker.astype(str).map({s: k for k, v in split.items() for s in v}),
                     speaker=name + '-' + m.speaker.astype(str))
        out.append(m[['path', 'speaker', 'emotion', 'side']])
    m = pd.concat(out, ignore_index=True)
    assert m.side.notna().all(), m[m.side.isna()].speaker.unique()
    return m


def score(pairs, waves, rows, dnsmos=True):
    per = []
    for r in rows:
        for i, (y, e) in enumerate(zip(pairs.clean, waves[r])):
            per.append({'row': r, 'pair': i, 'speaker': pairs.meta.speaker[i], 'snr': pairs.meta.snr[i],
                        'noise': pairs.meta.noise[i], **enhancement_metrics(y, e)})
    per = pd.DataFrame(per)
    if dnsmos:
        dm = list(DNSMOS_COLUMNS)  # by name: dnsmos_table's own column order differs
        for r in rows: per.loc[per.row == r, dm] = dnsmos_table(waves[r], progress=False)[dm].values
    return per


def gain(per, row, base, metric):
    "per-speaker mean of row minus base (paired on the pairs)"
    s = per.groupby(['row', 'speaker'])[metric].mean()
    return (s[row] - s[base]).dropna()


def write_examples(test, waves, dest):
    "The first 5 dB test pair of each corpus: clean, noisy and every row, 16 kHz 16-bit WAV, one gain per pair"
    import soundfile as sf
    dest.mkdir(parents=True, exist_ok=True)
    m = test.meta.assign(corpus=test.meta.speaker.str.split('-').str[0])
    for corpus, g in m[m.snr == 5].groupby('corpus'):
        i = g.index[0]
        clips = {'clean': test.clean[i], **{r: waves[r][i] for r in ROWS}}
        k = 0.9/max(np.abs(v).max() for v in clips.values())
        for r, y in clips.items():
            sf.write(dest/f"{corpus}-{r.replace(' + ', '+')}.wav", np.clip(k*np.asarray(y), -1, 1), 16000, subtype='PCM_16')
        write_json(dest/f'{corpus}.json', {'pair': int(i), 'speaker': g.speaker[i], 'noise': g.noise[i], 'snr_db': 5.0})
        print(f"examples: {corpus} pair {i} ({g.speaker[i]}, {g.noise[i]} noise, 5 dB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='results/enhancement-mask'); ap.add_argument('--work', default='/tmp/emogen-enh2')
    ap.add_argument('--mask-steps', type=int, default=400); ap.add_argument('--segan-steps', type=int, default=300)
    ap.add_argument('--prior-steps', type=int, default=60); ap.add_argument('--refine-steps-grid', default='5,10')
    ap.add_argument('--per-speaker', type=int, default=3); ap.add_argument('--val-per-speaker', type=int, default=5)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--snrs', default='0,5,10', help='SNRs of the test pairs (dB)')
    ap.add_argument('--final-mask-steps', type=int, default=0,
                    help='train the chosen variant again for this many steps (its own checkpoint) and test that one')
    ap.add_argument('--shard', default='0/1', help='k/n: enhance only test pairs i with i %% n == k (then exit); '
                    'the run with 0/1 enhances what no shard did and scores everything')
    ap.add_argument('--examples-only', action='store_true',
                    help='after the test stage: write one 5 dB test pair per corpus as WAVs to OUT/examples and stop')
    ap.add_argument('--smoke', action='store_true', help='plumbing check: tiny data and steps (not for results)')
    a = ap.parse_args()
    shard, n_shards = map(int, a.shard.split('/'))
    torch.set_num_threads(1)
    out, work = Path(a.out), Path(a.work); out.mkdir(parents=True, exist_ok=True); work.mkdir(parents=True, exist_ok=True)
    root = real_data_dir()
    if root is None or not (root/'ravdess').is_dir() or not (root/'emodb'/'wav').is_dir(): sys.exit("set EMOGEN_REAL_DATA to the folder holding emodb/wav and ravdess")
    T, times = time.time(), {}
    meta = corpora(root)
    tr_meta = meta[meta.side == 'train'].reset_index(drop=True)
    if a.smoke: tr_meta = tr_meta.groupby('speaker').head(3).reset_index(drop=True)
    va_meta = pick(meta[meta.side == 'val'], a.val_per_speaker, a.seed)
    te_meta = pick(meta[meta.side == 'test'], a.per_speaker, a.seed)
    tr_waves = [load_mono(p) for p in tr_meta.path]
    val = make_pairs(va_meta, sorted(va_meta.speaker.unique()), (0, 5, 10), NOISES, seed=a.seed + 1, progress=False)
    val_clean = [load_mono(p) for p in va_meta.path]
    times['data'] = time.time() - T
    print(f"training utterances {len(tr_waves)} ({tr_meta.speaker.nunique()} speakers), validation pairs {len(val)}, "
          f"test utterances {len(te_meta)} ({te_meta.speaker.nunique()} speakers) ({times['data']:.0f} s)", flush=True)

    # 1-2. the mask variants at equal steps, chosen on validation PESQ gain
    choices = json.loads((out/'choices.json').read_text()) if (out/'choices.json').exists() else {}
    vrows, models = [], {}
    variant_cfg = lambda v: replace(MaskConfig.for_preset('cpu', v), steps=a.mask_steps, epochs=10)  # equal steps each
    for v in ([] if (out/'mask_variants.csv').exists() and 'mask_variant' in choices else MASK_VARIANTS):
        T = time.time()
        cfg = variant_cfg(v)
        m, h = fit_mask(tr_waves, tr_meta.speaker.tolist(), val_clean, va_meta.speaker.tolist(), cfg, a.seed,
                        work/f'mask-{v}.safetensors', 'cpu', False)
        times[f'mask_{v}'] = time.time() - T; h.to_csv(out/f'mask_{v}_history.csv', index=False)
        models[v] = m
        per = score(val, {'noisy': val.noisy, v: [mask_enhance(m, x) for x in val.noisy]}, ['noisy', v], dnsmos=False)
        d = gain(per, v, 'noisy', 'pesq')
        vrows.append({'variant': v, 'params': sum(p.numel() for p in m.parameters()), 'steps': a.mask_steps,
                      'val_pesq_gain': d.mean(), 'val_pesq_gain_ci95': ci95(d)[1],
                      **{f'val_pesq_gain_{s}dB': gain(per[per.snr == s], v, 'noisy', 'pesq').mean() for s in (0, 5, 10)},
                      'val_loss_best': h.val_loss.min(), 'val_loss_input': h.val_loss_input.iloc[0],
                      'seconds': times[f'mask_{v}']})
        print(vrows[-1], flush=True)
    if vrows: pd.DataFrame(vrows).to_csv(out/'mask_variants.csv', index=False)
    vr = pd.read_csv(out/'mask_variants.csv')
    best = vr.sort_values('val_pesq_gain', ascending=False).iloc[0]
    base = vr[vr.variant == 'base'].iloc[0]
    choices['mask_variant'] = 'base' if best.val_pesq_gain - base.val_pesq_gain < 0.01 else best.variant
    write_json(out/'choices.json', choices)
    print('mask variant:', choices['mask_variant'], flush=True)
    mask_cfg = variant_cfg(choices['mask_variant'])
    if not a.final_mask_steps:
        mask = models.get(choices['mask_variant']) or load_mask(work/f"mask-{choices['mask_variant']}-best.safetensors", 'cpu')
    else:  # the chosen variant at its full budget: a fresh run, its own checkpoint, its best epoch tested
        T = time.time()
        mask_cfg = replace(mask_cfg, steps=a.final_mask_steps, epochs=20)
        _, h = fit_mask(tr_waves, tr_meta.speaker.tolist(), val_clean, va_meta.speaker.tolist(), mask_cfg, a.seed,
                        work/f"mask-{choices['mask_variant']}-final.safetensors", 'cpu', False)
        mask = load_mask(work/f"mask-{choices['mask_variant']}-final-best.safetensors", 'cpu')
        times['mask_final'] = time.time() - T; h.to_csv(out/'mask_final_history.csv', index=False)
        print(f"mask at {a.final_mask_steps} steps: val loss {h.val_loss.min():.4f} ({times['mask_final']:.0f} s)", flush=True)

    # 3. SEGAN and the prior on the training speakers
    T = time.time()
    snrs = (-5, 0, 5, 10, 15)
    sub = tr_meta.iloc[np.linspace(0, len(tr_meta) - 1, min(600, len(tr_meta))).astype(int)].reset_index(drop=True)
    parts = [make_pairs(sub.iloc[k::len(snrs)].reset_index(drop=True), [], [s], NOISES, seed=a.seed + 10 + k, progress=False)
             for k, s in enumerate(snrs)]
    from emogen.pairs import Pairs
    segan_tr = Pairs(sum((p.noisy for p in parts), []), sum((p.clean for p in parts), []),
                     pd.concat([p.meta for p in parts], ignore_index=True), 16000)
    per_epoch = min(150, a.segan_steps)
    scfg = replace(SEGANConfig.for_preset('cpu'), epochs=max(1, a.segan_steps//per_epoch), max_batches=per_epoch)
    gan, sh = fit_segan(segan_tr, val, scfg, a.seed, work/'segan.safetensors', 'cpu', progress=False)
    times['segan'] = time.time() - T; sh.to_csv(out/'segan_history.csv', index=False)
    print(f"SEGAN: {times['segan']:.0f} s", flush=True)
    T = time.time()
    prior, ph = fit_prior(tr_waves, val_clean[::max(1, len(val_clean)//12)][:12], prior_config('cpu', 'silu', epochs=10),
                          a.seed, work/'prior.safetensors', 'cpu', False, max_batches=a.prior_steps//10)
    times['prior'] = time.time() - T; ph.to_csv(out/'prior_history.csv', index=False)
    print(f"prior: val loss {ph.val_loss.iloc[0]:.4f} -> {ph.val_loss.min():.4f} ({times['prior']:.0f} s)", flush=True)

    # 4. the refiner setting on validation pairs (2 utterances per validation speaker, all SNRs)
    T = time.time()
    grid = [(meth, int(s)) for s in a.refine_steps_grid.split(',') for meth in ('diffiner', 'diffiner+')]
    if (out/'refiner_val.csv').exists() and 'refiner' in choices: rv = pd.read_csv(out/'refiner_val.csv')
    else:
        first = va_meta.groupby('speaker').head(2).path
        vs = val.select(val.meta.path.isin(first))
        waves = {'noisy': vs.noisy, 'mask': [mask_enhance(mask, x) for x in vs.noisy]}
        for meth, s in grid:
            waves[f'{meth}/{s}'] = [refine_wave(prior, x, e, 1.0, s, seed=a.seed, method=meth)
                                    for x, e in zip(vs.noisy, waves['mask'])]
        per = score(vs, waves, list(waves))
        rv = []
        for meth, s in grid:
            k = f'{meth}/{s}'
            d, dp = gain(per, k, 'mask', 'dnsmos_ovrl'), gain(per, k, 'mask', 'pesq')
            rv.append({'method': meth, 'steps': s, 'val_ovrl_gain': d.mean(), 'val_ovrl_gain_ci95': ci95(d)[1],
                       'val_pesq_change': dp.mean(), 'val_pesq_change_ci95': ci95(dp)[1], 'n_pairs': len(vs)})
        rv = pd.DataFrame(rv); rv.to_csv(out/'refiner_val.csv', index=False)
    top = rv.val_ovrl_gain.max()
    near = rv[rv.val_ovrl_gain >= top - 0.01].sort_values(['steps', 'method'])  # ties: fewer steps, then diffiner
    choices['refiner'] = {'method': near.iloc[0].method, 'steps': int(near.iloc[0].steps), 'strength': 1.0}
    write_json(out/'choices.json', choices)
    times['refiner_val'] = time.time() - T
    print(rv.to_string(index=False), '\nrefiner:', choices['refiner'], flush=True)

    # 5. the test speakers
    T = time.time()
    if a.smoke: te_meta = te_meta.groupby('speaker').head(1).reset_index(drop=True)
    test = make_pairs(te_meta, sorted(te_meta.speaker.unique()), [float(x) for x in a.snrs.split(',')], NOISES, seed=a.seed + 2, progress=False)
    rf = choices['refiner']
    cache = work/'test'; cache.mkdir(exist_ok=True)  # one file per pair: a killed run resumes, shards share it
    for i, x in enumerate(test.noisy):
        f = cache/f'{i:04d}.npz'
        if i % n_shards != shard or f.exists(): continue
        s, mk = segan_enhance(gan, x, seed=a.seed), mask_enhance(mask, x)
        w = {'noisy': x, 'SEGAN': s, 'mask': mk,
             'SEGAN + refiner': refine_wave(prior, x, s, rf['strength'], rf['steps'], seed=a.seed, method=rf['method']),
             'mask + refiner': refine_wave(prior, x, mk, rf['strength'], rf['steps'], seed=a.seed, method=rf['method'])}
        tmp = f.with_suffix('.tmp.npz')
        np.savez(tmp, **w); tmp.rename(f)
        print(f"test {i+1}/{len(test)} ({time.time() - T:.0f} s)", flush=True)
    if n_shards > 1: return print(f'shard {a.shard} done')
    waves = {r: [] for r in ROWS}
    for i in range(len(test)):
        z = np.load(cache/f'{i:04d}.npz')
        for r in ROWS: waves[r].append(z[r])
    if a.examples_only: return write_examples(test, waves, out/'examples')
    times['enhance'] = time.time() - T; T = time.time()
    per = score(test, waves, ROWS)
    clean = per[per.row == 'noisy'][['pair', 'speaker', 'snr', 'noise']].assign(row='clean')
    clean[list(DNSMOS_COLUMNS)] = dnsmos_table(test.clean, progress=False)[list(DNSMOS_COLUMNS)].values
    per = pd.concat([per, clean], ignore_index=True); per['corpus'] = per.speaker.str.split('-').str[0]
    per.to_csv(out/'per_pair.csv', index=False); times['metrics'] = time.time() - T

    table = []
    for noise in ['all', *NOISES]:
        p = per if noise == 'all' else per[per.noise == noise]
        sm = p.groupby(['row', 'snr', 'speaker'])[METRICS].mean().reset_index()
        for (r, snr), g in sm.groupby(['row', 'snr']):
            row = {'noise': noise, 'snr_db': snr, 'row': r, 'n_speakers': g.speaker.nunique()}
            for c in METRICS:
                m, h = ci95(g[c]); row[c] = f"{m:.3f} ± {h:.3f}" if np.isfinite(m) else ''
            table.append(row)
    order = {r: i for i, r in enumerate(['clean'] + ROWS)}
    table = pd.DataFrame(table).sort_values(['noise', 'snr_db', 'row'], key=lambda s: s.map(order) if s.name == 'row' else s,
                                            kind='stable')
    table.to_csv(out/'table.csv', index=False)
    print(table[table.noise == 'all'].to_string(index=False))
    # paired differences over test speakers: each row against the noisy input, each refiner against its input
    diffs = []
    for corpus in ('both', 'emodb', 'ravdess'):
        pc = per if corpus == 'both' else per[per.corpus == corpus]
        for snr in sorted(pc.snr.unique()):
            ps = pc[pc.snr == snr]
            for r, b in [('SEGAN', 'noisy'), ('mask', 'noisy'), ('SEGAN + refiner', 'noisy'), ('mask + refiner', 'noisy'),
                         ('SEGAN + refiner', 'SEGAN'), ('mask + refiner', 'mask')]:
                for c in ('pesq', 'dnsmos_ovrl', 'si_sdr', 'estoi'):
                    d = gain(ps, r, b, c); m, h = ci95(d)
                    diffs.append({'corpus': corpus, 'snr_db': snr, 'row': r, 'minus': b, 'metric': c, 'diff': m, 'ci95': h,
                                  'lo': m - h, 'hi': m + h, 'n_speakers': len(d)})
    diffs = pd.DataFrame(diffs); diffs.to_csv(out/'paired_diffs.csv', index=False)
    print(diffs[(diffs.corpus == 'both')].round(3).to_string(index=False))
    (out/'command.txt').write_text("EMOGEN_REAL_DATA=<folder holding emodb/wav and ravdess> OMP_NUM_THREADS=1 "
                                   f"python bench/enhancement2.py {' '.join(sys.argv[1:])}\n")
    write_json(out/'config.json', {'args': {**vars(a), 'work': '<work folder>'}, 'splits': {'emodb': EMODB, 'ravdess': RAVDESS},
                                   'mask': mask_cfg.to_dict(),
                                   'segan': scfg.to_dict(), 'prior': prior.config.to_dict(), 'spec': prior.spec.to_dict(),
                                   'choices': choices, 'level': LEVEL, 'noises': NOISES, 'n_test_pairs': len(test),
                                   'n_train_utterances': len(tr_waves), 'n_segan_pairs': len(segan_tr),
                                   'seconds': times, 'emogen_version': emogen.__version__,
                                   'torch_version': torch.__version__, 'torch_threads': torch.get_num_threads()})
    print('seconds:', {k: round(v) for k, v in times.items()})


if __name__ == '__main__':
    main()
