"""The one language-code normaliser: 'de', 'deu', 'deu_Latn' and 'German' all become 'de'.

The canonical code is ISO 639-1 where one exists, else ISO 639-3. Codes of the evaluation sets
(Tatoeba's LASER v1 codes, FLORES-200 'xxx_Scrp' codes) and English names all map here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.core.errors import HarnessError
from harness.core.registry import did_you_mean

# canonical | other codes (ISO 639-3, macro-language members, FLORES bases) | English names (;-separated) | main script
_TABLE = """
af|afr|Afrikaans|Latn
am|amh|Amharic|Ethi
ang||Old English|Latn
ar|ara arb|Arabic|Arab
arq||Algerian Arabic|Arab
arz||Egyptian Arabic|Arab
ast||Asturian|Latn
awa||Awadhi|Deva
az|aze azj|Azerbaijani|Latn
be|bel|Belarusian|Cyrl
bn|ben|Bengali;Bangla|Beng
ber||Berber|Latn
bs|bos|Bosnian|Latn
br|bre|Breton|Latn
bg|bul|Bulgarian|Cyrl
ca|cat|Catalan|Latn
cbk||Chavacano|Latn
ceb||Cebuano|Latn
cs|ces cze|Czech|Latn
ch|cha|Chamorro|Latn
zh|zho chi cmn zh_hans zho_hans|Chinese;Mandarin|Hans
zh-hant|zh_hant zho_hant zh_tw|Traditional Chinese|Hant
kw|cor|Cornish|Latn
csb||Kashubian|Latn
cy|cym wel|Welsh|Latn
da|dan|Danish|Latn
de|deu ger|German|Latn
dsb||Lower Sorbian|Latn
dtp||Kadazan Dusun|Latn
el|ell gre|Greek|Grek
en|eng|English|Latn
eo|epo|Esperanto|Latn
et|est ekk|Estonian|Latn
eu|eus baq|Basque|Latn
fo|fao|Faroese|Latn
fi|fin|Finnish|Latn
fr|fra fre|French|Latn
fy|fry|Frisian;Western Frisian|Latn
gd|gla|Scottish Gaelic;Gaelic|Latn
ga|gle|Irish|Latn
gl|glg|Galician|Latn
gsw||Swiss German|Latn
he|heb|Hebrew|Hebr
hi|hin|Hindi|Deva
hr|hrv|Croatian|Latn
hsb||Upper Sorbian|Latn
hu|hun|Hungarian|Latn
hy|hye arm|Armenian|Armn
io|ido|Ido|Latn
ie|ile|Interlingue|Latn
ia|ina|Interlingua|Latn
id|ind|Indonesian|Latn
is|isl ice|Icelandic|Latn
it|ita|Italian|Latn
jv|jav|Javanese|Latn
ja|jpn|Japanese|Jpan
kab||Kabyle|Latn
ka|kat geo|Georgian|Geor
kk|kaz|Kazakh|Cyrl
km|khm|Khmer|Khmr
ko|kor|Korean|Hang
ku|kur kmr|Kurdish|Latn
kzj||Coastal Kadazan|Latn
la|lat|Latin|Latn
lfn||Lingua Franca Nova|Latn
lt|lit|Lithuanian|Latn
lv|lav lvs|Latvian|Latn
ml|mal|Malayalam|Mlym
mr|mar|Marathi|Deva
max||North Moluccan Malay|Latn
mhr||Eastern Mari|Cyrl
mk|mkd mac|Macedonian|Cyrl
mn|mon khk|Mongolian|Cyrl
nds||Low German|Latn
nl|nld dut|Dutch|Latn
nn|nno|Norwegian Nynorsk;Nynorsk|Latn
nb|nob no nor|Norwegian Bokmal;Norwegian|Latn
nov||Novial|Latn
oc|oci|Occitan|Latn
orv||Old Russian|Cyrl
pam||Pampanga;Kapampangan|Latn
fa|fas per pes|Persian;Farsi|Arab
pms||Piedmontese|Latn
pl|pol|Polish|Latn
pt|por|Portuguese|Latn
ro|ron rum|Romanian|Latn
ru|rus|Russian|Cyrl
sk|slk slo|Slovak|Latn
sl|slv|Slovenian;Slovene|Latn
es|spa|Spanish|Latn
sq|sqi alb als|Albanian|Latn
sr|srp|Serbian|Cyrl
sv|swe|Swedish|Latn
swg||Swabian|Latn
sw|swa swh|Swahili|Latn
ta|tam|Tamil|Taml
tt|tat|Tatar|Cyrl
te|tel|Telugu|Telu
tl|tgl fil|Tagalog;Filipino|Latn
th|tha|Thai|Thai
tk|tuk|Turkmen|Latn
tr|tur|Turkish|Latn
tzl||Talossan|Latn
ug|uig|Uyghur;Uighur|Arab
uk|ukr|Ukrainian|Cyrl
ur|urd|Urdu|Arab
uz|uzb uzn|Uzbek|Latn
vi|vie|Vietnamese|Latn
war||Waray|Latn
wuu||Wu Chinese|Hans
xh|xho|Xhosa|Latn
yi|yid ydd|Yiddish|Hebr
yue||Cantonese|Hant
ms|msa may zsm|Malay|Latn
"""


@dataclass(frozen=True)
class Language:
    """One language: its canonical code, English name and main script (ISO 15924)."""

    code: str
    name: str
    script: str
    iso3: str


def _build() -> tuple[dict[str, Language], dict[str, str]]:
    languages: dict[str, Language] = {}
    aliases: dict[str, str] = {}
    for row in _TABLE.strip().splitlines():
        code, others, names, script = row.split("|")
        multiword = names.split(";")
        iso3 = next((o for o in [code, *others.split()] if _ISO3.match(o)), code)
        languages[code] = Language(code, multiword[0], script, iso3)
        for key in [code, *others.split(), *(n.lower() for n in multiword)]:
            if key in aliases and aliases[key] != code:
                raise ValueError(f"language alias '{key}' maps to both {aliases[key]} and {code}")
            aliases[key] = code
    return languages, aliases


_ISO3 = re.compile(r"^[a-z]{3}$")
_SCRIPT = re.compile(r"^[a-z]{4}$")
LANGUAGES, _ALIASES = _build()


def normalise(code: str) -> str:
    """Return the canonical code for any known spelling of a language.

    Unknown three-letter codes pass through unchanged (ISO 639-3 has ~7,000 of them); anything else
    unknown is an error that suggests the closest known code or name.
    """
    key = code.strip().lower().replace("-", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    base, _, script = key.partition("_")
    if script and not _SCRIPT.match(script):  # 'de-fr' is a pair, not a language
        raise HarnessError(f"unknown language '{code}': expected a code such as de, deu, deu_Latn or German")
    if base in _ALIASES:  # FLORES-style 'deu_Latn'
        return _ALIASES[base]
    if _ISO3.match(base):
        return base
    raise HarnessError(f"unknown language '{code}'{did_you_mean(key, sorted(_ALIASES))}")


def parse_langs(spec: str | list[str]) -> list[str]:
    """Parse 'de,fr' (or a list) into canonical codes, keeping order and dropping repeats."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        if item.strip():
            code = normalise(item)
            if code not in out:
                out.append(code)
    if not out:
        raise HarnessError("no languages given")
    return out


def mteb_code(code: str) -> str:
    """'de' -> 'deu-Latn': ISO 639-3 plus ISO 15924 script, as mteb writes languages."""
    lang = LANGUAGES.get(code)
    return f"{lang.iso3}-{lang.script}" if lang else code
