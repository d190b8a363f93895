"""Tokenizer checks: which texts a model would truncate, and how well its vocabulary covers a language."""

from __future__ import annotations

MAX_EXTRA_TOKENS = 4  # [CLS]/[SEP] or <s>/</s>, and a SentencePiece word-start piece, with room to spare


class TruncationWarning(UserWarning):
    """Inputs longer than the model's maximum sequence length were cut."""


def token_lengths(tokenizer, texts: list[str]) -> list[int]:
    encoded = tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)
    return [len(ids) for ids in encoded["input_ids"]]


def unknown_token_rates(tokenizer, texts_by_lang: dict[str, list[str]]) -> dict[str, float]:
    """Share (x100) of tokens that are the tokenizer's unknown token, per language."""
    unk = getattr(tokenizer, "unk_token_id", None)
    rates = {}
    for lang, texts in texts_by_lang.items():
        ids = [i for row in tokenizer(texts, add_special_tokens=False)["input_ids"] for i in row]
        rates[lang] = 100.0 * sum(i == unk for i in ids) / max(1, len(ids)) if unk is not None else 0.0
    return rates


COVERAGE_WARN = 1.0  # % unknown tokens above which a language is reported as not covered


def coverage_warning(tokenizer, texts_by_lang: dict[str, list[str]]) -> tuple[dict[str, float], str | None]:
    """(unknown-token rate per language, a warning when some language is not covered by the tokenizer)."""
    rates = unknown_token_rates(tokenizer, texts_by_lang)
    if not any(rate > COVERAGE_WARN for rate in rates.values()):
        return rates, None
    table = ", ".join(f"{lang} {rate:.1f}%" for lang, rate in sorted(rates.items()))
    return rates, f"warning: the student's tokenizer does not cover every language; unknown-token rate: {table}"
