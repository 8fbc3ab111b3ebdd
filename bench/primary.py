"""The pre-registered primary and secondary tests (results/PREREGISTRATION.md) on the committed arm tables.

    python bench/primary.py results/emodb/arms-hifigan results/ravdess/arms-hifigan --out results/primary

Each folder is a benchmark report with its run files (`emogen.evaluation.load_benchmark`; the corpus is the folder
above it). Writes to OUT:
  primary.json     the primary test (per fold, the generative arm with the best validation-speaker UA against real data
                   only, every test speaker of every corpus pooled, folds as clusters): mean, exact cluster sign-flip
                   p, the 95 % interval inverting it, TOST at +-2 points, the smallest effect the test could find
                   (80 % power, at the observed spread of the clusters) and the verdict sentence the README prints
  differences.csv  per test speaker: corpus, fold, the arm chosen there, its validation UA, d (UA points)
  secondary.csv    each secondary arm alone against real, the same test, p adjusted with Holm over all of them
"""
import argparse, json
from pathlib import Path
import emogen
from emogen.core import write_json
from emogen.evaluation import load_benchmark, pooled_primary, cluster_mde, secondary_tests, primary_verdict

CANDIDATES = ['real+vae', 'real+diffusion', 'real+refined', 'real+converted']  # the primary arm is chosen from these
SECONDARY = ['real+augment', 'real+resample', 'real+gaussian', 'real+gaussian-shuffled', 'real+copypaste',
             'real+diffusion-shuffled', *CANDIDATES]
NAMES = {'emodb': 'EmoDB', 'ravdess': 'RAVDESS'}

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('folders', nargs='+', help='benchmark report folders, one per corpus (results/CORPUS/NAME)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--margin', type=float, default=2.0, help='equivalence margin (UA points)')
    a = ap.parse_args()
    benches = {Path(f).parent.name: load_benchmark(f) for f in a.folders}
    have = lambda arm: all(arm in set(b.runs.arm) for b in benches.values())
    missing = [x for x in SECONDARY if not have(x)]  # SECONDARY holds the candidates too
    if any(not have(x) for x in CANDIDATES): raise SystemExit(f"every corpus needs the candidate arms; missing: {missing}")
    r, t = pooled_primary(benches, CANDIDATES, margin=a.margin)
    mde = cluster_mde(t)
    verdict = primary_verdict(r, mde, ' and '.join(NAMES.get(c, c) for c in benches))
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    t.to_csv(out/'differences.csv', index=False)
    sec = secondary_tests(benches, [x for x in SECONDARY if have(x)])
    sec.to_csv(out/'secondary.csv', index=False, float_format='%.6g')
    write_json(out/'primary.json', {**r, 'mde_80': mde, 'candidates': CANDIDATES, 'chosen_arms': t.groupby(['corpus', 'fold']).arm.first().value_counts().to_dict(),
                                    'secondary_missing': missing, 'sources': [str(f) for f in a.folders],
                                    'verdict': verdict, 'emogen': emogen.__version__})
    print(json.dumps({**r, 'mde_80': round(mde, 2)}, indent=1)); print(verdict)
