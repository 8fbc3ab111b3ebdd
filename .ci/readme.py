"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does with Quarto, done with nbconvert so that it runs
without Quarto): hidden cells and `#|` directives are dropped, outputs are kept as text.

Before rendering, every block of nbs/index.ipynb between `<!-- results:CORPUS begin -->` and
`<!-- results:CORPUS end -->` is regenerated from the committed benchmark reports in results/CORPUS/*/ (metrics.csv,
differences_UA.csv, command.json), so that no figure of the results section is typed by hand.

    python .ci/readme.py          # regenerate the results blocks in nbs/index.ipynb, then write README.md
    python .ci/readme.py --check  # exit 1 if either is not what the committed files give
"""
import sys, re, json
from pathlib import Path
import nbformat
import pandas as pd
from scipy import stats
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r'(<!-- results:(\w+) begin -->\n)(.*?)(<!-- results:\2 end -->)', re.S)


def _pct(v, nd=1): return '' if pd.isna(v) else f'{100*v:.{nd}f}'


def _report(folder: Path) -> str:
    "One benchmark report as Markdown: its command, a table per classifier, and what is significant after Holm"
    cmd = json.loads((folder/'command.json').read_text())
    m = pd.read_csv(folder/'metrics.csv', dtype={'test_speakers': str})
    d = pd.read_csv(folder/'differences_UA.csv', index_col=0) if (folder/'differences_UA.csv').exists() else None
    main = m[~m.classifier.str.contains('original')]
    clf = main.classifier.iloc[0]
    s = pd.read_csv(folder/'summary.csv', index_col=0)
    cache = 'a functionals cache from earlier runs present' if cmd['functionals_cache_existed'] else 'no cache'
    note = f' ({cmd["seconds_note"]})' if 'seconds_note' in cmd else ''
    code = f' **Note:** {cmd["code_note"]}.' if 'code_note' in cmd else ''
    lines = [f'`{cmd["command"]}` ({cmd["seconds"]:.0f} s{note} on a {cmd["machine"]}; {cache}; emogen {cmd["emogen"]}).{code}',
             '',
             '| arm | folds | seeds | items added per fold | UA % mean over folds | UA % pooled | ΔUA vs real, points [t 95 % CI] '
             '| Wilcoxon p (Holm) | folds better |', '|---|---|---|---|---|---|---|---|---|']
    for arm, g in main.groupby('arm', sort=False):
        per_fold = g.groupby('fold').UA.mean()
        seed_sd = g.groupby('fold').UA.std(ddof=1).mean()
        ua = _pct(per_fold.mean()) + ('' if pd.isna(seed_sd) else f' (seed sd {_pct(seed_sd)})')
        pooled = '' if arm not in s.index else f"{s.loc[arm, 'UA pooled']:.1f}"
        if d is not None and arm in d.index:
            r = d.loc[arm]
            diff = (f"{r['dUA (pts)']:+.1f} [{r['t CI lo']:+.1f}, {r['t CI hi']:+.1f}]" if pd.notna(r['t CI lo']) else
                    f"{r['dUA (pts)']:+.1f} (no interval from {int(r['folds'])} fold)")
            p = f"{r['Wilcoxon p']:.3f} ({r['Holm p']:.3f})" if pd.notna(r['Wilcoxon p']) else '—'
            better = f"{int(r['folds better'])}/{int(r['folds'])}"
        else: diff, p, better = '—', '—', '—'
        lines.append(f'| {arm} | {g.fold.nunique()} | {g.seed.nunique()} | {int(g.n_added.mean())} | {ua} | {pooled} | '
                     f'{diff} | {p} | {better} |')
    orig = m[m.classifier.str.contains('original')]
    if len(orig):
        lines += ['', f'The same {clf} classifier trained and tested on the original audio (no round trip), real only: '
                      f'UA {_pct(orig.UA.mean())} % mean over {orig.fold.nunique()} folds.']
    if d is not None and len(d) and d['Holm p'].isna().all():
        lines += ['', f'No test: {int(d.folds.max())} fold gives no interval and no p-value, so nothing here is significant; '
                      'the differences are single-fold figures.']
    elif d is not None and len(d):
        sig = [a for a in d.index if bool(d.loc[a, 'significant (Holm, 5 %)'])]
        lines += ['', f'Significant after Holm\'s correction across the {len(d)} arms compared (5 %): '
                      + (', '.join(f'{a} ({d.loc[a, "dUA (pts)"]:+.1f} points)' for a in sig) if sig else
                         '**none**: no arm\'s difference to real only can be told apart from zero.')]
    return '\n'.join(lines)


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


def results_block(corpus: str) -> str:
    folders = sorted(p for p in (root/'results'/corpus).glob('*') if (p/'metrics.csv').exists())
    notes = sorted(p for p in (root/'results'/corpus).glob('*') if not (p/'metrics.csv').exists()
                   and (p/'command.json').exists() and 'what' in json.loads((p/'command.json').read_text()))
    return '\n\n'.join([f'**{p.name}** (`results/{corpus}/{p.name}`): ' + _report(p) for p in folders] +
                       [f'**{p.name}** (`results/{corpus}/{p.name}`): ' + _note(p) for p in notes]) + '\n'


def refresh_index() -> tuple[nbformat.NotebookNode, bool]:
    "index.ipynb with its results blocks regenerated, and whether anything changed"
    nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
    changed = False
    for c in nb.cells:
        if c.cell_type != 'markdown': continue
        new = BLOCK.sub(lambda mt: mt.group(1) + results_block(mt.group(2)) + mt.group(4), c.source)
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
    return '<!-- generated from nbs/index.ipynb by `python .ci/readme.py`: edit the notebook, not this file -->\n\n' + body


if __name__ == '__main__':
    nb, changed = refresh_index()
    text = render(nb)
    if '--check' in sys.argv:
        bad = []
        if changed: bad.append('the results blocks of nbs/index.ipynb are not what results/ gives')
        if (root/'README.md').read_text() != text: bad.append('README.md is not what nbs/index.ipynb gives')
        if bad: print('; '.join(bad) + ': run `python .ci/readme.py` and commit'); sys.exit(1)
        print('README.md and the results blocks: up to date')
    else:
        if changed: nbformat.write(nb, root/'nbs'/'index.ipynb'); print('updated the results blocks of nbs/index.ipynb')
        (root/'README.md').write_text(text); print('wrote README.md')
