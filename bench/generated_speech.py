"""Generated speech heard by a judge trained on natural audio (issue 26, part 5): the `cpu` run preset's fold-0
generators on the `hifigan` features beside the same generators on the `emogen` features.

For each feature preset the script trains (or resumes) exactly the generators `emogen run --corpus emodb --preset cpu
--features PRESET` trains on its showcase fold (test speaker 03, validation speakers 13 and 14; the checkpoints land
where that run looks for them), samples them with the run's settings (latent diffusion: DPM-Solver++ with the
preset's steps and guidance; the VAE sampled directly), sends the items through the preset's default vocoder
(HiFi-GAN for `hifigan`, Griffin-Lim for `emogen`; silence gated) and measures, on the validation speakers only:

  judge_UA_intended  UA (%) of a judge trained on the natural audio of the training speakers (openSMILE ComParE_2016
                     functionals, logistic regression, C chosen on the validation speakers, not refitted on them) on
                     the emotions the items were asked for (chance 16.7 %)
  KID_val            KID of the generated items to the validation speakers' natural audio in the judge's space, at
                     equal n, beside KID_val_real_ref: the real training items through the same vocoder
  dnsmos_*           DNSMOS (P.835 OVRL, SIG, BAK) of --n-quality generated items spread evenly over the set (so over
                     the emotions), of as many natural validation clips, spread the same way, and of their
                     copy-synthesis through the vocoder (means, with the items' OVRL sd and count)

`--kinds autoencoder` measures where latent diffusion loses quality: the validation items sent through the latent
model's autoencoder (encode, decode) and the vocoder, against their copy-synthesis, item for item: the judge's UA on
their true emotions for both, DNSMOS of the same clips and the paired OVRL difference with its t-interval: what the
latent model would give if its U-Net sampled real items' latents exactly.

The rule that decides whether the `cpu` preset moves to the `hifigan` features is in
results/generated-speech/NOTES.md (written before this script ran on real data).

`--diffusion-size cpu` measures another latent diffusion size than the run preset's (the checkpoints are named by it,
so the run preset's own generators are untouched); write it to its own --out.

Usage: EMOGEN_REAL_DATA=DIR OMP_NUM_THREADS=1 python bench/generated_speech.py --work W
       [--presets hifigan,emogen] [--n-quality 40] [--out results/generated-speech/emodb.json] [--diffusion-size cpu]
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np, torch

import emogen
from emogen.core import real_data_dir, write_json, read_json, processed_dir
from emogen.pipeline import RunConfig, Run, _train_generator, stage_prepare
from emogen.generation import sample_batched
from emogen.vae import load_vae
from emogen.diffusion import load_diffusion
from emogen.quality import fit_judge, kid
from emogen.stats import classification_metrics, t_interval
from emogen.ser import functionals, round_trip_audio
from emogen.speech_quality import dnsmos_table
import soxr, soundfile as sf


def generate(run, kind, labels, seed):
    "Items of the run's showcase generator `kind` for `labels`, sampled with the run's settings"
    f, c, g = run.features, run.cfg, torch.Generator().manual_seed(seed)
    if kind == 'vae':
        m = load_vae(run.best('vae'), spec=f.spec)
        return sample_batched(m, labels, g, progress=False).numpy()
    m = load_diffusion(run.best('diffusion'), spec=f.spec)
    return sample_batched(m, labels, g, progress=False, steps=c.steps, guidance=c.guidance).numpy()


def _summary(t) -> dict:
    "A `dnsmos_table`'s means (P.835; resampled to 16 kHz inside), with the items' OVRL sd and count for an interval"
    return {**{c: round(float(t[c].mean()), 3) for c in ('dnsmos_ovrl', 'dnsmos_sig', 'dnsmos_bak')},
            'dnsmos_ovrl_sd': round(float(t.dnsmos_ovrl.std(ddof=1)), 3), 'n_dnsmos': len(t)}


def measure(preset, data, work, n_quality, seed, audio_dir, run_preset='cpu', kinds=('diffusion', 'vae'), size=None):
    smoke = dict(diffusion={'epochs': 1, 'val_repeats': 1}, vae={'epochs': 1}) if run_preset == 'smoke' else {}
    cfg = RunConfig.for_preset(run_preset, 'emodb', data_dir=str(data), features=preset, diffusion_size=size, **smoke)
    run = Run(cfg, work, progress=False)
    T, times = time.time(), {}
    if not (processed_dir(work, 'emodb', preset)/'features.npy').exists(): stage_prepare(run)
    f = run.features
    fold = run.showcase_fold(f.meta)
    times['prepare'] = time.time() - T
    trained = {}
    for kind in [k for k in ('vae', 'diffusion') if k in kinds or k == 'diffusion' and 'autoencoder' in kinds]:
        T = time.time()
        trained[kind] = _train_generator(run, kind)  # resumes from the run's checkpoint; returns at once when finished
        times[f'train_{kind}'] = time.time() - T
        print(f"{preset}: {kind} trained ({times[f'train_{kind}']:.0f} s)", flush=True)
    x, y, A = np.asarray(f.x), f.meta.label.values, f.audio
    tr, va = np.asarray(fold.train), np.asarray(fold.val)
    n, k = len(va), len(f.classes)
    T = time.time()
    judge = fit_judge(x[tr], y[tr], x[va], y[va], f.spec, k, cache_dir=work/'cache'/'functionals', refit=False,
                      vocoder=run.vocoder, domain='natural', audio_train=np.asarray(A[tr]), audio_val=np.asarray(A[va]))
    e_val = judge.model.standardise(functionals(np.asarray(A[va]), f.spec.sr, cache_dir=work/'cache'/'functionals',
                                                progress=False))
    rng = np.random.default_rng(seed)
    ref = np.sort(rng.choice(tr, n, replace=False))
    per = -(-n//k)
    labels = torch.arange(k).repeat_interleave(per)
    keep = np.sort(np.random.default_rng(seed + 1).choice(len(labels), n, replace=False))  # equal n: n of k*per items
    sub = np.linspace(0, n - 1, min(n_quality, n)).round().astype(int)  # DNSMOS items, spread over the label order
    times['judge'] = time.time() - T
    out = {'preset': preset, 'vocoder': run.vocoder.info(), 'judge': judge.info(), 'spec': f.spec.to_dict(),
           'run_config': cfg.to_dict(), 'train_speakers': next(iter(trained.values()))['train_speakers'],
           'val_speakers': [str(s) for s in fold.val_speakers], 'n_val': int(n),
           'generators': {kind: {kk: v for kk, v in t.items() if kk != 'checkpoint'} for kind, t in trained.items()}}
    # every set is vocoded once (cached): its functionals give the judge's labels and KID, a subset of it DNSMOS
    heard = lambda xs: round_trip_audio(xs, f.spec, cache_dir=work/'cache'/'audio', vocoder=run.vocoder, progress=False)
    fun = lambda w: functionals(w, f.spec.sr, cache_dir=work/'cache'/'functionals', progress=False)
    embed = lambda w: judge.model.standardise(fun(w))
    e_ref = embed(heard(x[ref]))  # the real-vs-real reference: real training items through the same vocoder
    kr, kr_se = kid(e_ref, e_val, seed=seed)
    for kind in [k for k in kinds if k != 'autoencoder']:
        T = time.time()
        xg = generate(run, kind, labels, seed)[keep]
        yg = labels.numpy()[keep]
        wall = heard(xg)
        fg = fun(wall)
        kg, kg_se = kid(judge.model.standardise(fg), e_val, seed=seed)
        ua = classification_metrics(yg, judge.model.predict_functionals(fg), k)['UA']
        q = {'n_val': int(n), 'KID_val': kg, 'KID_val_se': kg_se, 'KID_val_real_ref': kr, 'KID_val_real_ref_se': kr_se,
             'judge_UA_intended': 100*ua}
        wg = [wall[i] for i in sub]
        q.update(_summary(dnsmos_table(wg, f.spec.sr, progress=False)))
        if audio_dir is not None:  # one item per emotion, for the players
            for c in range(k):
                hit = np.flatnonzero(yg[sub] == c)
                if len(hit): sf.write(audio_dir/f'{preset}-{kind}-{f.classes[c]}.wav', soxr.resample(wg[hit[0]], f.spec.sr, 16000), 16000)
        times[f'measure_{kind}'] = time.time() - T
        out[kind] = {kk: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v) for kk, v in q.items()}
        print(preset, kind, out[kind], flush=True)
    T = time.time()
    vq = va[sub]  # both speakers, all emotions
    ref_t = {name: dnsmos_table(w, f.spec.sr, progress=False)
             for name, w in (('natural', [A[i] for i in vq]), ('copy_synthesis', heard(x[vq])))}
    out |= {name: _summary(t) for name, t in ref_t.items()}
    times['reference'] = time.time() - T
    if 'autoencoder' in kinds:
        T = time.time()
        out['autoencoder'] = reconstruction(run, x, y, va, sub, k, heard, fun, judge, ref_t['copy_synthesis'], f.spec.sr)
        times['measure_autoencoder'] = time.time() - T
    out['seconds'] = {kk: round(v, 1) for kk, v in times.items()}
    return out


def reconstruction(run, x, y, va, sub, k, heard, fun, judge, copy_t, sr) -> dict:
    """The validation items through the latent diffusion model's autoencoder and the vocoder, against their
    copy-synthesis (`copy_t`: the DNSMOS table of the copy-synthesis of the clips `va[sub]`)"""
    m = load_diffusion(run.best('diffusion'), spec=run.features.spec)
    if m.autoencoder is None: raise SystemExit('the diffusion model has no autoencoder: nothing to measure')
    with torch.no_grad():
        xr = torch.cat([m.decode(m.encode(torch.as_tensor(x[va[i:i + 16]]))) for i in range(0, len(va), 16)]).numpy()
    sets = {'autoencoder': heard(xr), 'copy_synthesis': heard(x[va])}
    ua = {name: 100*classification_metrics(y[va], judge.model.predict_functionals(fun(w)), k)['UA'] for name, w in sets.items()}
    t = dnsmos_table([sets['autoencoder'][i] for i in sub], sr, progress=False)
    diff = t_interval(t.dnsmos_ovrl.values - copy_t.dnsmos_ovrl.values)
    return {'n_val': len(va), 'judge_UA_true': round(ua['autoencoder'], 2), 'copy_synthesis_judge_UA_true': round(ua['copy_synthesis'], 2),
            **_summary(t), 'ovrl_minus_copy_synthesis': {kk: (round(v, 3) if isinstance(v, float) else v) for kk, v in diff.items()}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--work', required=True, help='workspace (the run folders, checkpoints and caches)')
    ap.add_argument('--presets', default='hifigan,emogen')
    ap.add_argument('--n-quality', type=int, default=40, help='items scored by DNSMOS per set')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--audio', default=None, help='write one generated item per emotion and preset here (16 kHz WAV)')
    ap.add_argument('--out', default='results/generated-speech/emodb.json')
    ap.add_argument('--kinds', default='diffusion,vae',
                    help='the generators measured (diffusion: the latent U-Net; autoencoder: its reconstructions of the validation items)')
    ap.add_argument('--run-preset', default='cpu', help="the run preset whose generators are measured ('smoke': plumbing only)")
    ap.add_argument('--diffusion-size', default=None, help="the latent diffusion preset, if not the run preset's (e.g. 'cpu')")
    a = ap.parse_args()
    torch.set_num_threads(1)
    data = real_data_dir('emodb/wav')
    if data is None: sys.exit("set EMOGEN_REAL_DATA to the folder holding emodb/wav")
    out, work = Path(a.out), Path(a.work)
    out.parent.mkdir(parents=True, exist_ok=True)
    audio_dir = Path(a.audio) if a.audio else None
    if audio_dir: audio_dir.mkdir(parents=True, exist_ok=True)
    res = read_json(out) if out.exists() else {}
    for preset in a.presets.split(','):
        res[preset] = {**res.get(preset, {}), **measure(preset, data, work, a.n_quality, a.seed, audio_dir, a.run_preset,
                                                      a.kinds.split(','), a.diffusion_size),
                       'emogen_version': emogen.__version__, 'torch_version': torch.__version__,
                       'command': f"EMOGEN_REAL_DATA=<folder holding emodb/wav> OMP_NUM_THREADS=1 python bench/generated_speech.py "
                                  f"--work <workspace> --presets {preset} --kinds {a.kinds} --n-quality {a.n_quality} --seed {a.seed} --run-preset {a.run_preset}"
                                  + (f" --diffusion-size {a.diffusion_size} --out {a.out}" if a.diffusion_size else '')}
        write_json(out, res)
    print(json.dumps({p: {k: res[p].get(k) for k in ('diffusion', 'vae', 'natural', 'copy_synthesis')} for p in a.presets.split(',')}, indent=1))


if __name__ == '__main__':
    main()
