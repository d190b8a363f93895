"""The project's words are spelled once (harness/core/vocabulary.py): no other module names a task family
or a leaderboard role in a string, so a new family or role is one edit, and the report's colours and the
figures' agree."""

import re
from pathlib import Path

from harness.core.vocabulary import ABLATION, FAMILIES, MAIN_SCORE, ROLE_COLOURS, ROLES

ROOT = Path(__file__).resolve().parents[1]


def test_families_and_roles_are_spelled_only_in_the_vocabulary():
    # "teacher", "base" and "student" are also the keys of a record's model block, and "baseline" is also a
    # model-spec kind and the gate's old side, "compat" the report's anchor: those words have other meanings,
    # so only these are checked
    words = "|".join(re.escape(w) for w in (*FAMILIES, ABLATION))
    spelled = re.compile(rf"""["']({words})["']""")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for package in ("harness", "tasks", "trainers")
                 for path in (ROOT / package).rglob("*.py") if path.name != "vocabulary.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if spelled.search(line)]
    assert not offenders, offenders


def test_every_role_has_a_colour_and_every_family_a_main_score():
    assert set(ROLE_COLOURS) == set(ROLES) and set(MAIN_SCORE) == set(FAMILIES)
