"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does with Quarto, done with nbconvert so that it runs
without Quarto): hidden cells and `#|` directives are dropped, outputs are kept as text, links to pages
(`07_results.ipynb`) become links to the docs site and `images/...` becomes `nbs/images/...`.

Before rendering, every block of nbs/index.ipynb between `<!-- results:CORPUS begin -->` and
`<!-- results:CORPUS end -->` is regenerated from the committed benchmark reports in results/CORPUS/*/ (metrics.csv,
summary.csv, differences_UA.csv), the block `results:primary` from results/primary/primary.json (`bench/primary.py`),
and every block of a results/**/NOTES.md between `<!-- validation begin -->` and `<!-- validation end -->` from the
validation files of its folder, so that no figure of either is typed by hand.
The README may hold at most MAX_WORDS words (whitespace-separated tokens of README.md).

    python .ci/readme.py          # regenerate the blocks, then write README.md
    python .ci/readme.py --check  # exit 1 if any is not what the committed files give, or README.md is too long
"""
import sys, re, json
from pathlib import Path
import nbformat
import pandas as pd
from scipy import stats
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r'(<!-- results:(\w+) begin -->\n)(.*?)(<!-- results:\2 end -->)', re.S)
NOTE_BLOCK = re.compile(r'(<!-- validation begin -->\n)(.*?)(<!-- validation end -->)', re.S)
MAX_WORDS = 1500
DOCS = 'https://emogen-project.github.io/emogen'
GIT = 'https://github.com/emogen-project/emogen'
CORPUS_NAMES = {'emodb': 'EmoDB', 'ravdess': 'RAVDESS'}
CLASSIFIER_NAMES = {'functionals': 'functionals', 'resnet': 'ResNet'}
PREREGISTERED = 'arms-hifigan'  # a corpus's pre-registered arm table (results/PREREGISTRATION.md): its README headline


def _pct(v, nd=1): return '' if pd.isna(v) else f'{100*v:.{nd}f}'


def _reports(corpus: str) -> list:
    "The benchmark reports committed for a corpus: (folder, classifier, metrics without the original-audio rows, UA differences)"
    out = []
    for p in sorted((root/'results'/corpus).glob('*')):
        if not (p/'metrics.csv').exists(): continue
        m = pd.read_csv(p/'metrics.csv', dtype={'test_speakers': str})
        m = m[~m.classifier.str.contains('original')]
        d = pd.read_csv(p/'differences_UA.csv', index_col=0) if (p/'differences_UA.csv').exists() else None
        out.append((p, m.classifier.iloc[0], m, d))
    return out


def _size(m: pd.DataFrame) -> str:
    folds, seeds = m.fold.nunique(), m.seed.nunique()
    return f'{folds} folds' + (f' x {seeds} seeds' if seeds > 1 else '')


def _ua(g: pd.DataFrame) -> float: return g.groupby('fold').UA.mean().mean()  # seeds averaged within a fold first


def _diff(d, arm: str) -> str:
    if d is None or arm not in d.index: return '—'
    r = d.loc[arm]
    ci = f" [{r['t CI lo']:+.1f}, {r['t CI hi']:+.1f}]" if pd.notna(r['t CI lo']) else ''
    return f"{r['dUA (pts)']:+.1f}{ci}"


def _verdict(clf: str, d) -> str:
    "What the paired differences of one report show after Holm's correction"
    name = CLASSIFIER_NAMES.get(clf, clf)
    if d is None or not len(d): return ''
    n = int(d.folds.max())
    if 2/2**n > 0.05:  # the smallest two-sided p an exact Wilcoxon test can give over n folds
        return f'with the {name}, over {n} folds no test can find a difference (the smallest possible Wilcoxon p is {2/2**n:.2f})'
    sig = [a for a in d.index if bool(d.loc[a, 'significant (Holm, 5 %)'])]
    return (f'with the {name} classifier, ' + (', '.join(f'{a} {d.loc[a, "dUA (pts)"]:+.1f} points' for a in sig) + ' significant' if sig else
                           f'none of the {len(d)} arms differs from real only') + f" (Wilcoxon over {n} folds, Holm's correction over the arms)")


def _generators(corpus: str, folder: Path) -> str:
    "The pre-registered table's generators: their budget (budget/choice.json) and their quality over the folds"
    q = pd.read_csv(folder/'generator_quality.csv')
    choice = json.loads((root/'results'/corpus/'budget'/'choice.json').read_text())['models']
    parts = []
    for model, word in (('diffusion', 'latent U-Net'), ('vae', 'VAE')):
        g = q[q.factory.str.startswith(model)]
        c = choice[model]
        budget = f"{c['chosen_budget']:,} steps" if model == 'diffusion' else f"{c['chosen_epochs']} epochs"
        parts.append(f'{word} {budget}, KID {g.KID_val.mean():.0f} and judge UA {100*g.judge_UA_intended.mean():.0f} %')
    chance = 100/len(json.loads((folder/'metrics.json').read_text())['classes'])
    return (f"Generators trained per fold to the budget chosen on fold 0's validation speakers, mean over the "
            f"{q.fold.nunique()} folds' validation speakers: {'; '.join(parts)} (real-vs-real KID "
            f"{q.KID_val_real_ref.mean():.1f}, chance UA {chance:.1f} %).")


def _domain(folder: Path) -> str:
    "What a report's classifier heard: recorded audio, vocoded round trips, or a features preset's spectrograms"
    cfg = json.loads((folder/'metrics.json').read_text())['config']
    if 'functionals' not in cfg: return f"`{cfg['spec']['preset']}` features"
    f = cfg['functionals']
    if f.get('judge_domain') == 'natural': return 'recorded audio'
    return {'griffin-lim': 'Griffin-Lim', 'hifigan': 'HiFi-GAN'}.get(f['vocoder']['vocoder'], f['vocoder']['vocoder']) + ' round trips'


def results_block(corpus: str) -> str:
    "The headline of a corpus: one table of UA and paired difference to real per arm and classifier, and what it shows"
    name, reps = CORPUS_NAMES.get(corpus, corpus), _reports(corpus)
    if not reps: return f'No benchmark report for {name} is committed yet.\n'
    pre = [r for r in reps if r[0].name == PREREGISTERED]  # once committed, the headline alone
    arms_reps = pre or [r for r in reps if r[2].arm.nunique() > 1]
    arms = list(dict.fromkeys(a for _, _, m, _ in arms_reps for a in m.arm.unique()))
    head = ' | '.join(f'{CLASSIFIER_NAMES.get(c, c)} ({_size(m)}): UA % | Δ vs real, points [95 % CI]' for _, c, m, _ in arms_reps)
    lines = [f'| arm | {head} |', '|---|' + '---|---|'*len(arms_reps)]
    for arm in arms:
        cells = [f'{_pct(_ua(m[m.arm == arm]))} | {_diff(d, arm)}' if arm in set(m.arm) else '— | —' for _, _, m, d in arms_reps]
        lines.append(f'| {arm} | ' + ' | '.join(cells) + ' |')
    real = [f'{CLASSIFIER_NAMES.get(c, c)} {_pct(_ua(m))} % ({_size(m)}, {_domain(p)}'
            + (f', seed sd {_pct(m.groupby("fold").UA.std(ddof=1).mean())} points)' if m.seed.nunique() > 1 else ')')
            for p, c, m, _ in reps if m.arm.nunique() == 1]
    text = '\n'.join(lines)
    if real: text += f'\n\nReal data only, every fold: UA {", ".join(real)}.'
    verdicts = [v for v in (_verdict(c, d) for _, c, _, d in arms_reps) if v]
    if verdicts: text += ' ' + ('; '.join(verdicts) + '.').capitalize()[0] + ('; '.join(verdicts) + '.')[1:]
    if pre: text += ' ' + _generators(corpus, pre[0][0])
    links = ', '.join(f'[`{p.name}`]({GIT}/tree/main/results/{corpus}/{p.name})' for p, _, _, _ in reps)
    return text + f' Reports: {links}.\n'


def primary_block() -> str:
    "The pre-registered primary test over both corpora in one sentence, from results/primary/primary.json"
    f, prereg = root/'results'/'primary'/'primary.json', f'[pre-registered]({GIT}/blob/main/results/PREREGISTRATION.md)'
    if not f.exists():
        return f'The {prereg} test over both corpora runs once their arm tables are committed.\n'
    return f"{json.loads(f.read_text())['verdict']} Test and design: {prereg}; figures: [`results/primary`]({GIT}/tree/main/results/primary).\n"


def _block(name: str) -> str: return primary_block() if name == 'primary' else results_block(name)


def _command(folder: Path) -> str:
    "A benchmark report's command, how long it took and on what, and the notes its command.json keeps"
    cmd = json.loads((folder/'command.json').read_text())
    cache = 'a functionals cache from earlier runs present' if cmd.get('functionals_cache_existed') else 'no cache'
    note = f' ({cmd["seconds_note"]})' if 'seconds_note' in cmd else ''
    code = f'\n\n{cmd["code_note"][0].upper()}{cmd["code_note"][1:]}.' if 'code_note' in cmd else ''
    return f'`{cmd["command"]}` ({cmd["seconds"]:.0f} s{note} on a {cmd["machine"]}; {cache}; emogen {cmd["emogen"]}).{code}'


def _seed_table(v: pd.DataFrame) -> str:
    "Per (recipe and) readout of the same runs: mean validation UA and the seed sd per fold and validation speaker"
    key = [c for c in ('recipe', 'readout') if c in v]
    sd = v.groupby(key + ['fold', 'val_speaker'], sort=False).UA.std(ddof=1).groupby(level=key, sort=False)
    g = v.groupby(key, sort=False)
    t = pd.DataFrame({'ua': g.UA.mean(), 'n': g.size(), 'sd': sd.mean(), 'sd_max': sd.max()})
    head = 'recipe | ' if 'recipe' in v else ''
    return (f'| {head}readout of the same runs | runs x validation speakers | validation UA % (mean) | seed sd, points '
            f'(mean) | seed sd, points (max) |\n|{"---|"*(len(key) + 4)}\n'
            + '\n'.join('| ' + ' | '.join(k if isinstance(k, tuple) else (k,)) +
                         f' | {r.n:.0f} | {r.ua:.1f} | {r.sd:.1f} | {r.sd_max:.1f} |' for k, r in t.iterrows()))


def _note(folder: Path) -> str:
    "A folder without a benchmark report (e.g. a validation-only search): its command and what it measured"
    cmd = json.loads((folder/'command.json').read_text())
    text = f'`{cmd["command"]}` ({cmd["seconds"]:.0f} s on a {cmd["machine"]}): {cmd["what"]}.'
    if (folder/'validation_UA.csv').exists():
        v = pd.read_csv(folder/'validation_UA.csv').groupby('config', sort=False)
        t = v[['val_UA_selected', 'val_UA_last5']].mean()
        text += ('\n\n| recipe | folds | validation UA %, selected checkpoint | validation UA %, mean of last 5 evaluations |'
                 '\n|---|---|---|---|\n' + '\n'.join(f'| {c} | {v.size()[c]} | {r.val_UA_selected:.1f} | {r.val_UA_last5:.1f} |'
                                                  for c, r in t.iterrows()))
    for csv, key, label in (('validation_seeds.csv', 'seed_search', 'Seeds'),
                            ('validation_swa.csv', 'swa_search', 'Weight averaging'),
                            ('validation_ensemble.csv', 'ensemble_search', 'Ensembles at the same step budget')):
        if (folder/csv).exists() and key in cmd:
            c = cmd[key]
            v = pd.read_csv(folder/csv, dtype={'val_speaker': str})
            text += (f'\n\n{label}: `{c["command"]}` ({c["seconds"]:.0f} s on a {c["machine"]}): {c["what"]}. '
                     f'The rule, written before the run: {c["rule"]} Chosen: **{c["chosen"]}**.\n\n'
                     + _seed_table(v.query('fold <= 2')))
            if v.fold.max() > 2:  # a later search added folds: the same recipes on all of them
                text += f'\n\nThe same recipes on folds 0-{v.fold.max()}:\n\n' + _seed_table(v)
    if (folder/'validation_pool.csv').exists() and 'pool_search' in cmd:
        c = cmd['pool_search']
        v = pd.read_csv(folder/'validation_pool.csv', dtype={'val_speaker': str})
        d = pd.read_csv(folder/'validation_pool_disagreement.csv', dtype={'val_speaker': str})
        text += (f'\n\nItem disagreement of the ensembles\' own nets: `{c["command"]}` ({c["seconds"]:.0f} s on a '
                 f'{c["machine"]}): {c["what"]}. The rule, written before the run: {c["rule"]} Chosen: '
                 f'**{c["chosen"]}**.\n\n' + _pool_table(v, d))
    return text


def _pool_table(v: pd.DataFrame, d: pd.DataFrame) -> str:
    "Per ensemble size rebuilt from the pool: UA, seed sd and item disagreement; then 5 nets against 3 per fold"
    sd = v.groupby(['nets', 'fold', 'val_speaker']).UA.std(ddof=1).groupby('nets')
    rows = [f'| {n} | {d[d.nets == n].ensembles.iloc[0]} | {v[v.nets == n].UA.mean():.1f} | {sd.mean()[n]:.1f} | '
            f'{sd.max()[n]:.1f} | {d[d.nets == n].disagreement.mean():.1f} |' for n in sorted(v.nets.unique())]
    per = d.groupby(['nets', 'fold']).disagreement.mean().unstack(0)
    diff = per[5] - per[3]
    h = stats.t.ppf(0.975, len(diff) - 1)*diff.std(ddof=1)/len(diff)**0.5
    return ('| nets per run | disjoint runs per cell | validation UA % (mean) | seed sd, points (mean) | seed sd, points '
            '(max) | items on which two runs disagree, % (mean) |\n|---|---|---|---|---|---|\n' + '\n'.join(rows) +
            f'\n\nDisagreement, 5 nets minus 3, per fold: {diff.mean():+.2f} points, 95 % t-interval over '
            f'{len(diff)} folds [{diff.mean() - h:+.2f}, {diff.mean() + h:+.2f}].')


def refresh_index() -> tuple[nbformat.NotebookNode, bool]:
    "index.ipynb with its results blocks regenerated, and whether anything changed"
    nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
    changed = False
    for c in nb.cells:
        if c.cell_type != 'markdown': continue
        new = BLOCK.sub(lambda mt: mt.group(1) + _block(mt.group(2)) + mt.group(4), c.source)
        if new != c.source: c.source, changed = new, True
    return nb, changed


def render(nb) -> str:
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cells = []
    for c in nb.cells:
        if c.cell_type == 'markdown' and c.source.startswith('---'): continue  # frontmatter
        lines = c.source.splitlines()
        directives = [l for l in lines if l.startswith('#|')]
        if any(re.match(r'#\|\s*(hide|include:\s*false)', d) for d in directives): continue
        if c.cell_type == 'code':
            c.source = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
            if any(re.match(r'#\|\s*hide_input|echo:\s*false', d) for d in directives): c.source = ''
            c.outputs = [o for o in c.outputs if o.get('output_type') in ('stream', 'execute_result', 'display_data')
                         and ('text/plain' in o.get('data', {}) or 'text/markdown' in o.get('data', {}) or o.get('output_type') == 'stream')]
        cells.append(c)
    nb.cells = cells
    nb.metadata['language_info'] = {'name': 'python'}
    body, _ = MarkdownExporter(exclude_raw=True).from_notebook_node(nb)
    body = re.sub(r'\n{3,}', '\n\n', body).strip() + '\n'
    # links to pages go to the docs site (Quarto turns `NAME.ipynb` into `NAME.html` there); images live in nbs/
    body = re.sub(r'\]\(([\w.-]+)\.ipynb(#[\w-]+)?\)', lambda mt: f']({DOCS}/{mt.group(1)}.html{mt.group(2) or ""})', body)
    body = body.replace('](images/', '](nbs/images/')
    return '<!-- generated from nbs/index.ipynb by `python .ci/readme.py`: edit the notebook, not this file -->\n\n' + body


def refresh_notes() -> dict:
    "results/**/NOTES.md files whose validation blocks are not what their folders give: path -> the regenerated text"
    out = {}
    for f in sorted((root/'results').rglob('NOTES.md')):
        old = f.read_text()
        if not NOTE_BLOCK.search(old): continue
        what = 'what' in json.loads((f.parent/'command.json').read_text())
        new = NOTE_BLOCK.sub(lambda mt: mt.group(1) + (_note if what else _command)(f.parent) + '\n' + mt.group(3), old)
        if new != old: out[f] = new
    return out


def words(text: str) -> int: return len(text.split())


if __name__ == '__main__':
    nb, changed = refresh_index()
    notes = refresh_notes()
    text = render(nb)
    n = words(text)
    if '--check' in sys.argv:
        bad = []
        if changed: bad.append('the results blocks of nbs/index.ipynb are not what results/ gives')
        if notes: bad.append('the validation blocks of ' + ', '.join(str(f.relative_to(root)) for f in notes) + ' are not what their folders give')
        if (root/'README.md').read_text() != text: bad.append('README.md is not what nbs/index.ipynb gives')
        if bad: print('; '.join(bad) + ': run `python .ci/readme.py` and commit')
        if n > MAX_WORDS: bad.append(f'README.md has {n} words, more than {MAX_WORDS}: shorten nbs/index.ipynb'); print(bad[-1])
        if bad: sys.exit(1)
        print(f'README.md ({n} words, at most {MAX_WORDS}), its results blocks and the NOTES files: up to date')
    else:
        if changed: nbformat.write(nb, root/'nbs'/'index.ipynb'); print('updated the results blocks of nbs/index.ipynb')
        for f, t in notes.items(): f.write_text(t); print(f'updated the validation blocks of {f.relative_to(root)}')
        (root/'README.md').write_text(text); print(f'wrote README.md ({n} words, at most {MAX_WORDS})')
