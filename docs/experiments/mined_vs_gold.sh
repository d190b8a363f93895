#!/bin/bash
# README "Mined pairs as training data": a student trained on mined pairs against one trained on as many gold
# pairs. Usage: bash docs/experiments/mined_vs_gold.sh OUT_DIR   (about 15 minutes on a 2-core CPU)
set -e
D=${1:-/tmp/mined-demo}
python docs/experiments/mined_vs_gold_corpora.py $D
python -m harness mine --model multilingual-e5-small --src $D/de.txt --tgt $D/en.txt --out $D/mined.tsv \
    --gold $D/gold.tsv --threshold 1.06 --cache $D/cache --no-progress
N=$(( $(wc -l < $D/mined.tsv) < 1000 ? $(wc -l < $D/mined.tsv) : 1000 ))
T=$(sed -n "${N}p" $D/mined.tsv | cut -f1)
head -$N $D/en-de.gold-1000.tsv > $D/en-de.gold.tsv
python -m harness train --langs de --parallel "mined:$D/mined.tsv@de-en>=$T" --output models/demo-mined \
    --results-dir $D/runs --no-progress
python -m harness train --langs de --parallel $D/en-de.gold.tsv@de --output models/demo-gold \
    --results-dir $D/runs --no-progress
python -m harness compare --baseline $D/runs --candidate $D/runs --models demo-gold,demo-mined --show all
