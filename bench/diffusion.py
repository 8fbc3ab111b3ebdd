"""Benchmarks of emogen.diffusion, in one run on the machine at hand (CPU by default).

(a) training steps/s of emogen's CondUNet vs diffusers' UNet2DModel of a similar parameter count, same input
    size (128 x 176, the `emogen` preset) and batch, measured interleaved (the CPU may be shared);
(b) time per sample of DDIM-50 vs ancestral DDPM over all T = 1000 steps, with the Frechet distance of each
    sample set to held-out real features (mean/covariance of per-utterance mel profiles), from a small model
    trained on the synthetic corpus (`smoke` preset) on the training speakers only.

(c) optimiser steps/s of latent against pixel diffusion: a whole training step (`DiffusionModel.loss`,
    backward, AdamW) at batch 16 on the shapes of the `emogen` features, interleaved, for the U-Net the `cpu` run
    preset trains (latent `tiny` against the pixel `pixel-tiny` it replaced) and for the `cpu` size (latent `cpu`
    against `pixel-cpu`); printed as `latent_vs_pixel_steps_per_s` (and `..._cpu_size`);
(d) with `--workspace` and `--data-dir` (the workspace and EmoDB folder of `emogen run --corpus emodb --preset cpu`),
    the run's fold-0 latent model (its showcase fold and checkpoint; trained here with the run's config if missing,
    or `--checkpoint`):
    DPM-Solver++(2M) at 15 steps against DDIM-50 on the same starting noises, time per sample
    (`dpmsolver15_vs_ddim50_speed`, DDIM's time over DPM's) and KID to the held-out speaker's real items in the
    judge's space at equal n (`dpmsolver15_kid_ratio`, DPM's KID over DDIM's; the judge: openSMILE functionals and
    logistic regression trained on the training speakers, `emogen.quality.fit_judge`).

Usage: python bench/diffusion.py [--steps 6] [--epochs 30] [--n-per-class 8] [--threads 1] [--out /tmp/emogen-bench]
                                 [--skip-ab] [--latent-steps 20] [--workspace WS --data-dir EMODB --n-gen-per-class 8]
"""
import argparse, time, tempfile, statistics, json
from dataclasses import replace
from pathlib import Path
import numpy as np, torch


from emogen.diffusion import DiffusionConfig, DiffusionModel, fit_diffusion, load_diffusion
from emogen.unet import CondUNet, UNetConfig, n_params
from emogen.dataset import prepare_corpus, load_features, speaker_folds
from emogen.stats import frechet_distance


def profiles(x)->np.ndarray: return np.asarray(torch.as_tensor(x).float().mean(-1))  # mel profile per utterance


def bench_training(steps:int, batch:int=8, shape=(128, 176)):
    from diffusers import UNet2DModel
    torch.manual_seed(0)
    ours = CondUNet(6, UNetConfig.for_preset('cpu'))
    theirs = UNet2DModel(sample_size=shape, in_channels=1, out_channels=1, block_out_channels=(32, 64, 64, 128),
                         layers_per_block=1, norm_num_groups=8, num_class_embeds=7, dropout=0.1,  # as emogen's ResBlocks
                         down_block_types=('DownBlock2D', 'DownBlock2D', 'DownBlock2D', 'AttnDownBlock2D'),
                         up_block_types=('AttnUpBlock2D', 'UpBlock2D', 'UpBlock2D', 'UpBlock2D'))
    x, t, y = torch.randn(batch, 1, *shape), torch.randint(0, 1000, (batch,)), torch.randint(0, 6, (batch,))
    nets = {'emogen CondUNet': (ours, lambda: ours(x, t, y)),
            'diffusers UNet2DModel': (theirs, lambda: theirs(x, t, class_labels=y).sample)}
    opts = {k: torch.optim.AdamW(m.parameters(), 2e-4) for k, (m, _) in nets.items()}
    times = {k: [] for k in nets}
    for i in range(steps + 1):  # interleaved; the first round is a warm-up
        for k, (m, f) in nets.items():
            m.train(); t0 = time.perf_counter()
            loss = (f() - x).square().mean(); opts[k].zero_grad(); loss.backward(); opts[k].step()
            if i: times[k].append(time.perf_counter() - t0)
    res = {k: {'params': n_params(m), 's_per_step': statistics.median(times[k])} for k, (m, _) in nets.items()}
    for k, r in res.items(): r['steps_per_s'] = 1/r['s_per_step']
    return res


def bench_sampling(epochs:int, n_per_class:int, out:Path):
    prepare_corpus('synthetic', preset='smoke', out=out, progress=False)
    f = load_features(out, 'synthetic', 'smoke')
    fold = speaker_folds(f.meta, n_val_speakers=1)[0]
    y = f.meta.label.values
    cfg = replace(DiffusionConfig.for_preset('smoke'), epochs=epochs, patience=None, lr=1e-3)  # T = 1000
    t0 = time.time()
    model, hist = fit_diffusion(f.x[fold.train], y[fold.train], f.x[fold.val], y[fold.val], f.spec, len(f.classes),
                                cfg, classes=f.classes, progress=False)
    train_s = time.time() - t0
    labels = torch.arange(len(f.classes)).repeat_interleave(n_per_class)
    real_test = profiles(f.x[fold.test])  # held-out speaker, never seen in training or validation
    res = {'train_epochs': len(hist), 'train_seconds': train_s, 'final_val_loss': float(hist.val_loss.iloc[-1]),
           'n_samples': len(labels), 'n_real_heldout': len(fold.test),
           'fd_real_train_vs_heldout': frechet_distance(profiles(f.x[fold.train]), real_test)}
    # interleave the two samplers in two halves so that a change in CPU load hits both
    half = len(labels)//2
    xs, secs = {'ddim50': [], 'ddpm1000': []}, {'ddim50': 0., 'ddpm1000': 0.}
    for part, lab in enumerate((labels[:half], labels[half:])):
        for k in xs:
            g = torch.Generator().manual_seed(part)
            t0 = time.perf_counter()
            xs[k].append(model.sample(lab, generator=g, steps=50, guidance=2.0) if k == 'ddim50'
                         else model.sample(lab, generator=g, sampler='ddpm', guidance=2.0))
            secs[k] += time.perf_counter() - t0
    for k in xs:
        x = torch.cat(xs[k])
        res[k] = {'s_per_sample': secs[k]/len(labels), 'fd_to_heldout': frechet_distance(profiles(x), real_test),
                  'finite': bool(torch.isfinite(x).all())}
    return res


def bench_latent_vs_pixel(steps:int, batch:int=16, shape=(128, 176)):
    "Median seconds per optimiser step of latent against pixel diffusion, interleaved, at the run presets' sizes"
    res = {}
    for latent, pixel in (('tiny', 'pixel-tiny'), ('cpu', 'pixel-cpu')):
        torch.manual_seed(0)
        models = {k: DiffusionModel(shape, 6, DiffusionConfig.for_preset(k)).train() for k in (latent, pixel)}
        data = {k: (torch.randn(batch, *m.sample_shape), torch.randint(0, 6, (batch,))) for k, m in models.items()}
        opts = {k: torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], 1e-3) for k, m in models.items()}
        times = {k: [] for k in models}
        for i in range(steps + 1):
            for k, m in models.items():
                n = 1 if k == pixel else 10  # the latent step is short: time 10 in a row for each pixel step
                t0 = time.perf_counter()
                for _ in range(n):
                    loss = m.loss(*data[k])['loss']
                    opts[k].zero_grad(); loss.backward(); opts[k].step()
                if i: times[k].append((time.perf_counter() - t0)/n)
        r = {k: {'params': n_params(m.unet), 'sample_shape': list(m.sample_shape), 's_per_step': statistics.median(times[k]),
                 'steps_per_s': 1/statistics.median(times[k])} for k, m in models.items()}
        r['ratio'] = r[latent]['steps_per_s']/r[pixel]['steps_per_s']
        res[f'{latent}_vs_{pixel}'] = r
    return res


def fold0_latent(workspace:Path, data_dir:str, ckpt:Path|None=None):
    """The `cpu` run's fold-0 latent model (trained with the run's config if missing), its Run, features and fold:
    the model `emogen run --corpus emodb --preset cpu` and 03's EmoDB section use"""
    from emogen.pipeline import RunConfig, Run
    run = Run(RunConfig.for_preset('cpu', 'emodb', data_dir=data_dir), workspace, progress=False)
    fe = load_features(workspace, 'emodb', 'emogen')
    fold = run.showcase_fold(fe.meta)
    x, y = np.asarray(fe.x), fe.meta.label.values
    ckpt = Path(ckpt) if ckpt else run.ckpt('diffusion')
    best = ckpt.with_name(ckpt.stem + '-best' + ckpt.suffix)
    if not best.exists():
        fit_diffusion(x[fold.train], y[fold.train], x[fold.val], y[fold.val], fe.spec, len(fe.classes),
                      DiffusionConfig.for_preset('tiny'), seed=0, ckpt=ckpt, classes=fe.classes)
    return run, fe, fold, load_diffusion(best, spec=fe.spec, device='cpu'), best


def equal_n(n:int):
    "`take(m, seed)`: n of m indices, sorted, drawn with `seed` (all m when m <= n): sets compared at equal n"
    return lambda m, s: np.sort(np.random.default_rng(s).choice(m, n, replace=False)) if m > n else np.arange(m)


def intended_ua(pred, y, C:int)->float:
    "UA of predictions `pred` against the intended labels `y` (classes absent from `y` skipped)"
    return float(np.mean([(pred[y == c] == c).mean() for c in range(C) if (y == c).any()]))


def bench_solvers(workspace:Path, data_dir:str, ckpt:Path|None, n_per_class:int, seed:int=0, guidance:float|None=None):
    "DPM-Solver++ 15 against DDIM-50 on the latent EmoDB model of fold 0: time per sample and KID to the held-out speaker"
    from emogen.quality import fit_judge, kid
    run, fe, fold, model, _ = fold0_latent(workspace, data_dir, ckpt)
    guidance = run.cfg.guidance if guidance is None else guidance  # the run preset's (chosen by bench/searches/guidance.py)
    x, y = np.asarray(fe.x), fe.meta.label.values
    C = len(fe.classes)
    labels = torch.arange(C).repeat_interleave(n_per_class)  # as 03's EmoDB cells: the judge's cache serves both
    xs, secs = {}, {}
    for k, kw in (('dpm15', dict(sampler='dpm', steps=15)), ('ddim50', dict(sampler='ddim', steps=50)),
                  ('dpm15', dict(sampler='dpm', steps=15))):  # DPM twice, before and after DDIM: load drift hits both
        t0 = time.perf_counter()
        xs[k] = model.sample(labels, generator=torch.Generator().manual_seed(seed), guidance=guidance, **kw)
        secs.setdefault(k, []).append((time.perf_counter() - t0)/len(labels))
    judge = fit_judge(x[fold.train], y[fold.train], x[fold.val], y[fold.val], fe.spec, C, cache_dir=workspace/'cache'/'functionals')
    x_test = x[fold.test]
    n = min(len(x_test), len(labels))  # KID at equal n
    take = equal_n(n)
    e_real = judge.embed(x_test[take(len(x_test), 0)])
    res = {'n': n, 'test_speakers': [str(s) for s in fold.test_speakers], 'n_per_class': n_per_class, 'guidance': guidance}
    for k in ('dpm15', 'ddim50'):
        est, se = kid(judge.embed(xs[k].numpy()[take(len(labels), 2)]), e_real)
        res[k] = {'s_per_sample': min(secs[k]), 'KID': est, 'KID_se': se,
                  'judge_UA_intended': intended_ua(judge.predict(xs[k].numpy()), labels.numpy(), C),
                  'finite': bool(torch.isfinite(xs[k]).all())}
    res['KID_real_train_vs_heldout'] = kid(judge.embed(x[fold.train][take(len(fold.train), 1)]), e_real)
    res['dpmsolver15_vs_ddim50_speed'] = res['ddim50']['s_per_sample']/res['dpm15']['s_per_sample']
    res['dpmsolver15_kid_ratio'] = res['dpm15']['KID']/res['ddim50']['KID']
    return res


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=6, help='timed training steps per model')
    p.add_argument('--epochs', type=int, default=30, help='epochs of the small synthetic-corpus model')
    p.add_argument('--n-per-class', type=int, default=8)
    p.add_argument('--threads', type=int, default=1, help='torch threads (1 is fastest on a small shared CPU)')
    p.add_argument('--out', default=None)
    p.add_argument('--skip-ab', action='store_true', help='skip (a) and (b), DDIM and the U-Net against the references')
    p.add_argument('--skip-c', action='store_true', help='skip (c), latent against pixel steps per second')
    p.add_argument('--latent-steps', type=int, default=8, help='timed pixel steps per model in (c)')
    p.add_argument('--workspace', default=None, help='the workspace of `emogen run --corpus emodb --preset cpu`: runs (d)')
    p.add_argument('--data-dir', default=None, help="that run's EmoDB folder (part of its checkpoints' key)")
    p.add_argument('--checkpoint', default=None, help="latent model of fold 0 (default: the run's)")
    p.add_argument('--n-gen-per-class', type=int, default=8, help='samples per emotion and sampler in (d)')
    p.add_argument('--guidance', type=float, default=None, help="guidance in (d) (default: the cpu run preset's)")
    a = p.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    summary = {}
    lp = {} if a.skip_c else bench_latent_vs_pixel(a.latent_steps)
    if lp: print("\n(c) optimiser step, batch 16, latent (4 x 32 x 44) against pixel (128 x 176) diffusion, interleaved")
    for name, r in lp.items():
        for k, v in r.items():
            if k != 'ratio': print(f"  {k:<11} {v['params']/1e6:5.2f} M  {v['s_per_step']*1e3:8.1f} ms/step  {v['steps_per_s']:7.2f} steps/s")
        print(f"  {name}: latent {r['ratio']:.1f}x the steps per second")
    if lp:
        summary['latent_vs_pixel_steps_per_s'] = lp['tiny_vs_pixel-tiny']['ratio']
        summary['latent_vs_pixel_steps_per_s_cpu_size'] = lp['cpu_vs_pixel-cpu']['ratio']
    sv = None
    if a.workspace:
        sv = bench_solvers(Path(a.workspace), a.data_dir, a.checkpoint, a.n_gen_per_class, guidance=a.guidance)
        print(f"\n(d) EmoDB fold 0 (held-out speaker {', '.join(sv['test_speakers'])}), latent tiny model, guidance {sv['guidance']}, n = {sv['n']}")
        for k in ('dpm15', 'ddim50'):
            r = sv[k]
            print(f"  {k:<7} {r['s_per_sample']*1e3:7.1f} ms/sample  KID {r['KID']:.4f} ± {r['KID_se']:.4f}  judge UA {r['judge_UA_intended']:.3f}")
        print(f"  real training vs held-out speakers: KID {sv['KID_real_train_vs_heldout'][0]:.4f} ± {sv['KID_real_train_vs_heldout'][1]:.4f}")
        summary['dpmsolver15_vs_ddim50_speed'] = sv['dpmsolver15_vs_ddim50_speed']
        summary['dpmsolver15_kid_ratio'] = sv['dpmsolver15_kid_ratio']
    if a.skip_ab:
        print(json.dumps({'latent_vs_pixel': lp, 'solvers': sv, **summary}, indent=1, default=float))
        raise SystemExit
    tr = bench_training(a.steps)
    print("\n(a) training step, 128 x 176, batch 8, AdamW (median of", a.steps, "interleaved steps)")
    for k, r in tr.items(): print(f"  {k:<24} {r['params']/1e6:6.2f} M params  {r['s_per_step']:7.3f} s/step  {r['steps_per_s']:6.3f} steps/s")
    ratio = tr['emogen CondUNet']['steps_per_s']/tr['diffusers UNet2DModel']['steps_per_s']
    print(f"  speed ratio emogen/diffusers: {ratio:.2f}x")
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp())
    sm = bench_sampling(a.epochs, a.n_per_class, out)
    print(f"\n(b) sampling, synthetic corpus (smoke, 32 x 64), model trained {sm['train_epochs']} epochs in "
          f"{sm['train_seconds']:.0f} s (final val loss {sm['final_val_loss']:.4f}); {sm['n_samples']} samples, guidance 2")
    for k in ('ddim50', 'ddpm1000'):
        print(f"  {k:<9} {sm[k]['s_per_sample']*1e3:8.1f} ms/sample  FD(mel profiles) to held-out speaker {sm[k]['fd_to_heldout']:.3f}  finite={sm[k]['finite']}")
    print(f"  reference: FD real training speakers vs held-out speaker {sm['fd_real_train_vs_heldout']:.3f}")
    print(f"  DDIM-50 speed-up over DDPM-1000: {sm['ddpm1000']['s_per_sample']/sm['ddim50']['s_per_sample']:.1f}x")
    print(json.dumps({'training': tr, 'sampling': sm, 'latent_vs_pixel': lp, 'solvers': sv, **summary}, indent=1, default=float))
