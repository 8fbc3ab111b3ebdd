"""The README's picture: log-mel spectrograms per emotion, real and generated, from the quick start's workspace.

    emogen synth --out demo && emogen run --preset smoke --out demo   # the README's quick start
    python .ci/figure.py demo                                          # writes nbs/images/quickstart_spectrograms.png

Top row: the first real training item of each emotion of the built-in synthetic corpus; the rows below: the first item the
run's VAE, diffusion model and refinement (VAE samples refined by diffusion) generated for that emotion
(`experiments/synthetic-smoke/generated/*`). The smoke models are tiny and trained for minutes on synthetic speech, so
the picture shows what the pipeline writes, not what the method reaches on real speech.
"""
import sys
from pathlib import Path
import numpy as np
import pandas as pd
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from emogen.dataset import load_features

root = Path(__file__).resolve().parent.parent
SETS = ('vae', 'diffusion', 'refined')


def figure(work: Path, corpus: str = 'synthetic', preset: str = 'smoke'):
    "Rows: real, then each generated set; columns: emotions"
    fx = load_features(work, corpus, preset, mmap=False)
    gen = work/'experiments'/f'{corpus}-{preset}'/'generated'
    rows = [('real', fx.x, fx.meta.label.values)]
    for s in SETS:
        man = pd.read_csv(gen/s/'manifest.csv')
        rows.append((s, np.load(gen/s/'features.npy'), man.label.values))
    k = len(fx.classes)
    fig, axs = plt.subplots(len(rows), k, figsize=(1.7*k, 1.35*len(rows) + 0.6), squeeze=False)
    for r, (name, x, y) in enumerate(rows):
        for c, cls in enumerate(fx.classes):
            ax = axs[r, c]
            ax.imshow(x[np.flatnonzero(y == c)[0]], origin='lower', aspect='auto', cmap='magma')
            ax.set_xticks([]); ax.set_yticks([])
            if r == 0: ax.set_title(cls, fontsize=10)
            if c == 0: ax.set_ylabel(name, fontsize=10)
    fig.suptitle(f'Log-mel spectrograms per emotion: real and generated ({corpus} corpus, {preset} preset; '
                 f'{fx.spec.n_mels} mels x {fx.spec.n_frames} frames)', fontsize=10)
    fig.tight_layout()
    return fig


if __name__ == '__main__':
    if len(sys.argv) != 2: sys.exit(__doc__)
    out = root/'nbs'/'images'/'quickstart_spectrograms.png'
    out.parent.mkdir(exist_ok=True)
    figure(Path(sys.argv[1])).savefig(out, dpi=80, metadata={'Software': None})
    print(f'wrote {out.relative_to(root)}')
