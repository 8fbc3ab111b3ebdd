"""Compute some folds of an `emogen run` benchmark in another process, into the run's own cache.

The evaluate stage of `emogen run` caches every (arm, fold, seed) result under
`<out>/experiments/<corpus>-<preset>/evaluation/runs/`, keyed by a fingerprint of its configuration. This script runs
the same benchmark (same `RunConfig`, same arms, same code: `emogen.pipeline.benchmark`) for the folds you name, so that a
second core can work on folds 2..k while `emogen run` works on fold 1; `emogen run ... --folds k` afterwards finds every
fold in the cache and only writes the summary and the report. Nothing here changes a result: a run computed by this
script is the same computation `emogen run` would have made.

    python bench/pipeline_folds.py --corpus emodb --data-dir ../shared/data/emodb/wav --preset cpu --out W --folds 1
"""
import argparse
from emogen.pipeline import RunConfig, Run, benchmark

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--corpus', default='emodb'); p.add_argument('--data-dir', default=None)
    p.add_argument('--preset', default='cpu'); p.add_argument('--out', required=True)
    p.add_argument('--folds', type=int, nargs='+', required=True, help='fold indices (0 = the first fold)')
    a = p.parse_args()
    cfg = RunConfig.for_preset(a.preset, a.corpus, data_dir=a.data_dir, max_folds=max(a.folds) + 1)
    bench, _ = benchmark(Run(cfg, a.out), only_folds=a.folds)
    print(bench.runs[['arm', 'fold', 'seed', 'WA', 'UA', 'F1', 'n_generated', 'seconds']].to_string())
