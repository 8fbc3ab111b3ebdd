"""Run one `emogen evaluate` command on a prepared corpus and commit-ready copy its report under results/CORPUS/NAME.

The report files (metrics.csv, metrics.json, the CSV tables) and the run files of the folds computed (`runs/`, with
the test predictions: `emogen.evaluation.load_benchmark` reads them back) are copied as written, and `command.json` records the
exact command line, emogen's version, the wall time and whether the run found its caches (functionals, runs) warm.
The README's and 04_evaluation's EmoDB tables are generated from these folders (`python .ci/readme.py`).

    emogen prepare --corpus emodb --data-dir DATA/emodb/wav --out WORK
    python bench/evaluation.py --name functionals-real -- --corpus emodb --out WORK --classifier functionals \
        --arms real --folds 10 --quiet

Everything after `--` is passed to `emogen evaluate` unchanged.
"""
import argparse, json, shutil, subprocess, sys, time
from pathlib import Path

import emogen
from emogen.core import experiment_dir

ROOT = Path(__file__).resolve().parent.parent
KEEP = ('metrics.csv', 'metrics.json', 'summary.csv', 'table5.csv', 'table12.csv', 'differences_UA.csv',
        'differences_WA.csv', 'differences_F1.csv', 'generator_quality.csv', 'generator_quality_summary.csv')


def _opt(args: list, name: str, default=None):
    return args[args.index(name) + 1] if name in args else default


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--name', required=True, help='folder under results/CORPUS')
    p.add_argument('--machine', default='2-core CPU shared with other jobs, one thread', help='recorded beside the time')
    p.add_argument('evaluate_args', nargs=argparse.REMAINDER, help='-- then the arguments of `emogen evaluate`')
    a = p.parse_args()
    args = [x for x in a.evaluate_args if x != '--']
    corpus, out = _opt(args, '--corpus', 'synthetic'), _opt(args, '--out', '.')
    features, classifier = _opt(args, '--features', 'emogen'), _opt(args, '--classifier', 'functionals')
    run = _opt(args, '--run') or f'evaluate-{corpus}-{features}-{classifier}'
    warm = (Path(out)/'cache'/'functionals').exists()
    t0 = time.time()
    rc = subprocess.call(['emogen', 'evaluate', *args])
    seconds = time.time() - t0
    if rc: sys.exit(rc)
    src, dest = experiment_dir(out, run), ROOT/'results'/corpus/a.name
    dest.mkdir(parents=True, exist_ok=True)
    for f in KEEP:
        if (src/f).exists(): shutil.copyfile(src/f, dest/f)
    only = _opt(args, '--only-folds')  # the run files of the folds this command computed (`load_benchmark` reads them)
    folds = None if only is None else {int(k) for k in only.split(',')}
    for p in sorted((src/'runs').glob('*.json')):
        if folds is None or json.loads(p.read_text())['fold'] in folds:
            (dest/'runs').mkdir(exist_ok=True)
            shutil.copyfile(p, dest/'runs'/p.name)
    shown = ['emogen', 'evaluate'] + ['WORKSPACE' if i and args[i - 1] == '--out' else x for i, x in enumerate(args)]
    (dest/'command.json').write_text(json.dumps({
        'command': ' '.join(shown), 'prepare': f'emogen prepare --corpus {corpus} --data-dir DATA --out WORKSPACE',
        'emogen': emogen.__version__, 'seconds': round(seconds, 1), 'functionals_cache_existed': warm,
        'machine': a.machine},
        indent=2) + '\n')
    print(f'{dest.relative_to(ROOT)}: {len(list(dest.iterdir()))} files, {seconds:.0f} s')
