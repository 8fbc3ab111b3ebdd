"""Validation-only experiments for bench/enhancement.py (issue 13): which SEGAN variant the `cpu` size uses, and what
the refiner's strength and gate do. Everything here is trained on the benchmark's training speakers (12, 14, 15, 16)
and scored on its validation speakers (11, 13); the test speakers (03, 08, 09, 10) are never read.

SEGAN arms (same data, same optimiser steps, same seed): each is the `cpu` size with the arm's changes, trained for
`--steps` steps (epochs of 150 batches, the best epoch by validation reconstruction loss kept), and scored by PESQ,
STOI and SI-SDR on `--per-speaker` utterances of each validation speaker at 0, 5 and 10 dB (means over pairs).
segan_arms.csv keeps the rows of arms run earlier and not re-run, and `--pick arm` chooses among all of them
(the rule of `pick_arm`, unchanged since the first arms were run).

Longer round (session 6, written before its runs): the 600-step arms left only the identity-like
residual+pre0+norm+adv0+stft raising PESQ and SI-SDR at every SNR (by +0.001 PESQ), while the arms without the STFT term
gained 2..6 dB SI-SDR but lost PESQ at 5 dB. Two of those are trained 4x longer (`--steps 2400`, same data, seed and
scoring; rows in segan_arms_2400.csv via `--csv`): residual+pre0+norm (SEGAN with its adversarial term: LSGAN + L1)
and residual+pre0+norm+adv0+lr2e-4 (L1 only, lower learning rate). `--pick long` applies the rule: an arm qualifies
if it raises PESQ by at least 0.01 and SI-SDR by more than 0 dB over the noisy input at each of 0, 5 and 10 dB; among
those, the one with the adversarial term if it qualifies, else the largest mean PESQ gain. If none qualifies the
test speakers are not run and the `cpu` preset stays as it is.
Outcome (after the runs): no arm qualifies; both lower PESQ at 5 dB (L1-only at lr 2e-4: -0.21; with the
adversarial term: -0.59, and PESQ lower at every SNR), so the test speakers were not run.

Third round (session 10, written before its runs). Diagnosis on the validation pairs of the L1-only arm above
(same training, scored per noise kind): PESQ rises for white, pink, babble and hum noise at every SNR and falls only
for brown noise (-0.12 / -0.74 / -1.70 at 0 / 5 / 10 dB), whose noisy PESQ is high (2.5 to 3.9: PESQ hardly hears
energy below 100 Hz). There the generator removes the noise below 100 Hz but leaves an error 10 to 30 dB above the
added noise in every band above 300 Hz: a broadband error that the waveform L1, dominated by loud low frequencies,
barely sees. The log-magnitude STFT term would see it but weighs the near-silent bins of clean speech as much as its
formants (it held the generator at the identity). New arms add the STFT term on power-law compressed magnitudes
(`stft_compress=0.3`) to the L1-only arm (lr 2e-4, 2,400 steps, same data, seed and scoring, rows appended to
segan_arms_2400.csv): `+cstft` (weight 1: at the identity it is about 0.9 against 2.0 for 100 x L1 on training
windows) and `+cstft5` (weight 5), then `residual+pre0+norm+lr2e-4+cstft` (the same with SEGAN's adversarial term)
if a cstft arm qualifies. The rule is `--pick long`'s, unchanged: an arm qualifies if it raises PESQ by at least 0.01
and SI-SDR by more than 0 dB at each of 0, 5 and 10 dB; among those, the one with the adversarial term if it
qualifies, else the largest mean PESQ gain. If one qualifies, bench/enhancement.py is run once on the test speakers
with it (2,400 steps), whatever it gives; if none does, the test speakers are not run.
Outcome so far, and what was added before its runs: neither cstft arm qualifies, but the brown-noise loss shrinks
as the weight grows (PESQ at 5 dB: -0.23 at weight 1, -0.11 at weight 5; per noise, brown at 10 dB: -1.70 for L1
alone, -1.30 at weight 5), so `+cstft20` (weight 20) is trained the same way under the same rule. And a knob needing
no training (`--wet`, Demucs' dry/wet mix, Defossez et al. 2020): the enhancer's output is the noisy input plus a
fraction `wet` of the generator's correction. Scored on the same validation pairs for the cstft arms at wet 1, 0.75
and 0.5, the same rule decides, with the arm and wet fraction as one choice (wet 1 is the arm as trained); among
qualifying choices the largest mean PESQ gain, and ties go to the larger wet fraction.
cstft20 gave PESQ +0.09 / -0.06 / +0.08 at wet 1 (the best of the three at 5 dB), and cstft5 qualifies at wet 0.75
(seen before cstft20 finished), so the adversarial arm is trained at weight 20 (`residual+pre0+norm+lr2e-4+cstft20`:
SEGAN's LSGAN term + L1 + the compressed STFT term; weight 1, the weakest, is not run) and scored at the same wet
fractions; the rule above then decides over the four arms.
Outcome: qualifying at every SNR were cstft5 and cstft20 at wet 0.75 and 0.5, cstft at 0.5, and the adversarial arm
at 0.5 only (PESQ +0.057 / +0.049 / +0.044, SI-SDR +3.1 / +2.9 / +1.7 dB); the rule prefers SEGAN's adversarial
term, so `--pick wet` chooses residual+pre0+norm+lr2e-4+cstft20 at wet 0.5 (now `CPU_SEGAN_VARIANT`), and the test
speakers were run once with it: python bench/enhancement.py --segan-arm residual+pre0+norm+lr2e-4+cstft20
--segan-steps 2400 --wet 0.5 --strength 0.5 --gate-db 0.0 --variant-steps 0

Refiner (--refiner): the prior of a finished `bench/enhancement.py` run (`--prior`) and a SEGAN trained here with
the chosen arm; strengths and gates on the same validation pairs, on the noisy input and after SEGAN.

Usage: python bench/searches/enhancement_val.py [--arms paper,residual,...] [--steps 600] [--per-speaker 8] [--csv FILE]
       python bench/searches/enhancement_val.py --arms A,B --wet 1,0.75,0.5 --work W   (score trained arms at wet fractions)
       python bench/searches/enhancement_val.py --pick arm|long|refiner|wet
       python bench/searches/enhancement_val.py --refiner --prior WORK/prior-best.safetensors --arms residual
Run with OMP_NUM_THREADS=1 (through a one-core slot).
"""
import argparse, json, sys, time
from dataclasses import replace
from pathlib import Path
import numpy as np, pandas as pd, torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/, for its enhancement.py
import emogen
from emogen.core import real_data_dir, write_json
from emogen.corpora import read_corpus
from emogen.diffusion import load_diffusion
from emogen.pairs import make_pairs
from emogen.speech_quality import enhancement_metrics
from emogen.enhancement import SEGANConfig, fit_segan, load_segan, segan_enhance, refine_wave
import fcntl, os
from enhancement import TEST, VAL, NOISES, PAPER, ARMS, pick, segan_config

def scores(pairs, waves):
    rows = [{'snr': s, **enhancement_metrics(y, e)} for s, y, e in zip(pairs.meta.snr, pairs.clean, waves)]
    return pd.DataFrame(rows).groupby('snr')[['pesq', 'stoi', 'si_sdr']].mean()


def arm_gains(csv, by=('arm',))->pd.DataFrame:
    "Per arm (or per `by`) of a results file: the smallest PESQ and SI-SDR changes over the SNRs, the mean PESQ change"
    df = pd.read_csv(csv)
    return df[df.arm != 'noisy'].groupby(list(by)).agg(min_dp=('d_pesq', 'min'), min_ds=('d_si_sdr', 'min'),
                                                        mean_dp=('d_pesq', 'mean'))


def adversarial(arm)->bool: return {**PAPER, **ARMS[arm]}['adv_weight'] > 0  # SEGAN's own term, preferred by the rules


def pick_arm(out):
    """the rule fixed before the runs: among arms that raise PESQ and SI-SDR at every SNR, the largest mean PESQ gain;
    if none does, the largest smallest PESQ gain"""
    g = arm_gains(out/'segan_arms.csv')
    ok = g[(g.min_dp > 0) & (g.min_ds > 0)]
    return ok.mean_dp.idxmax() if len(ok) else g.min_dp.idxmax()


def pick_long(out, min_dpesq=0.01):
    "the longer round's rule (module docstring), fixed before its runs; None when no arm qualifies"
    g = arm_gains(out/'segan_arms_2400.csv')
    ok = g[(g.min_dp >= min_dpesq) & (g.min_ds > 0)]
    if not len(ok): return None
    adv = [a for a in ok.index if adversarial(a)]
    return adv[0] if adv else ok.mean_dp.idxmax()


def pick_wet(out, min_dpesq=0.01):
    "the wet round's rule (module docstring), fixed before its runs: (arm, wet) or None when no choice qualifies"
    g = arm_gains(out/'segan_wet.csv', ('arm', 'wet'))
    ok = g[(g.min_dp >= min_dpesq) & (g.min_ds > 0)].reset_index()
    if not len(ok): return None
    adv = ok[ok.arm.map(adversarial)]  # SEGAN's adversarial term first, as pick_long
    ok = adv if len(adv) else ok
    best = ok[ok.mean_dp == ok.mean_dp.max()].sort_values('wet', ascending=False).iloc[0]
    return best.arm, float(best.wet)


def write_keeping(csv, rows, redone):
    "Write `rows` (the 3 noisy rows first) to `csv`, keeping the rows of arms scored earlier and not in `redone`"
    old = [r for r in pd.read_csv(csv).to_dict('records') if r['arm'] not in redone + ['noisy']] if csv.exists() else []
    pd.DataFrame(rows[:3] + old + rows[3:]).to_csv(csv, index=False)


def log_command(out, a):
    "Append this call to out/command.txt, the local folders replaced by placeholders"
    cmd = ' '.join(sys.argv[1:])
    for k in ('work', 'prior', 'segan'):
        if getattr(a, k): cmd = cmd.replace(getattr(a, k), f'<{k} folder>' if k == 'work' else f'<{k}>')
    with open(out/'command.txt', 'a') as f:
        f.write(f"EMOGEN_REAL_DATA=<folder holding emodb/wav> OMP_NUM_THREADS=1 python bench/searches/enhancement_val.py {cmd}\n")


def pick_refiner(out):
    "the rule fixed before the runs: the strength and gate with the largest mean PESQ gain of SEGAN + refiner"
    df = pd.read_csv(out/'refiner.csv')
    g = df[(df.input == 'SEGAN') & (df.strength > 0)].groupby(['strength', 'gate_db'], dropna=False).d_pesq.mean()
    return g.idxmax()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='results/enhancement-val')
    ap.add_argument('--arms', default='paper,residual')
    ap.add_argument('--steps', type=int, default=600)
    ap.add_argument('--per-speaker', type=int, default=8)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--refiner', action='store_true')
    ap.add_argument('--prior', default=None, help='the prior checkpoint for --refiner')
    ap.add_argument('--segan', default=None, help='the SEGAN checkpoint for --refiner (default: train the last arm)')
    ap.add_argument('--work', default='/tmp/emogen-enhval', help="where each arm's SEGAN checkpoints go")
    ap.add_argument('--refine-steps', type=int, default=4)
    ap.add_argument('--refine-per-speaker', type=int, default=4)
    ap.add_argument('--strengths', default='0.25,0.5,1.0', help="the refiner's strengths tried")
    ap.add_argument('--gates', default='none,0', help="gates tried (dB; 'none': every bin refined)")
    ap.add_argument('--csv', default='segan_arms.csv', help="the arms' results file in --out")
    ap.add_argument('--wet', default=None, help="score the trained --arms (their -best checkpoints in --work) at these "
                    "wet fractions (e.g. 1,0.75,0.5) instead of training; rows in segan_wet.csv")
    ap.add_argument('--pick', choices=['arm', 'refiner', 'long', 'wet'], help="print the choice the fixed rule makes from the results")
    a = ap.parse_args()
    if a.pick == 'arm': return print(pick_arm(Path(a.out)))
    if a.pick == 'long': return print(pick_long(Path(a.out)))
    if a.pick == 'wet': return print(pick_wet(Path(a.out)))
    if a.pick == 'refiner':
        s, g = pick_refiner(Path(a.out))
        return print(f"--strength {s}" + ('' if pd.isna(g) else f" --gate-db {g}"))
    torch.set_num_threads(1)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    root = real_data_dir('emodb/wav')
    if root is None: sys.exit("set EMOGEN_REAL_DATA to the folder holding emodb/wav")
    meta, _ = read_corpus('emodb', root, 'paper', progress=False)
    trval = meta[~meta.speaker.isin(TEST)].reset_index(drop=True)  # the test speakers are dropped here, unread
    pairs = make_pairs(trval, VAL, (0, 5, 10), NOISES, seed=a.seed, progress=False)  # as bench/enhancement.py
    tr, va = pairs.select(pairs.meta.side == 'train'), pairs.select(pairs.meta.side == 'test')
    keep = set(pick(trval[trval.speaker.isin(VAL)], a.per_speaker, a.seed).path)
    vs = va.select(va.meta.path.isin(keep))
    print(f"train {len(tr)} pairs, validation {len(va)} pairs, scored {len(vs)}", flush=True)
    noisy = scores(vs, vs.noisy)
    rows = [{'arm': 'noisy', 'snr': s, **r} for s, r in noisy.iterrows()]
    if a.wet:
        wrows = [{'arm': 'noisy', 'wet': None, 'snr': s, **r} for s, r in noisy.iterrows()]
        for arm in a.arms.split(','):
            gan = load_segan(Path(a.work)/f'segan-{arm}-best.safetensors', 'cpu')
            for w in map(float, a.wet.split(',')):
                s = scores(vs, [segan_enhance(gan, x, seed=a.seed, wet=w) for x in vs.noisy])
                wrows += [{'arm': arm, 'wet': w, 'snr': snr, **r, 'd_pesq': r.pesq - noisy.pesq[snr],
                           'd_si_sdr': r.si_sdr - noisy.si_sdr[snr]} for snr, r in s.iterrows()]
                print(pd.DataFrame(wrows[-3:]).round(4).to_string(index=False), flush=True)
        write_keeping(out/'segan_wet.csv', wrows, a.arms.split(','))
        return log_command(out, a)
    gans, ran = {}, [] if a.segan else a.arms.split(',')
    # rows of arms not re-run here are kept (same data, steps and seed), so the pick rule compares every arm run so far;
    # the file is read at each write (under a lock) so that two runs can share it
    for arm in ([] if a.segan else a.arms.split(',')):
        cfg = segan_config(arm, a.steps)
        t0 = time.time()
        ck = Path(a.work)/f'segan-{arm}.safetensors'
        for f in (ck, ck.with_name(ck.stem + '-best.safetensors')): f.unlink(missing_ok=True)  # a fresh run
        ck.parent.mkdir(parents=True, exist_ok=True)
        gan, hist = fit_segan(tr, va, cfg, a.seed, ck, 'cpu', progress=False)
        sec = time.time() - t0
        gans[arm] = gan
        s = scores(vs, [segan_enhance(gan, x, seed=a.seed) for x in vs.noisy])
        for snr, r in s.iterrows():
            rows.append({'arm': arm, 'snr': snr, **r, 'd_pesq': r.pesq - noisy.pesq[snr],
                         'd_si_sdr': r.si_sdr - noisy.si_sdr[snr], 'val_l1_best': hist.val_l1.min(),
                         'val_l1_input': hist.val_l1_input.iloc[0], 'best_epoch': int(hist.val_loss.idxmin()),
                         'train_seconds': sec, 'config': json.dumps(cfg.to_dict())})
        print(pd.DataFrame(rows[-3:]).drop(columns='config').round(4).to_string(index=False), flush=True)
        lk = os.open(out, os.O_RDONLY)  # a lock on the folder itself: no lock file left behind
        try:
            fcntl.flock(lk, fcntl.LOCK_EX)
            write_keeping(out/a.csv, rows, ran)
        finally: os.close(lk)
    if a.refiner:
        prior = load_diffusion(a.prior, device='cpu')
        gan = load_segan(a.segan, 'cpu') if a.segan else gans[a.arms.split(',')[-1]]
        keep_r = set(pick(trval[trval.speaker.isin(VAL)], a.refine_per_speaker, a.seed).path)
        vr = vs.select(vs.meta.path.isin(keep_r))
        seg = [segan_enhance(gan, x, seed=a.seed) for x in vr.noisy]
        base = {'noisy': scores(vr, vr.noisy), 'SEGAN': scores(vr, seg)}
        rrows = [{'input': k, 'strength': 0., 'gate_db': None, 'snr': s, **r} for k, b in base.items()
                 for s, r in b.iterrows()]
        for strength in map(float, a.strengths.split(',')):
            for gate in [None if g == 'none' else float(g) for g in a.gates.split(',')]:
                for name, e in (('noisy', [None]*len(vr)), ('SEGAN', seg)):
                    w = [refine_wave(prior, x, ei, strength, a.refine_steps, seed=a.seed, gate_db=gate)
                         for x, ei in zip(vr.noisy, e)]
                    for snr, r in scores(vr, w).iterrows():
                        rrows.append({'input': name, 'strength': strength, 'gate_db': gate, 'snr': snr, **r,
                                      'd_pesq': r.pesq - base[name].pesq[snr],
                                      'd_si_sdr': r.si_sdr - base[name].si_sdr[snr]})
                    print(pd.DataFrame(rrows[-3:]).round(4).to_string(index=False), flush=True)
                    pd.DataFrame(rrows).to_csv(out/'refiner.csv', index=False)
    log_command(out, a)
    write_json(out/f"config{'-refiner' if a.refiner else ''}.json",
               {'args': {**vars(a), **{k: f'<{k}>' for k in ('work', 'prior', 'segan') if getattr(a, k)}},
                'val_speakers': VAL, 'test_speakers_unread': TEST, 'n_scored': len(vs),
                'emogen_version': emogen.__version__})


if __name__ == '__main__':
    main()
