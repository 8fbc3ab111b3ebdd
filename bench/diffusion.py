"""Benchmarks of emogen.diffusion (issue 5), in one run on the machine at hand (CPU by default).

(a) training steps/s of emogen's CondUNet vs diffusers' UNet2DModel of a similar parameter count, same input
    size (128 x 176, the `emogen` preset) and batch, measured interleaved (the CPU may be shared);
(b) time per sample of DDIM-50 vs ancestral DDPM over all T = 1000 steps, with the Frechet distance of each
    sample set to held-out real features (mean/covariance of per-utterance mel profiles), from a small model
    trained on the synthetic corpus (`smoke` preset) on the training speakers only.

Usage: python bench/diffusion.py [--steps 6] [--epochs 30] [--n-per-class 8] [--threads 1] [--out /tmp/emogen-bench]
"""
import argparse, time, tempfile, statistics, json
from dataclasses import replace
from pathlib import Path
import numpy as np, torch
from scipy import linalg

from emogen.diffusion import CondUNet, UNetConfig, DiffusionConfig, fit_diffusion, n_params
from emogen.preprocessing import prepare_corpus, load_features, speaker_folds


def frechet(a:np.ndarray, b:np.ndarray)->float:
    "Frechet distance between Gaussians fitted to the rows of a and b"
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    return float(((mu1 - mu2)**2).sum() + np.trace(s1 + s2 - 2*covmean.real))


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
           'fd_real_train_vs_heldout': frechet(profiles(f.x[fold.train]), real_test)}
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
        res[k] = {'s_per_sample': secs[k]/len(labels), 'fd_to_heldout': frechet(profiles(x), real_test),
                  'finite': bool(torch.isfinite(x).all())}
    return res


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=6, help='timed training steps per model')
    p.add_argument('--epochs', type=int, default=30, help='epochs of the small synthetic-corpus model')
    p.add_argument('--n-per-class', type=int, default=8)
    p.add_argument('--threads', type=int, default=1, help='torch threads (1 is fastest on a small shared CPU)')
    p.add_argument('--out', default=None)
    a = p.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
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
    print(json.dumps({'training': tr, 'sampling': sm}, indent=1, default=float))
