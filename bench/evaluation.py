"""The EmoDB speaker-independent augmentation benchmark of nbs/04_evaluation.ipynb.

Runs `emogen evaluate` on EmoDB (preset 'emogen', leave-one-speaker-out) and caches every (arm, fold, seed) run
as JSON under WORK/experiments/RUN/runs, so the notebook's `#| slow` cells (which make the same call) re-read the
runs instead of training again. Example:

    OMP_NUM_THREADS=1 python bench/evaluation.py --work /tmp/emogen_work --seeds 2 --arms real,real+specaugment
    OMP_NUM_THREADS=1 python bench/evaluation.py --work /tmp/emogen_work --folds 5 --seeds 1 \
        --arms real,real+resample,real+gaussian,real+vae --generator smoke --generator_epochs 10 --run emodb-loso-generative

(the two commands that produced the EmoDB numbers in the notebook: all 10 folds, first with 1 seed in 2151 s on a
2-core CPU shared with other jobs, then the second seed added in 383 s on an idle core (the first seed's runs were
re-read from the cache); then 5 folds of the generative arms). The five arms with diffusion come from
`emogen run --preset cpu` and `bench/pipeline_folds.py` (see 04_evaluation).

On a CPU shared with other jobs, OMP_NUM_THREADS=1 is much faster than torch's default of one thread per core.
"""
import argparse, os, time
from pathlib import Path
from emogen.preprocessing import prepare_corpus
from emogen.evaluation import evaluate_cli

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work', default=os.environ.get('EMOGEN_WORK', '/tmp/emogen_work'), help='workspace (outside the repository)')
    p.add_argument('--data', default=str(Path(os.environ.get('EMOGEN_REAL_DATA', '../shared/data'))/'emodb'/'wav'))
    p.add_argument('--folds', type=int, default=None, help='first N leave-one-speaker-out folds (default: all 10)')
    p.add_argument('--seeds', type=int, default=1)
    p.add_argument('--arms', default='real,real+specaugment')
    p.add_argument('--generator', default='cpu', help='VAE / diffusion preset')
    p.add_argument('--generator_epochs', type=int, default=None, help="cap the generators' training epochs")
    p.add_argument('--run', default='emodb-loso')
    p.add_argument('--cache', default=None, help='run cache shared between reports (default WORK/experiments/emodb-loso/runs)')
    a = p.parse_args()
    t0 = time.time()
    prepare_corpus('emodb', a.data, preset='emogen', out=a.work, progress=False)
    evaluate_cli.__wrapped__(corpus='emodb', preset='emogen', out=a.work, folds=a.folds, seeds=a.seeds, arms=a.arms,
                             generator=a.generator, run=a.run, generator_epochs=a.generator_epochs,
                             cache=a.cache or str(Path(a.work)/'experiments'/'emodb-loso'/'runs'))
    print(f'{time.time()-t0:.0f} s')
