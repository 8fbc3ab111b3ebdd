"""Feature extraction speed: the naive per-file librosa loop vs `emogen prepare`, on the same files, in one run.

    python bench/preprocess.py [--data-dir ../shared/data/emodb/wav] [--preset emogen] [--repeat 2]

The naive loop is what a user would write: for each file, `librosa.load` at the preset's rate, centre crop or pad,
`librosa.feature.melspectrogram`, `librosa.power_to_db`, one file after another. emogen's path is
`extract_features`, what `prepare_corpus` runs on the files: standardisation, then batched log-mel that computes only
the frames that see signal and only the FFT bins the filterbank uses, two batches at a time. The script checks that
both give the same log-mel (dB) and prints the speed ratio (best of `--repeat` alternating rounds). For context it
also times the whole `prepare_corpus`, which in addition hashes every file and writes the cache (features and
waveforms, atomically, resumably).
"""
import argparse, tempfile, time, shutil, os
from pathlib import Path
import numpy as np, librosa, torch
from emogen.preprocessing import feature_spec, prepare_corpus, load_features, denormalise, read_corpus, extract_features


def naive(paths, spec):
    out = []
    for p in paths:
        y, _ = librosa.load(p, sr=spec.sr)
        n = spec.n_samples
        if len(y) > n: s = (len(y) - n)//2; y = y[s:s + n]
        else: s = (n - len(y))//2; y = np.pad(y, (s, n - len(y) - s))
        y = y/np.abs(y).max()*0.95
        M = librosa.feature.melspectrogram(y=y, sr=spec.sr, n_fft=spec.n_fft, hop_length=spec.hop_length, win_length=spec.win_length,
                                           n_mels=spec.n_mels, fmin=spec.fmin, fmax=spec.fmax, pad_mode='constant')
        out.append(librosa.power_to_db(M, ref=1.0, amin=10**(spec.db_floor/10), top_db=None))
    return np.stack(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = Path(__file__).resolve().parent
    ap.add_argument('--data-dir', default=str(here.parent.parent/'shared'/'data'/'emodb'/'wav'))
    ap.add_argument('--corpus', default='emodb')
    ap.add_argument('--preset', default='emogen')
    ap.add_argument('--repeat', type=int, default=3, help='alternate the two paths this many times; the best time of each counts')
    a = ap.parse_args()
    spec = feature_spec(a.preset)
    meta, _ = read_corpus(a.corpus, a.data_dir, progress=False)
    paths = list(meta.path)
    print(f"{len(paths)} files of {a.corpus} ({a.data_dir}), preset {a.preset} {spec.shape}, torch threads {torch.get_num_threads()}, cores {os.cpu_count()}")
    naive(paths[:2], spec)  # warm-up: librosa's lazy imports and numba compilation
    t_naive, t_emogen, t_prepare = [], [], []
    for r in range(a.repeat):
        t0 = time.perf_counter(); ref = naive(paths, spec); t_naive.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); ours, ok = extract_features(paths, spec); t_emogen.append(time.perf_counter() - t0)
        work = Path(tempfile.mkdtemp())
        t0 = time.perf_counter(); prepare_corpus(a.corpus, a.data_dir, a.preset, out=work, progress=False); t_prepare.append(time.perf_counter() - t0)
        cached = denormalise(load_features(work, a.corpus, a.preset).x, load_features(work, a.corpus, a.preset).spec)
        shutil.rmtree(work)
        print(f"round {r+1}: naive librosa loop {t_naive[-1]:.2f} s, emogen extract_features {t_emogen[-1]:.2f} s, "
              f"emogen prepare_corpus (with hashing and cache writing) {t_prepare[-1]:.2f} s")
    assert ok.all()
    for name, x in [('extract_features', ours), ('the cache', cached)]:
        err = np.abs(x[..., :ref.shape[-1]] - ref)
        print(f"features agree ({name} vs naive): max |dB difference| {err.max():.4f}, mean {err.mean():.2e} (over {err.size:,} values)")
        assert err.max() < 0.05, "the two paths disagree"
    bn, be, bp = min(t_naive), min(t_emogen), min(t_prepare)
    print(f"naive: {bn:.2f} s ({len(paths)/bn:.0f} files/s); emogen: {be:.2f} s ({len(paths)/be:.0f} files/s); "
          f"prepare_corpus: {bp:.2f} s ({len(paths)/bp:.0f} files/s)")
    print(f"speed-up of feature extraction: {bn/be:.1f}x (whole prepare_corpus with its cache: {bn/bp:.1f}x)")


if __name__ == '__main__': main()
