import pytest

from harness.core.errors import HarnessError
from harness.core.languages import LANGUAGES, normalise, parse_langs


@pytest.mark.parametrize("spelling", ["de", "deu", "deu_Latn", "German", "german", "DE", "ger"])
def test_german_spellings_normalise_to_de(spelling):
    assert normalise(spelling) == "de"


@pytest.mark.parametrize("spelling", ["zh", "cmn", "zho_Hans", "Chinese", "zho"])
def test_chinese_spellings_normalise_to_zh(spelling):
    assert normalise(spelling) == "zh"


def test_traditional_chinese_stays_distinct():
    assert normalise("zho_Hant") == "zh-hant"


def test_unknown_iso3_code_passes_through():
    assert normalise("ace_Latn") == "ace"
    assert normalise("xyz") == "xyz"


def test_misspelling_suggests_closest():
    with pytest.raises(HarnessError, match="did you mean 'german'"):
        normalise("germna")


def test_a_pair_is_not_a_language():
    with pytest.raises(HarnessError, match="unknown language 'de-fr'"):
        normalise("de-fr")


def test_parse_langs_keeps_order_and_drops_repeats():
    assert parse_langs("fr, deu,de,French") == ["fr", "de"]


def test_every_canonical_code_maps_to_itself():
    assert all(normalise(code) == code for code in LANGUAGES)


def test_all_tatoeba_codes_are_known():
    from harness.core.paths import data_root

    folder = data_root() / "eval" / "tatoeba"
    if not folder.is_dir():
        pytest.skip("shared data not present")
    codes = {p.name.split(".")[1].split("-")[0] for p in folder.glob("tatoeba.*-eng.eng")}
    assert codes
    unknown = [c for c in codes if normalise(c) not in LANGUAGES]
    assert unknown == []
