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


def test_the_plugin_table_loads_every_entry_from_the_plugin_layer():
    """Every built-in entry imports and comes from `tasks` or `trainers`: a task class, a file-task kind that
    builds one from its argument, or a trainer whose registered name is its own (the name its folders carry)."""
    from harness.app.plugins import FILE_TASKS, TASKS, TRAINERS
    from harness.core.training import Trainer
    from tasks.base import Task

    for registry, package in ((TASKS, "tasks."), (FILE_TASKS, "tasks."), (TRAINERS, "trainers.")):
        for name in registry.names():
            entry = registry.get(name)
            assert entry.__module__.startswith(package), (name, entry.__module__)
            if registry is TRAINERS:
                assert entry.name == name and isinstance(entry(), Trainer)
            elif registry is FILE_TASKS:  # `KIND:ARGUMENT` builds the task
                assert callable(entry.from_argument), name
            else:
                assert issubclass(entry, Task), name


def test_no_layer_below_the_application_names_a_plugin_module():
    """Plug-ins are declared in the application layer only, where the import linter's layers allow them: a
    'tasks.x:Y' or 'trainers.x:Y' string lower down would be an import the linter cannot see."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "harness"
    named = re.compile(r"""["'](?:tasks|trainers)\.[a-z_]+:""")
    lower = [path for path in root.rglob("*.py") if "app" not in path.relative_to(root).parts]
    assert lower and not [str(p) for p in lower if named.search(p.read_text(encoding="utf-8"))]
