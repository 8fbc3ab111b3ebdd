"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does with Quarto, done with nbconvert so that it runs
without Quarto): hidden cells and `#|` directives are dropped, outputs are kept as text.

    python .ci/readme.py          # write README.md
    python .ci/readme.py --check  # exit 1 if README.md is not what index.ipynb gives
"""
import sys, re, json
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parent.parent


def render() -> str:
    nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
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
    text = render()
    if '--check' in sys.argv:
        if (root/'README.md').read_text() != text:
            print('README.md is not what nbs/index.ipynb gives: run `python .ci/readme.py` and commit'); sys.exit(1)
        print('README.md: up to date')
    else:
        (root/'README.md').write_text(text); print('wrote README.md')
