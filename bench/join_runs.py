"""Join the per-run files of one `emogen evaluate` benchmark computed in parts, on machines whose preparations differ
in the low bits, into one report (the same `write_report` the command uses).

`emogen evaluate` re-uses a cached run only when its fingerprint matches, and the fingerprint holds a digest of the
prepared features. The same `emogen prepare` on another CPU (other vector units, other OpenBLAS kernels) gives features
that differ in the last bits (the EmoDB normalisation mean -39.788922063 on one machine, -39.788922619 on another),
so a part computed on one machine is recomputed on the other. This script joins such parts instead, and refuses
any run whose configuration differs from the finishing part's in anything but the prepared data (`spec` statistics,
`data` digest and the fingerprint made of them): same classifier, ratio, arm, emogen, evaluation and openSMILE
versions, folds and speakers.

    python bench/join_runs.py FINISHED OUT PART_RUNS [PART_RUNS ...]

FINISHED: the report folder of the part finished last (its metrics.json gives the classes, configuration and
reference rows; its `runs/` the runs of its folds); PART_RUNS: `results/.../runs` folders of earlier parts with their
report folder above them (their reference rows and generator fits are taken from there, for their folds only). OUT
receives the report files, a `parts.json` saying which folds came from which part and with which statistics, and a
`command.json` (this command, the parts' commands and their wall times added up).
"""
import json, shutil, sys, time
from pathlib import Path
import pandas as pd
from emogen.evaluation import benchmark_from_runs, write_report, _fingerprint
from evaluation import KEEP  # bench/evaluation.py: the report files a results folder holds
DATA_KEYS = ('spec', 'data', 'fingerprint')  # what a preparation on another CPU changes


def _runs(folder: Path) -> dict:
    "(arm, fold, seed) -> run record, of every run JSON in `folder` whose fingerprint matches its own fields"
    out = {}
    for p in sorted(folder.glob('*.json')):
        r = json.loads(p.read_text())
        if _fingerprint({k: r[k] for k in _run_cfg_keys(r)}) != r['fingerprint']: raise ValueError(f'{p}: its fingerprint does not match its fields')
        out[(r['arm'], r['fold'], r['seed'])] = r
    return out


def _run_cfg_keys(r: dict) -> list:  # the fields the fingerprint was made of: everything written before it
    keys = list(r)
    return keys[:keys.index('fingerprint')]


def join(finished: Path, out: Path, parts: list) -> Path:
    t0 = time.time()
    meta = json.loads((finished/'metrics.json').read_text())
    cfg = meta['config']
    own = _runs(finished/'runs')
    own_folds = sorted({k[1] for k in own})
    done_folds = set(own_folds)
    records, origin = dict(own), {}
    ref = pd.read_csv(finished/'metrics.csv', dtype={'test_speakers': str})
    ref = [ref[ref.classifier.str.contains('original audio')]]
    fits = list(meta.get('generator_fits', []))
    for folder in parts:
        folder = Path(folder)
        runs = {k: r for k, r in _runs(folder).items() if k[1] not in done_folds}
        pm = json.loads((folder.parent/'metrics.json').read_text())
        folds = sorted({k[1] for k in runs})
        origin[str(folder)] = {'folds': folds, 'spec_mean': pm['spec']['mean'], 'spec_std': pm['spec']['std'],
                               'versions': pm.get('versions')}
        pr = pd.read_csv(folder.parent/'metrics.csv', dtype={'test_speakers': str})
        ref.append(pr[pr.classifier.str.contains('original audio') & pr.fold.isin(folds)])
        fits += [f for f in pm.get('generator_fits', []) if f['fold'] in folds]
        records.update(runs)
        done_folds |= set(folds)
    origin[str(finished/'runs')] = {'folds': own_folds, 'spec_mean': meta['spec']['mean'],
                                    'spec_std': meta['spec']['std'], 'versions': meta.get('versions')}
    template = next(iter(own.values()))
    fixed = [k for k in _run_cfg_keys(template) if k not in DATA_KEYS + ('arm', 'arm_desc', 'fold', 'seed',
                                                                        'test_speakers', 'val_speakers')]
    for key, r in records.items():
        bad = [k for k in fixed if r.get(k) != template.get(k)]
        if bad: raise ValueError(f'run {key}: its {bad} differ from the finished part: not the same benchmark')
        if r['arm_desc'] != cfg['arms'][r['arm']]: raise ValueError(f"run {key}: arm {r['arm']} is not this benchmark's")
        f = cfg['folds'][r['fold']]
        if (r['test_speakers'], r['val_speakers']) != (f['test_speakers'], f['val_speakers']):
            raise ValueError(f'run {key}: other speakers than fold {r["fold"]} of the finished part')
    reference = pd.concat(ref, ignore_index=True).sort_values('fold', kind='stable').reset_index(drop=True)
    bench = benchmark_from_runs(records, meta['classes'], {**cfg, 'joined_parts': origin}, fits, reference)
    tmp = out/'_report'
    write_report(bench, tmp, corpus=meta.get('corpus'))
    for f in KEEP: shutil.copyfile(tmp/f, out/f)
    shutil.rmtree(tmp)
    (out/'parts.json').write_text(json.dumps(origin, indent=2) + '\n')
    _command(out, finished, parts, t0)
    return out


def _command(out: Path, finished: Path, parts: list, t0: float):
    "command.json of the joined report: this command, and the parts' commands and wall times added up"
    folders = [Path(f).parent for f in parts] + [finished]
    cmds = {str(f.relative_to(out) if f.is_relative_to(out) else f): json.loads((f/'command.json').read_text())
            for f in folders if (f/'command.json').exists()}
    if not cmds: return
    last = list(cmds.values())[-1]
    (out/'command.json').write_text(json.dumps({
        'command': ' '.join(map(str, ['python', 'bench/join_runs.py', finished, out, *parts])), 'prepare': last['prepare'],
        'emogen': last['emogen'], 'seconds': round(sum(c['seconds'] for c in cmds.values()), 1),
        'functionals_cache_existed': all(c.get('functionals_cache_existed') for c in cmds.values()),
        'seconds_note': f"the wall times of its {len(cmds)} parts added up, each the command of its command.json; a part "
                        f"that resumed an interrupted sitting records its last sitting only, so this is a lower bound; the "
                        f"join, {time.time() - t0:.0f} s",
        'machine': last['machine'], 'parts': {k: f'{k}/command.json' for k in cmds}}, indent=2) + '\n')


if __name__ == '__main__':
    finished, out, *parts = sys.argv[1:]
    print(join(Path(finished), Path(out), parts))
