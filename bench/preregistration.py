"""The numbers of results/PREREGISTRATION.md: the planning sd read from a committed arm table, the minimum detectable
effect of the pre-registered design (and of the alternatives), the coverage and size of its primary test by
simulation, and the power of its equivalence test. Nothing here reads a test fold of the planned runs.

    python bench/preregistration.py                       # writes results/preregistration/design.json, prints it
    python bench/preregistration.py --n-exp 2000          # fewer simulated experiments (quicker, noisier)
    python bench/preregistration.py --render              # results/PREREGISTRATION.md and the short block from the JSON

The design (see PREREGISTRATION.md): EmoDB leave one speaker out (10 test speakers, each its own cluster) and RAVDESS
in 6 blocks of 4 test actors (generators and classifier shared within a block: one cluster per block), 34 test
speakers in 16 clusters. The primary estimate is the mean over the 34 speakers of the per-speaker UA difference
(arm - real); the primary test flips the signs of whole clusters (exact: 2**16 patterns); its statistic is the mean
of the 16 cluster values v_c = (16/34) x (sum of the cluster's speaker differences), which is the estimate itself; its
95 % interval inverts that exact test (`sign_flip_interval`), and equivalence at +-2 points (TOST) is shown when the
90 % interval lies inside +-2. Within a RAVDESS block the speakers' differences may be correlated (shared generators
and classifier): the simulations below use an intra-block correlation rho of 0, 0.3 and 0.6.
"""
import argparse, json, sys
from pathlib import Path
import numpy as np
import pandas as pd
import emogen
from emogen.stats import min_detectable_effect, sign_flip_test

ROOT = Path(__file__).resolve().parent.parent
SD_SOURCE = 'results/emodb/functionals-arms/metrics.csv'
GENERATIVE = ('real+vae', 'real+diffusion', 'real+refined', 'real+converted')  # the candidates for the primary arm
CLUSTERS = [1]*10 + [4]*6  # EmoDB: 10 speakers alone; RAVDESS: 6 blocks of 4 actors
N_SECONDARY = 10  # Holm family: augment, resample, gaussian, gaussian-shuffled, copypaste, diffusion-shuffled, vae, diffusion, refined, converted
TARGET, MARGIN, POWER, ALPHA = 3.5, 2.0, 0.8, 0.05


def planning_sd(path=ROOT/SD_SOURCE) -> dict:
    "Per-fold (= per test speaker on EmoDB) sd of the UA difference of each generative arm to real, and their RMS"
    m = pd.read_csv(path).query("classifier == 'functionals'")
    pf = 100*m.groupby(['arm', 'fold']).UA.mean().unstack('fold')
    sd = {a: float((pf.loc[a] - pf.loc['real']).std(ddof=1)) for a in GENERATIVE}
    return {'per_arm': sd, 'rms': float(np.sqrt(np.mean(np.square(list(sd.values()))))), 'folds': int(pf.shape[1])}


def speaker_differences(rng, n_exp, delta, sd, rho, tails='normal'):
    "(n_exp, 34) per-speaker differences: RAVDESS blocks share a component of variance rho"
    draw = (lambda s: rng.normal(size=s)) if tails == 'normal' else (lambda s: rng.standard_t(5, s)/np.sqrt(5/3))
    sizes = np.array(CLUSTERS)
    block = np.repeat(draw((n_exp, len(sizes))), sizes, axis=1)
    own = draw((n_exp, sizes.sum()))
    w = np.where(np.repeat(sizes, sizes) > 1, rho, 0.0)  # EmoDB speakers are their own clusters: no shared part
    return delta + sd*(np.sqrt(w)*block + np.sqrt(1 - w)*own)


def cluster_values(d):
    "(n_exp, 16) v_c = (n_clusters / n_speakers) x cluster sums: their mean is the mean over speakers"
    edges = np.cumsum([0] + CLUSTERS)
    sums = np.stack([d[:, a:b].sum(1) for a, b in zip(edges[:-1], edges[1:])], 1)
    return sums*len(CLUSTERS)/sum(CLUSTERS)


def t_reject(v, alpha=ALPHA):
    from scipy import stats
    n = v.shape[1]
    t = v.mean(1)/(v.std(1, ddof=1)/np.sqrt(n))
    return np.abs(t) > stats.t.ppf(1 - alpha/2, n - 1)


def simulated_mde(sd, rho, rng, n_exp, alpha=ALPHA):
    "Smallest true difference the cluster t test rejects with 80 % power (bisection on simulated power)"
    lo, hi = 0.0, 4*sd
    z = [speaker_differences(rng, n_exp, 0.0, sd, rho) for _ in range(1)][0]  # common random numbers across deltas
    for _ in range(30):
        mid = (lo + hi)/2
        if t_reject(cluster_values(z + mid), alpha).mean() >= POWER: hi = mid
        else: lo = mid
    return hi


SIGNS = np.array(np.meshgrid(*[(1.0, -1.0)]*len(CLUSTERS), indexing='ij')).reshape(len(CLUSTERS), -1).T  # all 2**16
SIGNS32 = SIGNS.astype(np.float32)


def sign_flip_p(v):
    "Exact sign-flip p of each row of v (n_exp, 16): `emogen.stats.sign_flip_test`, vectorised over experiments"
    obs = np.abs(v.mean(1))
    return ((np.abs(v.astype(np.float32) @ SIGNS32.T)/v.shape[1] >= (obs - 1e-6*np.maximum(1.0, obs))[:, None]).mean(1))


def sign_flip_power(sd, rho, delta, rng, n_exp):
    v = cluster_values(speaker_differences(rng, n_exp, delta, sd, rho))
    p = np.concatenate([sign_flip_p(v[i:i + 200]) for i in range(0, len(v), 200)])
    assert abs(p[0] - sign_flip_test(v[0])["p"]) <= 2/2**16  # the same test as emogen's
    return float(np.mean(p <= ALPHA))


def sign_flip_interval(d, level=0.95, iters=16):
    """Rows of d (n_exp, 34): the mean over speakers and its interval by inverting the exact cluster sign-flip test:
    the true differences delta at which the test of (S_c - m_c x delta), S_c a cluster's sum and m_c its speakers,
    gives p > 1 - level (bisection on each side)"""
    sizes, G, N = np.array(CLUSTERS), len(CLUSTERS), sum(CLUSTERS)
    S, mean = cluster_values(d)*N/G, d.mean(1)
    p = lambda delta: sign_flip_p((S - sizes*delta[:, None])*G/N)
    span = 10*d.std(1) + 1
    ends = []
    for side in (-1, 1):
        inside, outside = mean.copy(), mean + side*span
        for _ in range(iters):
            mid = (inside + outside)/2
            ok = p(mid) > 1 - level
            inside, outside = np.where(ok, mid, inside), np.where(ok, outside, mid)
        ends.append(inside)
    return mean, ends[0], ends[1]


def _batched(fn, d, size=100):
    parts = [fn(d[i:i + size]) for i in range(0, len(d), size)]
    return [np.concatenate([q[j] for q in parts]) for j in range(len(parts[0]))]


def coverage(sd, rho, tails, rng, n_exp, true=3.0):
    "Share of simulated experiments whose 95 % sign-flip interval covers the true difference"
    _, lo, hi = _batched(sign_flip_interval, speaker_differences(rng, n_exp, true, sd, rho, tails))
    return float(np.mean((lo <= true) & (true <= hi)))


def tost_power(sd, rho, rng, n_exp):
    "Chance that equivalence at +-MARGIN is shown (the 90 % sign-flip interval inside it) when the true difference is 0"
    _, lo, hi = _batched(lambda d: sign_flip_interval(d, 0.90), speaker_differences(rng, n_exp, 0.0, sd, rho))
    return float(np.mean((lo > -MARGIN) & (hi < MARGIN)))


def units_needed(sd, target=TARGET, alpha=ALPHA):
    "Independent units (speakers) the paired t test needs for an MDE of `target` at 80 % power"
    n = 3
    while min_detectable_effect(sd, n, alpha) > target: n += 1
    return n


def render(design:dict)->tuple[str, str]:
    "PREREGISTRATION.md (bench/preregistration_template.md filled from design.json) and a short block for results pages"
    c, s, m = design['clustered'], design['planning_sd']['rms'], design['mde_t']
    rows = lambda key, fmt: '; '.join(f"{k.replace('rho=', 'rho ')}: {fmt(v[key])}" for k, v in c.items())
    pct = lambda v: f'{100*v:.1f} %'
    cmd = design['command']
    n_cov = design.get('n_cov') or min(int(cmd.split('--n-exp ')[1].split()[0]) if '--n-exp' in cmd else 10000, 2000)
    filled = (ROOT/'bench'/'preregistration_template.md').read_text().format(
        command=design['command'], n_cov=n_cov, sd=s, mc_se=100*np.sqrt(0.95*0.05/n_cov),
        coverage_lines='; '.join(f"{k.replace('rho=', 'rho ')}: {pct(v['coverage_normal'])} (normal), "
                                 f"{pct(v['coverage_t5'])} (t, 5 df)" for k, v in c.items()),
        size_lines=rows('sign_flip_size', pct),
        sd_arms=', '.join(f'{a} {v:.2f}' for a, v in design['planning_sd']['per_arm'].items()),
        mde34=m['independent_34_speakers'], mde16=m['independent_16_units'], mde10=m['emodb_only_10'],
        mde_lines='; '.join(f"{k.replace('rho=', 'rho ')}: {v['mde_cluster_t']:.1f} points "
                            f"({pct(v['sign_flip_power_at_mde'])})" for k, v in c.items()),
        need=design['units_for_target']['independent_speakers_needed'],
        need_max=design['units_for_target']['at_largest_arm_sd'], sd_max=max(design['planning_sd']['per_arm'].values()),
        eq_lines=rows('equivalence_power_at_0', pct), holm=design['holm_family'],
        mde_holm34=m['holm_first_step_34_speakers'], mde_holm10=m['holm_first_step_emodb_10'])
    lo, hi = min(v['mde_cluster_t'] for v in c.values()), max(v['mde_cluster_t'] for v in c.values())
    block = (f"Pre-registered (results/PREREGISTRATION.md, before the test folds): the generative arm chosen per fold on "
             f"validation speakers against real data only, EmoDB (10 speakers) and RAVDESS (6 blocks of 4 actors) pooled, "
             f"exact sign-flip test over 16 speaker clusters, TOST at +-2 UA points, Holm over {design['holm_family']} "
             f"secondary arms. Minimum detectable effect at 80 % power: {lo:.1f} to {hi:.1f} UA points (planning sd "
             f"{s:.2f}, intra-block correlation 0 to 0.6; `{design['command']}`).\n")
    return filled, block


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n-exp', type=int, default=10000, help='simulated experiments per row')
    p.add_argument('--out', default=str(ROOT/'results'/'preregistration'/'design.json'))
    p.add_argument('--render', action='store_true', help='write PREREGISTRATION.md and block.md from --out; no simulation')
    a = p.parse_args()
    if a.render:
        text, block = render(json.loads(Path(a.out).read_text()))
        (ROOT/'results'/'PREREGISTRATION.md').write_text(text)
        (Path(a.out).parent/'block.md').write_text(block)
        print(block)
        sys.exit(0)
    rng = np.random.default_rng(0)
    sd = planning_sd()
    s = sd['rms']
    n_spk, n_cl = sum(CLUSTERS), len(CLUSTERS)
    out = {'command': 'python bench/preregistration.py' + (f' --n-exp {a.n_exp}' if a.n_exp != 10000 else ''),
           'emogen': emogen.__version__, 'sd_source': SD_SOURCE, 'planning_sd': sd, 'holm_family': N_SECONDARY,
           'n_cov': min(a.n_exp, 2000),
           'design': {'test_speakers': n_spk, 'clusters': n_cl, 'emodb': '10 folds, leave one speaker out',
                      'ravdess': '6 blocks of 4 test actors'},
           'mde_t': {  # min_detectable_effect: paired t, 80 % power, two-sided 5 % unless said
               'independent_34_speakers': min_detectable_effect(s, n_spk),
               'independent_16_units': min_detectable_effect(s, n_cl),
               'emodb_only_10': min_detectable_effect(s, 10),
               'holm_first_step_34_speakers': min_detectable_effect(s, n_spk, ALPHA/N_SECONDARY),
               'holm_first_step_emodb_10': min_detectable_effect(s, 10, ALPHA/N_SECONDARY)},
           'units_for_target': {'target': TARGET, 'independent_speakers_needed': units_needed(s),
                                'at_largest_arm_sd': units_needed(max(sd['per_arm'].values()))},
           'clustered': {}}
    for rho in (0.0, 0.3, 0.6):
        mde = simulated_mde(s, rho, rng, a.n_exp)
        out['clustered'][f'rho={rho}'] = {
            'mde_cluster_t': mde,
            'sign_flip_power_at_mde': sign_flip_power(s, rho, mde, rng, min(a.n_exp, 2000)),
            'sign_flip_size': sign_flip_power(s, rho, 0.0, rng, min(a.n_exp, 2000)),
            'coverage_normal': coverage(s, rho, 'normal', rng, min(a.n_exp, 2000)),
            'coverage_t5': coverage(s, rho, 't5', rng, min(a.n_exp, 2000)),
            'equivalence_power_at_0': tost_power(s, rho, rng, min(a.n_exp, 2000))}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + '\n')
    json.dump(out, sys.stdout, indent=2)
