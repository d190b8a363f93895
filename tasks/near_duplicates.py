"""Near-duplicates of English sentences that change the meaning by one small edit, labelled by type: the
hard negatives of the `flores-plus` stress test (after xSIM++, Chen et al. 2023).

Deterministic rules, one edit per type and sentence at most (the first place a rule applies):
- number: a digit string gets another value of the same shape (a year stays a year, thousands separators
  stay; times and version numbers are left alone), a spelled-out number another of its class (units, tens,
  scales), a month or a weekday another one;
- entity: a person, place or organisation from the project's lists (`ENTITIES`) becomes another of the same
  list, so the grammar holds (a country for a country, "the United Nations" for "the World Bank");
- causality: one connective or direction word becomes its opposite (before/after, because/although,
  increase/decrease, more than/less than, ...), never inside a name ("South Africa") or where the opposite
  would not be English ("because of");
- negation: "not" added after an auxiliary that heads a verb phrase (is, was, can, may, will, has been,
  ...), unless the sentence already denies something (no, never, nobody, ...); or removed where the
  sentence has one ("is not" -> "is", "cannot" -> "can", "won't" -> "will").

A rule that finds nothing to edit leaves the sentence alone: a sentence yields 0 to 4 near-duplicates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

TYPES = ("number", "entity", "causality", "negation")


@dataclass(frozen=True)
class Edit:
    """One near-duplicate: its text, its type, and what was changed ("1950" -> "1953")."""

    text: str
    kind: str
    before: str
    after: str


def _same_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _swap(text: str, match: re.Match, replacement: str, kind: str) -> Edit:
    return Edit(text[:match.start()] + replacement + text[match.end():], kind, match.group(0), replacement)


# ---- numbers -------------------------------------------------------------------------------------------

# number words change within their class, so "two hundred" stays a count of hundreds ("five hundred", not
# "thirty hundred") and "twenty-fourth" stays an ordinal ("thirty-fourth")
NUMBER_CLASSES = [["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"],
                  ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"],
                  ["hundred", "thousand", "million", "billion"]]
NUMBER_WORDS = [word for words in NUMBER_CLASSES for word in words]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# digits that stand alone: not inside a name ("COVID-19", "G20", "802.11n"), a time ("07:19") or a longer number
_DIGITS = re.compile(r"(?<![\w.,:-])\d{1,3}(?:,\d{3})+(?![\d,]*\d)(?![\w:])|"
                     r"(?<![\w.,:-])\d+(?:\.\d+)?(?![\w:]|[.,]\d)")
_NUMBER_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
# "May" is a month only before a day number or a year, else it is the modal verb
_MONTH = re.compile(r"\b(?:" + "|".join(m for m in MONTHS if m != "May") + r"|May(?= \d))\b")
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b")


def _other_number(token: str, rng: np.random.Generator) -> str:
    """Another number written like `token`: a year stays four digits near it, a decimal keeps its places."""
    plain = token.replace(",", "")
    if "." in plain:
        whole, places = plain.split(".")
        value = int(whole + places) + int(rng.integers(1, 10))
        digits = str(value).rjust(len(whole + places), "0")
        return f"{digits[:-len(places)] or '0'}.{digits[-len(places):]}"
    value = int(plain)
    if token == plain and len(plain) == 4 and 1000 <= value <= 2099:  # a year (1,200 is not one)
        shift = int(rng.integers(1, 10)) * (1 if rng.random() < 0.5 else -1)
        return str(value + shift if 1000 <= value + shift <= 9999 else value - shift)
    step = max(1, value // 4)
    new = value + int(rng.integers(1, step + 1)) * (1 if rng.random() < 0.5 or value <= step else -1)
    new = max(new, 0) if new != value else value + 1
    return f"{new:,}" if "," in token else str(new)


def number_edit(text: str, rng: np.random.Generator) -> Edit | None:
    """The first number of `text` (digits, a number word, a month or a weekday) changed."""
    found = [(m, "digits") for m in _DIGITS.finditer(text)] + [(m, "word") for m in _NUMBER_WORD.finditer(text)]
    found += [(m, "month") for m in _MONTH.finditer(text)] + [(m, "weekday") for m in _WEEKDAY.finditer(text)]
    if not found:
        return None
    match, what = min(found, key=lambda item: item[0].start())
    token = match.group(0)
    if what == "digits":
        return _swap(text, match, _other_number(token, rng), "number")
    pool = {"month": MONTHS, "weekday": WEEKDAYS}.get(what) or \
        next(words for words in NUMBER_CLASSES if token.lower() in words)
    others = [w for w in pool if w.lower() != token.lower()]
    return _swap(text, match, _same_case(others[int(rng.integers(len(others)))], token), "number")


# ---- entities ------------------------------------------------------------------------------------------

ENTITIES: dict[str, list[str]] = {
    "country": ["Argentina", "Australia", "Austria", "Belgium", "Brazil", "Canada", "Chile", "China", "Colombia",
                "Denmark", "Egypt", "Finland", "France", "Germany", "Greece", "India", "Indonesia", "Iran",
                "Ireland", "Israel", "Italy", "Japan", "Kenya", "Mexico", "Morocco", "Nigeria", "Norway",
                "Pakistan", "Peru", "Poland", "Portugal", "Russia", "Spain", "Sweden", "Switzerland", "Thailand",
                "Turkey", "Ukraine", "Vietnam", "South Africa", "South Korea", "New Zealand", "Saudi Arabia"],
    "city": ["Amsterdam", "Athens", "Bangkok", "Beijing", "Berlin", "Brussels", "Cairo", "Chicago", "Dublin",
             "Istanbul", "Jakarta", "Lisbon", "London", "Madrid", "Manila", "Moscow", "Mumbai", "Nairobi", "Oslo",
             "Paris", "Prague", "Rome", "Seoul", "Shanghai", "Stockholm", "Sydney", "Tokyo", "Toronto", "Vienna",
             "Warsaw", "Los Angeles", "New York", "Rio de Janeiro", "San Francisco", "Hong Kong"],
    "us_state": ["Alabama", "Alaska", "Arizona", "California", "Colorado", "Florida", "Georgia", "Hawaii",
                 "Illinois", "Iowa", "Kansas", "Kentucky", "Louisiana", "Michigan", "Minnesota", "Nevada", "Ohio",
                 "Oregon", "Texas", "Utah", "Vermont", "Virginia", "Washington", "Wisconsin", "New Jersey",
                 "North Carolina"],
    "continent": ["Africa", "Asia", "Europe", "Antarctica", "Australia", "North America", "South America"],
    "man": ["James", "John", "Robert", "Michael", "David", "William", "Richard", "Thomas", "Charles", "Daniel",
            "Matthew", "Mark", "Paul", "Peter", "George", "Steve", "Tom", "Jack", "Henry", "Carlos", "Ahmed"],
    "woman": ["Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Sarah", "Karen", "Nancy", "Lisa",
              "Anna", "Maria", "Emma", "Julia", "Laura", "Helen", "Sara", "Alice", "Grace"],
    "surname": ["Obama", "Bush", "Clinton", "Trump", "Biden", "Putin", "Merkel", "Macron", "Blair", "Johnson",
                "Gillard", "Rudd", "Sarkozy", "Berlusconi", "Mandela", "Gandhi", "Einstein", "Newton", "Darwin"],
    "org_bare": ["NASA", "FIFA", "NATO", "UNESCO", "UNICEF", "Google", "Microsoft", "Apple", "Facebook",
                 "Twitter", "Toyota", "Boeing", "Airbus", "Interpol", "Greenpeace", "Reuters", "CNN", "BBC"],
    "org_the": ["United Nations", "European Union", "World Bank", "World Health Organization", "Red Cross",
                "International Monetary Fund", "Supreme Court", "Senate", "Olympic Committee", "Vatican"],
}


def _entity_pattern() -> re.Pattern:
    names = sorted({name for names in ENTITIES.values() for name in names}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")


_ENTITY = _entity_pattern()
_KIND_OF = {}
for _kind, _names in ENTITIES.items():
    for _name in _names:
        _KIND_OF.setdefault(_name, _kind)  # a name in two lists (Australia) keeps the first (country)


def entity_edit(text: str, rng: np.random.Generator) -> Edit | None:
    """The first listed person, place or organisation of `text` replaced by another of its list."""
    for match in _ENTITY.finditer(text):
        name = match.group(0)
        if _KIND_OF[name].startswith("org_the") and not text[:match.start()].endswith("the "):
            continue  # "Senate" as a common noun's capitalised start, not "the Senate"
        others = [other for other in ENTITIES[_KIND_OF[name]] if other != name and other not in text]
        return _swap(text, match, others[int(rng.integers(len(others)))], "entity")
    return None


# ---- causality and direction ---------------------------------------------------------------------------

# word pairs that reverse a relation and keep the grammar; ambiguous ones are left out on purpose: first/last
# ("First Lady", "which last a second"), won/lost ("won't", "lives were lost"), rose/fell (a flower)
OPPOSITES = [("before", "after"), ("because", "although"), ("increase", "decrease"), ("increased", "decreased"),
             ("increases", "decreases"), ("more than", "less than"), ("higher", "lower"), ("earlier", "later"),
             ("above", "below"), ("always", "never"), ("allowed", "forbidden"), ("north", "south"),
             ("east", "west")]
_OPPOSITE = {a: b for a, b in OPPOSITES} | {b: a for a, b in OPPOSITES}
_CAUSAL = re.compile(r"\b(" + "|".join(sorted(_OPPOSITE, key=len, reverse=True)) + r")\b"
                     # "before"/"after" must head a clause or phrase ("before the storm", not "in before.");
                     # "because of X" has no "although of"; a compass word is not part of a name ("South
                     # Africa", "Middle East")
                     r"(?!(?<=\bbefore)[^ \w]|(?<=\bafter)[^ \w]|(?<=\bbefore)$|(?<=\bafter)$)"
                     r"(?!(?<=\bbecause) of\b)", re.IGNORECASE)
_COMPASS = {"north", "south", "east", "west"}


def causality_edit(text: str, rng: np.random.Generator) -> Edit | None:
    """The first connective or direction word of `text` turned into its opposite."""
    for match in _CAUSAL.finditer(text):
        word = match.group(0)
        if word.lower() in _COMPASS and (word[0].isupper() or re.match(r" [A-Z]", text[match.end():])):
            continue  # part of a name
        return _swap(text, match, _same_case(_OPPOSITE[word.lower()], word), "causality")
    return None


# ---- negation ------------------------------------------------------------------------------------------

_NEGATED = re.compile(r"\b(is|are|was|were|do|does|did|has|have|had|will|would|could|should|must) not\b|"
                      r"\b(can)not\b|\b(won)'t\b|\b(is|are|was|were|does|do|did|has|have|had|could|should|would)n't\b",
                      re.IGNORECASE)
# participles that do not end in -ed or -en
_IRREGULAR = ("built|made|held|found|known|seen|given|taken|told|sold|paid|left|lost|won|sent|spent|brought|bought|"
              "caught|taught|thought|kept|put|hit|cut|shut|hurt|led|fed|met|born|done|gone|run|set|struck|hung|shot|"
              "able|likely|being")
# an auxiliary followed by a verb phrase: "is expected", "was built", "can be", "will go", "has been"
_AUXILIARY = re.compile(r"\b(is|are|was|were)(?= (?:\w+(?:ed|en|ing)|" + _IRREGULAR + r")\b)|"
                        r"\b(can|will|would|could|should|must|may|might)(?= (?:be|have|\w+)\b)(?! (?:not|n't)\b)|"
                        r"(?<!\bto )\b(has|have|had)(?= (?:been|\w+(?:ed|en))\b)", re.IGNORECASE)
# a sentence that already denies something ("No damage has been reported") would get a double negative
_DENIAL = re.compile(r"\b(?:no|none|never|nobody|nothing|neither|nor|without|cannot)\b|n't\b", re.IGNORECASE)
_MODAL_BEFORE = re.compile(r"\b(?:can|will|would|could|should|must|may|might|to)\s*$", re.IGNORECASE)
_PRONOUN_AFTER_MODAL = re.compile(r"^ (?:I|you|he|she|it|we|they)\b")


def negation_edit(text: str, rng: np.random.Generator) -> Edit | None:
    """`text` negated at its first auxiliary, or its first negation removed."""
    negated = _NEGATED.search(text)
    if negated is not None:
        auxiliary = next(group for group in negated.groups() if group)
        keep = {"won": "will"}.get(auxiliary.lower(), auxiliary)
        return _swap(text, negated, _same_case(keep, auxiliary), "negation")
    if _DENIAL.search(text):
        return None
    for match in _AUXILIARY.finditer(text):
        if _PRONOUN_AFTER_MODAL.match(text[match.end():]):
            continue  # a question ("Can you ...?"): "Can not you" is not English
        if match.group(0).lower() in ("has", "have", "had") and _MODAL_BEFORE.search(text[:match.start()]):
            continue  # "may have ruptured": the modal before it takes the "not"
        word = match.group(0)
        return _swap(text, match, f"{word} not" if word.lower() != "can" else _same_case("cannot", word), "negation")
    return None


RULES = {"number": number_edit, "entity": entity_edit, "causality": causality_edit, "negation": negation_edit}


def near_duplicates(text: str, seed: int) -> list[Edit]:
    """The near-duplicates of `text`, one per type whose rule applies, in TYPES order; each rule draws from
    its own generator seeded by `seed` (the sentence's index), so adding a rule changes no other edit."""
    edits = []
    for number, kind in enumerate(TYPES):
        edit = RULES[kind](text, np.random.default_rng([seed, number]))
        if edit is not None and edit.text != text:
            edits.append(edit)
    return edits
