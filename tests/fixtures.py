"""A tiny data root in every published format, built from templates so that a hash encoder can
match translations through shared names and numbers. Deterministic, offline, milliseconds to make.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

NAMES = ["Anna", "Boris", "Chen", "Dana", "Emil", "Fatima", "Georg", "Hiro", "Ines", "Jonas", "Karla", "Luis"]
OBJECTS_EN = ["apples", "books", "cars", "dogs", "eggs", "flowers"]
OBJECTS_DE = ["Äpfel", "Bücher", "Autos", "Hunde", "Eier", "Blumen"]
OBJECTS_FR = ["pommes", "livres", "voitures", "chiens", "oeufs", "fleurs"]


def sentences(lang: str, n: int, start: int = 0) -> list[str]:
    """n template sentences; those from `start` on are other sentences than the first ones (the pattern
    repeats only after 1,164), so training pairs can be kept apart from evaluation sentences."""
    objects = {"en": OBJECTS_EN, "de": OBJECTS_DE, "fr": OBJECTS_FR}[lang]
    verb = {"en": "buys", "de": "kauft", "fr": "achète"}[lang]
    return [f"{NAMES[i % len(NAMES)]} {verb} {i * 7 % 97} {objects[i % len(objects)]}."
            for i in range(start, start + n)]


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _sts_rows(lang: str, n: int) -> list[list[str]]:
    base = sentences(lang, n + 3)
    # Gold similarity falls with the distance between the two sentence indices.
    return [[base[i], base[(i + i % 4) % len(base)], f"{5.0 - (i % 4) * 1.25:.2f}"] for i in range(n)]


def make_data_root(root: Path, n: int = 40) -> Path:
    """Write tatoeba, flores, stsb-multi-mt, sts17, xquad-r and parallel/ files under `root`."""
    eval_dir = root / "eval"
    for code, lang in (("deu", "de"), ("fra", "fr")):
        _write(eval_dir / "tatoeba" / f"tatoeba.{code}-eng.{code}", sentences(lang, n))
        _write(eval_dir / "tatoeba" / f"tatoeba.{code}-eng.eng", sentences("en", n))
    for code, lang in (("deu_Latn", "de"), ("fra_Latn", "fr"), ("eng_Latn", "en")):
        _write(eval_dir / "flores200-devtest" / f"{code}.devtest", sentences(lang, n))
    for lang in ("en", "de", "fr"):
        path = eval_dir / "stsb-multi-mt" / f"stsb-{lang}-test.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(_sts_rows(lang, n))
    _write_sts17(eval_dir / "sts17", n)
    for lang in ("en", "de"):
        _write_xquad(eval_dir / "xquad-r" / f"{lang}.json", lang, n)
    for lang in ("de", "fr"):
        for source, count in (("big", 3 * n), ("small", n // 2)):
            path = root / "parallel" / source / f"en-{lang}.tsv.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            # training pairs are not evaluation sentences (the leak filter would drop them)
            pairs = zip(sentences("en", count, start=TRAIN_START), sentences(lang, count, start=TRAIN_START))
            with gzip.open(path, "wt", encoding="utf-8") as handle:
                handle.writelines(f"{a}\t{b}\n" for a, b in pairs)
    return root


TRAIN_START = 600  # the evaluation files use the first sentences; training pairs start here

STS17_TRACKS = ["track1.ar-ar", "track2.ar-en", "track3.es-es", "track4a.es-en", "track4b.es-en",
                "track5.en-en", "track6.tr-en"]


def _write_sts17(folder: Path, n: int) -> None:
    """The SemEval layout, including track 6's trap: twice as many input lines as gold scores."""
    rows = _sts_rows("en", n)
    for track in STS17_TRACKS:
        lines = [f"{a}\t{b}" for a, b, _ in rows]
        if track.startswith("track6"):
            lines += [f"{b}\t{a}" for a, b, _ in rows]  # unscored extra lines
        _write(folder / "STS2017.eval.v1.1" / f"STS.input.{track}.txt", lines)
        _write(folder / "STS2017.gs" / f"STS.gs.{track}.txt", [score for _, _, score in rows])


def _write_xquad(path: Path, lang: str, n: int) -> None:
    """Paragraphs of three sentences; question q asks about sentence q of the pool."""
    texts = sentences(lang, n)
    ask = {"en": "Who buys {}?", "de": "Wer kauft {}?"}[lang]
    paragraphs = []
    for start in range(0, n, 3):
        chunk = texts[start:start + 3]
        context = " ".join(chunk)
        breaks, offset = [], 0
        for sentence in chunk:
            breaks.append([offset, offset + len(sentence)])
            offset += len(sentence) + 1
        qas = []
        for k, sentence in enumerate(chunk):
            i = start + k
            qas.append({"id": f"q{i}", "question": ask.format(f"{i * 7 % 97} " + sentence.split()[-1]),
                        "answers": [{"answer_start": breaks[k][0], "text": sentence.split()[0]}]})
        paragraphs.append({"context": context, "qas": qas, "sentences": chunk, "sentence_breaks": breaks})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}),
                    encoding="utf-8")


def make_tiny_bert(folder: Path, hidden: int = 32, seed: int = 0, dropout: float = 0.1) -> Path:
    """A randomly initialised 2-layer BERT sentence-transformers folder with a vocabulary covering
    the fixture sentences. Built from a config: no download, a few hundred kilobytes."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = sorted({w.strip(".?").lower() for lang in ("en", "de", "fr") for s in sentences(lang, 200)
                    for w in s.split()} | {"who", "wer", "buys", "kauft"})
    chars = sorted({c for w in words for c in w} | set("abcdefghijklmnopqrstuvwxyz0123456789.?"))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *[f"##{c}" for c in chars], *words]
    vocab = list(dict.fromkeys(vocab))
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True).save_pretrained(raw)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=2 * hidden, max_position_embeddings=64,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    BertModel(config).save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=32)
    model = SentenceTransformer(modules=[transformer, Pooling(hidden, "mean")], device="cpu")
    out = folder / "st"
    model.save(str(out))
    return out
