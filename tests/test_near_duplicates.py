"""The near-duplicate rules of `flores-plus` (issue 21, item 1), on handwritten sentences: each changes what
it should, keeps the grammar, and leaves alone what it must."""

import numpy as np
import pytest

from harness.core.task import LangPair
from harness.results import stats
from tasks.flores_plus import FloresPlus, PublishedXsimPlusPlus
from tasks.near_duplicates import causality_edit, entity_edit, near_duplicates, negation_edit, number_edit

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("text, before", [
    ("Picasso painted it in 1950.", "1950"),
    ("The quake killed 1,200 people.", "1,200"),
    ("Prices rose by 3.5 percent.", "3.5"),
    ("Two men were arrested.", "Two"),
    ("It opened on Monday.", "Monday"),
    ("The vote is on 4 March.", "4"),
    ("It happened in March, not May.", "March"),
])
def test_numbers_change_and_keep_their_shape(text, before):
    edit = number_edit(text, np.random.default_rng(1))
    assert edit.kind == "number" and edit.before == before and edit.after != before
    assert edit.text == text.replace(before, edit.after, 1)
    if before.isdigit() and len(before) == 4:
        assert len(edit.after) == 4 and abs(int(edit.after) - int(before)) < 10  # a year stays a year
    if "," in before:
        assert "," in edit.after
    if "." in before:
        assert len(edit.after.split(".")[1]) == len(before.split(".")[1])
    if before[0].isupper():
        assert edit.after[0].isupper()


@pytest.mark.parametrize("text", ["You may leave now.", "The committee met.", "COVID-19 spread fast.",
                                  "It is the third-largest city."])
def test_numbers_leave_alone_what_is_not_a_number(text):
    edit = number_edit(text, RNG)
    assert edit is None or edit.before not in ("May", "third")
    if text.startswith("COVID"):
        assert edit is None  # a digit inside a name is not a quantity


@pytest.mark.parametrize("text, before, kind", [
    ("Talks were held in Paris yesterday.", "Paris", "city"),
    ("The plant is in South Africa.", "South Africa", "country"),
    ("Mary said she would come.", "Mary", "woman"),
    ("President Obama welcomed it.", "Obama", "surname"),
    ("NASA launched a probe.", "NASA", "org_bare"),
    ("A report by the World Bank followed.", "World Bank", "org_the"),
])
def test_entities_are_replaced_within_their_type(text, before, kind):
    from tasks.near_duplicates import ENTITIES

    edit = entity_edit(text, np.random.default_rng(2))
    assert edit.before == before and edit.after in ENTITIES[kind] and edit.after != before
    assert edit.text == text.replace(before, edit.after)


@pytest.mark.parametrize("text", ["The senate of the club met.", "Markets opened higher-than-expected.",
                                  "Parisian cafes were full.", "Senate leaders spoke."])
def test_entities_leave_alone_what_is_not_a_listed_name(text):
    assert entity_edit(text, RNG) is None


@pytest.mark.parametrize("text, expected", [
    ("He left before the storm.", "He left after the storm."),
    ("After the match, fans cheered.", "Before the match, fans cheered."),
    ("It failed because the engine broke.", "It failed although the engine broke."),
    ("Sales increased last year.", "Sales decreased last year."),
])
def test_causality_and_direction_words_flip(text, expected):
    assert causality_edit(text, RNG).text == expected


@pytest.mark.parametrize("text, expected", [
    ("The bridge was built in 1900.", "The bridge was not built in 1900."),
    ("She can swim.", "She cannot swim."),
    ("They will arrive soon.", "They will not arrive soon."),
    ("It has been closed.", "It has not been closed."),
    ("The road is not open.", "The road is open."),
    ("We cannot stay.", "We can stay."),
    ("It won't rain.", "It will rain."),
    ("He didn't go.", "He did go."),
])
def test_negation_is_added_after_an_auxiliary_or_removed(text, expected):
    assert negation_edit(text, RNG).text == expected


@pytest.mark.parametrize("text", ["The sky is blue.", "Can you help?", "I have a dog.", "This is it."])
def test_negation_leaves_alone_a_copula_a_question_and_a_main_verb(text):
    assert negation_edit(text, RNG) is None


def test_a_sentence_gets_one_edit_per_type_deterministically():
    text = "In 2016, Obama said the plan was expected to fail because costs rose."
    edits = near_duplicates(text, seed=7)
    assert [e.kind for e in edits] == ["number", "entity", "causality", "negation"]
    assert edits == near_duplicates(text, seed=7)
    assert all(e.text != text for e in edits)
    assert near_duplicates("Hello there.", seed=7) == []


def test_flores_plus_scores_come_from_its_evidence(tiny_root, hash_encoder):
    task = FloresPlus(tiny_root)
    result = next(task.evaluate(hash_encoder, ["de"]))
    data = task.data(LangPair("de", "en"))
    assert data.candidates[: data.n] == task.flores.load_pair(LangPair("de", "en"))[1]
    assert len(data.candidates) > data.n  # the templates have numbers and names to edit
    arrays = result.evidence.arrays
    assert result.metrics["acc_margin"].value == pytest.approx(stats.point_estimate("mean", [arrays["correct"]]))
    wrong = sum(int(arrays[name].sum()) for name in arrays if name.startswith("confused_"))
    assert wrong == data.n - int(arrays["correct"].sum())  # every error has exactly one type
    assert result.analysis["errors"] == wrong


def test_the_published_set_is_read_from_a_list_or_an_index_mapping(tmp_path, monkeypatch, tiny_root):
    import json

    monkeypatch.setenv("HARNESS_DATA", str(tiny_root))
    augmented = tmp_path / "eng_Latn_augmented.devtest"
    augmented.write_text("Anna buys 8 apples.\nBoris buys 9 books.\n", encoding="utf-8")
    types = tmp_path / "types.json"
    types.write_text(json.dumps(["number", "entity"]), encoding="utf-8")
    task = PublishedXsimPlusPlus.from_argument(f"{augmented}+{types}")
    assert [kind for _, kind, *_ in task.published()] == ["number", "entity"]
    from harness.core.hash_encoder import HashEncoder

    result = next(task.evaluate(HashEncoder(dim=64), ["de"]))  # scored like flores-plus, with these types
    assert set(result.metrics) >= {"acc_margin", "confused_number", "confused_entity", "confused_other"}
    assert result.analysis["candidates"]["number"] == result.analysis["candidates"]["entity"] == 1
    types.write_text(json.dumps({"1013": "entity"}), encoding="utf-8")  # an index after the 1,012 devtest lines
    assert [kind for _, kind, *_ in PublishedXsimPlusPlus.from_argument(f"{augmented}+{types}").published()] == \
        ["unknown", "entity"]
    types.write_text("{not json", encoding="utf-8")
    from harness.core.errors import DataError

    with pytest.raises(DataError, match="not JSON"):
        PublishedXsimPlusPlus.from_argument(f"{augmented}+{types}")


@pytest.mark.parametrize("rule, text, expected", [
    (causality_edit, "It failed because of the rain.", None),  # no "although of"
    (causality_edit, "It won't rain.", None),  # won/lost are not flipped ("lost't")
    (causality_edit, "The plant is in South Africa.", None),  # a compass word inside a name
    (causality_edit, "The Middle East is hot.", None),
    (causality_edit, "They were in before.", None),  # "before" that heads nothing
    (causality_edit, "It has more than ten rooms.", "It has less than ten rooms."),
    (causality_edit, "One or more bombs went off.", None),
    (causality_edit, "Winds came from the north in the morning.", "Winds came from the south in the morning."),
    (negation_edit, "No major damage has been reported.", None),  # no double negative
    (negation_edit, "The fault may have ruptured.", "The fault may not have ruptured."),
    (negation_edit, "It appeared to have been moved.", None),
    (number_edit, "At 07:19 the train left.", None),  # a time
    (number_edit, "The 802.11n standard is old.", None),  # a version
])
def test_what_a_reviewer_found_wrong_is_left_alone_or_edited_right(rule, text, expected):
    edit = rule(text, np.random.default_rng(3))
    assert (edit.text if edit else None) == expected


def test_number_words_change_within_their_class():
    from tasks.near_duplicates import NUMBER_CLASSES

    for text, word in (("Two hundred people came.", "Two"), ("It lasted twenty years.", "twenty"),
                       ("A thousand years passed.", "thousand")):
        edit = number_edit(text, np.random.default_rng(4))
        assert edit.before == word
        assert any(word.lower() in words and edit.after.lower() in words for words in NUMBER_CLASSES)
    assert len(number_edit("It was built in 1003.", np.random.default_rng(5)).after) == 4
