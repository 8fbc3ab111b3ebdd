"""Feature extraction speed: the naive per-file librosa loop vs `emogen prepare`, on the same files, in one run;
and the peak memory of `prepare` on generated corpora of many short files.

    python bench/preprocess.py [--data-dir EMODB_WAV_FOLDER] [--preset emogen] [--repeat 2]
    python bench/preprocess.py --memory 3000 20000 [--preset smoke]

Memory (`--memory N ...`): for each N, a folder corpus of N distinct short recordings (0.4 to 1.0 s of shaped noise
at 16 kHz, 6 labels, 20 speakers) is written to a temporary folder, and `prepare_corpus` runs on it in a fresh
process; the figure is that process's peak resident memory (`ru_maxrss` from `wait4`). `prepare` holds one chunk of
files at a time and streams the features to the cache, so the peak should not grow with N.

The naive loop is what a user would write: for each file, `librosa.load` at the preset's rate, centre crop or pad,
`librosa.feature.melspectrogram`, `librosa.power_to_db`, one file after another. emogen's path is
`extract_features`, what `prepare_corpus` runs on the files: standardisation, then batched log-mel that computes only
the frames that see signal and only the FFT bins the filterbank uses, two batches at a time. The script checks that
both give the same log-mel (dB) and prints the speed ratio (best of `--repeat` alternating rounds). For context it
also times the whole `prepare_corpus`, which in addition hashes every file and writes the cache (features and
waveforms, atomically, resumably).
"""
import argparse, tempfile, time, shutil, os, subprocess, sys
from pathlib import Path
import numpy as np, librosa, torch
from emogen.preprocessing import feature_spec, denormalise
from emogen.corpora import read_corpus
from emogen.dataset import prepare_corpus, load_features, extract_features


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


def write_corpus(folder, n, seed=0, sr=16000):
    "N distinct short recordings: noise with a random spectral tilt and a random syllable-like envelope"
    import soundfile as sf
    from scipy.signal import lfilter
    rng = np.random.default_rng(seed)
    labels = ['neutral', 'happiness', 'sadness', 'anger', 'fear', 'disgust']
    for lab in labels: (folder/lab).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        k = int(sr*rng.uniform(0.4, 1.0))
        y = lfilter([1], [1, -rng.uniform(0.0, 0.97)], rng.standard_normal(k))
        env = np.abs(np.sin(np.pi*np.arange(k)/sr*rng.uniform(2, 7) + rng.uniform(0, np.pi)))
        y = (y*env/np.abs(y*env).max()*0.8).astype(np.float32)
        sf.write(folder/labels[i % 6]/f'spk{i % 20:02d}_{i:06d}.wav', y, sr, subtype='PCM_16')


def peak_rss_of_prepare(data_dir, out, preset):
    "Peak resident memory (MB) and wall time of `prepare_corpus` on `data_dir`, in a fresh process"
    code = ("from emogen.dataset import prepare_corpus; "
            f"prepare_corpus('folder', {str(data_dir)!r}, {preset!r}, out={str(out)!r}, progress=False, speaker_pattern=r'(spk\\d+)_')")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, '-c', code])
    _, status, usage = os.wait4(proc.pid, 0)
    if status: raise SystemExit(f"prepare failed (status {status})")
    return usage.ru_maxrss/1024, time.perf_counter() - t0


def memory(sizes, preset):
    from emogen.core import read_json, processed_dir
    for n in sizes:
        work = Path(tempfile.mkdtemp(prefix='emogen-mem-'))
        t0 = time.perf_counter()
        write_corpus(work/'corpus', n)
        t_write = time.perf_counter() - t0
        mb, secs = peak_rss_of_prepare(work/'corpus', work/'ws', preset)
        info = read_json(processed_dir(work/'ws', 'folder', preset)/'spec.json')
        print(f"{n} files ({t_write:.0f} s to write): prepare --features {preset} kept {info['n_items']}, rejected "
              f"{info['n_rejected']}, in {secs:.0f} s; peak RSS {mb:.0f} MB")
        shutil.rmtree(work)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data-dir', default=None, help='the EmoDB wav folder (default: $EMOGEN_REAL_DATA/emodb/wav)')
    ap.add_argument('--corpus', default='emodb')
    ap.add_argument('--preset', default=None, help='feature preset (default: emogen; smoke for --memory)')
    ap.add_argument('--repeat', type=int, default=3, help='alternate the two paths this many times; the best time of each counts')
    ap.add_argument('--memory', type=int, nargs='*', help='peak memory of prepare on generated corpora of these sizes')
    a = ap.parse_args()
    if a.memory: return memory(a.memory, a.preset or 'smoke')
    a.preset = a.preset or 'emogen'
    if a.data_dir is None:
        from emogen.core import real_data_dir
        a.data_dir = real_data_dir('emodb/wav')
        if a.data_dir is None: raise SystemExit('give --data-dir, or set EMOGEN_REAL_DATA')
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
