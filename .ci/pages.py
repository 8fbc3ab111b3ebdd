"""Check that every notebook in nbs/ opens with the raw frontmatter cell `---\\nskip_showdoc: true\\n---`.

Without it nbdev's docs processing executes each import-holding cell of a page on its own (the page's earlier cells
never ran), and a page that passes `nbdev_test` fails the docs build. Also checks that every notebook is in
nbs/sidebar.yml (entries for notebooks not written yet are allowed), and that the saved outputs a page shows hold no
error, no Python warning and nothing from an `eval: false` cell (nbconvert runs those cells; nbdev does not).

    python .ci/pages.py   # exit 1, naming each notebook at fault
"""
import sys, re
from pathlib import Path
import nbformat

root = Path(__file__).resolve().parent.parent
FRONTMATTER = '---\nskip_showdoc: true\n---'


def output_faults(cell) -> list[str]:
    "What a code cell's saved outputs must not show"
    outs, why = cell.get('outputs', []), []
    if outs and re.search(r'^#\|\s*eval:\s*false', cell.source, re.M): why.append('an `eval: false` cell has saved outputs')
    for o in outs:
        if o.output_type == 'error': why.append(f"a saved error ({o.get('ename')})")
        elif o.output_type == 'stream' and re.search(r'\w+Warning: |Traceback \(most recent', ''.join(o.get('text', ''))):
            why.append('a saved warning or traceback: fix its cause, or catch it where it is the point')
    return why


def problems(nbs: Path = root/'nbs') -> list[str]:
    "One line per notebook at fault"
    sidebar = set(re.findall(r'^\s*-\s*(\S+\.ipynb)\s*$', (nbs/'sidebar.yml').read_text(), re.M))
    bad = []
    for f in sorted(nbs.glob('*.ipynb')):
        cells = nbformat.read(f, as_version=4).cells
        first = cells[0] if cells else None
        if first is None or first.cell_type != 'raw' or first.source.strip() != FRONTMATTER:
            got = 'no cells' if first is None else f'a {first.cell_type} cell: {first.source.strip()[:40]!r}'
            bad.append(f'{f.name}: the first cell must be the raw frontmatter cell {FRONTMATTER!r}, not {got}')
        if f.name not in sidebar: bad.append(f'{f.name}: not in nbs/sidebar.yml')
        bad += [f'{f.name}, cell {i}: {why}' for i, c in enumerate(cells) if c.cell_type == 'code' for why in output_faults(c)]
    return bad


if __name__ == '__main__':
    bad = problems()
    print('\n'.join(bad) if bad else f"pages: {len(list((root/'nbs').glob('*.ipynb')))} notebooks open with the frontmatter cell "
                                       "and show no error, warning or `eval: false` output")
    sys.exit(1 if bad else 0)
