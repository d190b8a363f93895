import pytest

from harness.core.errors import HarnessError
from harness.core.registry import Registry


def test_duplicate_names_are_errors():
    reg = Registry[int]("thing")
    reg.register("a", 1)
    with pytest.raises(ValueError, match="duplicate thing name 'a'"):
        reg.register("a", 2)


def test_lazy_entry_is_imported_on_get():
    reg = Registry("function")
    reg.register("dumps", "json:dumps")
    import json

    assert reg.get("dumps") is json.dumps


def test_unknown_name_says_did_you_mean():
    reg = Registry("task")
    reg.register("tatoeba", 1)
    with pytest.raises(HarnessError, match="unknown task 'tatoba' \\(did you mean 'tatoeba'\\?\\)"):
        reg.get("tatoba")
