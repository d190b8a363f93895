"""Corpora for README "Mined pairs as training data": 2,000 Tatoeba-Challenge de-en pairs hidden among 2,000
German and 2,000 English Multi30k captions from different pairs, and the gold pairs as TSV files.

    python docs/experiments/mined_vs_gold_corpora.py OUT_DIR
"""

import sys
from pathlib import Path

import numpy as np

from harness.core.data import read_pairs
from harness.core.paths import data_root

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
parallel = data_root() / "parallel"
rng = np.random.default_rng(21)
tatoeba = read_pairs(parallel / "tatoeba-challenge/en-de.tsv.gz")
captions = read_pairs(parallel / "multi30k/en-de.tsv.gz")
gold = [tatoeba[i] for i in rng.permutation(len(tatoeba))[:2000]]
order = rng.permutation(len(captions))
german = [de for _, de in gold] + [captions[i][1] for i in order[:2000]]
english = [en for en, _ in gold] + [captions[i][0] for i in order[2000:4000]]
(out / "de.txt").write_text("\n".join(german[i] for i in rng.permutation(len(german))) + "\n", encoding="utf-8")
(out / "en.txt").write_text("\n".join(english[i] for i in rng.permutation(len(english))) + "\n", encoding="utf-8")
(out / "gold.tsv").write_text("".join(f"{de}\t{en}\n" for en, de in gold), encoding="utf-8")  # as mine reads it
(out / "en-de.gold-1000.tsv").write_text("".join(f"{en}\t{de}\n" for en, de in gold[:1000]), encoding="utf-8")
