"""The pre-registered budget rule (results/PREREGISTRATION.md, "Budget rule") on a corpus's committed budget folders.

    python bench/budget_rule.py results/emodb/budget

FOLDER holds one subfolder per U-Net budget (2500, 5000, 10000), each with the `generator_quality.csv` of
`emogen evaluate --quality-only` on fold 0's validation speakers. For each model (the latent U-Net, the VAE) the budget
is the smallest whose validation KID is within 10 % of the largest budget's and whose judge UA on the intended emotions
is within 3 points of it (both read as written: either side counts as a difference); else the largest. Writes
FOLDER/choice.json (every budget's figures, its differences from the largest and the choice) and prints it.
"""
import argparse, json
from pathlib import Path
import pandas as pd
import emogen

KID_TOL, UA_TOL = 0.10, 3.0  # the rule: KID within 10 % of the largest budget's, judge UA within 3 points of it
MODELS = {'diffusion': 'latent U-Net (optimiser steps)', 'vae': 'VAE (epochs)'}

def budgets(folder:Path)->pd.DataFrame:
    "One row per (budget, model) from the budget subfolders' generator_quality.csv"
    rows = []
    for sub in sorted((p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)):
        t = pd.read_csv(sub/'generator_quality.csv')
        for _, r in t.iterrows():
            rows.append({'budget': int(sub.name), 'model': r.factory.split('-')[0], 'factory': r.factory,
                         'steps_trained': int(r.steps_trained), 'epochs_trained': int(r.epochs_trained),
                         'KID_val': r.KID_val, 'KID_val_se': r.KID_val_se, 'KID_val_real_ref': r.KID_val_real_ref,
                         'judge_UA': 100*r.judge_UA_intended, 'n_val': int(r.n_val)})
    return pd.DataFrame(rows)

def choose(t:pd.DataFrame)->dict:
    "Per model: each budget against the largest, and the budget the rule picks"
    out = {}
    for model, q in t.groupby('model'):
        q = q.sort_values('budget')
        top = q.iloc[-1]
        rows = []
        for _, r in q.iterrows():
            dk, du = r.KID_val/top.KID_val - 1, r.judge_UA - top.judge_UA
            rows.append({**{k: (v.item() if hasattr(v, 'item') else v) for k, v in r.items()},
                         'KID_vs_largest_pct': round(100*dk, 1), 'UA_vs_largest_points': round(du, 1),
                         'passes': bool(abs(dk) <= KID_TOL and abs(du) <= UA_TOL)})
        chosen = next(r for r in rows if r['passes'] or r['budget'] == top.budget)
        out[model] = {'what': MODELS.get(model, model), 'budgets': rows, 'chosen_budget': chosen['budget'],
                      'chosen_steps': chosen['steps_trained'], 'chosen_epochs': chosen['epochs_trained']}
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('folder', type=Path)
    a = ap.parse_args()
    res = {'rule': f"per model, the smallest budget whose validation KID is within {100*KID_TOL:g} % of the largest "
                   f"budget's and whose judge UA is within {UA_TOL:g} points of it; else the largest",
           'command': f'python bench/budget_rule.py {a.folder}', 'emogen': emogen.__version__,
           'models': choose(budgets(a.folder))}
    (a.folder/'choice.json').write_text(json.dumps(res, indent=2) + '\n')
    print(json.dumps(res, indent=2))
