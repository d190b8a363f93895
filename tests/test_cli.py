"""The command line end to end, on the tiny data root with the hash encoder (offline, seconds)."""

import json
import subprocess
import sys

import pytest

from harness.app.cli import main


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, env=env)


def test_eval_writes_results_and_prints_table(data_env, tmp_path, capsys):
    out = tmp_path / "runs"
    code = main(["eval", "--model", "hash", "--langs", "de", "--results-dir", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "stsb-multi-mt de-en" in printed and "tatoeba de-en" in printed and "xquad-r de-en" in printed
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert "hash/tatoeba/de-en.json" in files and "hash/xquad-r/en-en.json" in files
    record = json.loads((out / "hash" / "tatoeba" / "de-en.json").read_text())
    assert record["status"] == "ok" and record["task"]["family"] == "mining"
    assert {"acc_cos_fwd", "acc_cos_bwd", "acc_margin_fwd", "acc_margin_bwd"} <= set(record["metrics"])
    assert record["analysis"]["fwd"]["worst"] and record["evidence"]["arrays"]["gap_fwd"]["codec"] == "zlib"

    # a second run reuses what is stored
    assert main(["eval", "--model", "hash", "--langs", "de", "--results-dir", str(out), "--no-progress"]) == 0
    assert f"0 written, {len(files)} reused" in capsys.readouterr().out


def test_bad_data_path_is_one_line_exit_2(tmp_path):
    env = {"HARNESS_DATA": str(tmp_path / "missing"), "PATH": ""}
    proc = run_cli("eval", "--model", "hash", "--results-dir", str(tmp_path / "r"), env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "HARNESS_DATA" in proc.stderr


def test_malformed_file_names_file_and_line(tmp_path, data_env):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\t1\nno tabs here\n")
    proc = run_cli("eval", "--model", "hash", "--tasks", f"sts-file:{bad}", "--results-dir", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {bad}:2: expected 3 tab-separated fields, found 1"
    assert not (tmp_path / "r").exists()  # nothing written


@pytest.mark.parametrize("args, message", [
    (["--langs", "germna"], "did you mean 'german'"),
    (["--tasks", "tatoba"], "did you mean 'tatoeba'"),
    (["--model", "./no/such/folder"], "no such folder"),
])
def test_bad_arguments_exit_2(data_env, tmp_path, capsys, args, message):
    assert main(["eval", "--results-dir", str(tmp_path), "--no-progress", *(args or [])]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("command, args, message", [
    ("eval", ["--model", "NOT_A_MODEL"], "is a folder without modules.json or config.json"),
    ("eval", ["--model", "hash", "--device", "tpu9"], "device must be cpu, cuda, cuda:N, mps or xpu[:N], got 'tpu9'"),
    ("eval", ["--model", "hash:abc"], "the hash test double takes a vector size"),
    ("eval", ["--model", "hash", "--device", "cuda:99"], "device cuda:99: this machine has"),
    ("eval", ["--model", "hash", "--results-dir", "A_FILE/runs"], "cannot write here"),
    ("validate", ["--student", "NOT_A_MODEL"], "is a folder without modules.json or config.json"),
    ("validate", ["--teacher", "nobody/no-such-model"], "the hub cannot be reached (offline)"),
    ("validate", ["--seeds", str(2**64)], "is above 4294967295"),
    ("validate", ["--batch-size", "100000000000"], "batch_size must be at most 65536"),
    ("validate", ["--max-pairs", "1e20"], "max_pairs must be an integer (or 'all')"),
    ("train", ["--student", "NOT_A_MODEL", "--no-eval"], "is a folder without modules.json or config.json"),
])
def test_inputs_that_would_fail_later_fail_first_in_one_line(data_env, tmp_path, capsys, monkeypatch, command, args,
                                                             message):
    """Issue 22, items 5 and 8: each of these once passed validation, or ended in a traceback after work."""
    import harness.encoders.specs as specs

    monkeypatch.setattr(specs, "hub_reachable", lambda timeout=3.0: False)  # offline, whatever the machine
    monkeypatch.chdir(tmp_path)
    (tmp_path / "NOT_A_MODEL").mkdir()
    (tmp_path / "NOT_A_MODEL" / "weights.txt").write_text("no")
    (tmp_path / "A_FILE").write_text("a file")
    base = ["--results-dir", str(tmp_path / "r")] if command == "eval" and "--results-dir" not in args else []
    assert main([command, *base, *args, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err
    assert not (tmp_path / "r").exists()


def test_a_results_folder_that_cannot_be_written_is_found_before_any_work(data_env, tmp_path, capsys, monkeypatch):
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refused)  # a read-only folder, even for root
    assert main(["eval", "--model", "hash", "--langs", "de", "--results-dir", str(tmp_path / "runs"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {tmp_path / 'runs'}: cannot write here (Permission denied); choose another folder"


def test_ls_tasks_lists_every_family(capsys):
    assert main(["ls", "tasks"]) == 0
    out = capsys.readouterr().out
    for name in ("tatoeba", "flores", "stsb-multi-mt", "xquad-r"):
        assert name in out


def test_help_does_not_import_heavy_libraries():
    code = "import sys; from harness.app.cli import build_parser; build_parser(); " \
           "print(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'pandas') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]"


def test_closed_output_pipe_ends_quietly_and_not_as_a_pass():
    code = ("import sys; from harness.app import cli; cli.COMMANDS['ls'] = lambda args: print('x' * 1_000_000) or 0; "
            "sys.exit(cli.main(['ls', 'tasks']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader went away, as `harness compare ... | head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait() == 141  # like a tool killed by SIGPIPE: a gate piped into head never reads as a pass
    assert "Traceback" not in err and "Exception ignored" not in err, err


@pytest.mark.parametrize("command", ["eval", "train", "run", "validate", "leaderboard", "compare", "export", "ls"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and "usage: harness" in capsys.readouterr().out


def test_no_parser_takes_an_abbreviated_option(capsys):
    """A misspelled option is an error, never a prefix of a real one (`--max-pair 10` once started a real run)."""
    import argparse

    from harness.app.cli import build_parser

    def parsers(parser):
        yield parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield from parsers(child)

    found = list(parsers(build_parser()))
    assert len(found) >= 12 and all(not p.allow_abbrev for p in found)
    for argv in (["run", "--max-pair", "10"], ["eval", "--mod", "hash"], ["run", "--lan", "de"],
                 ["data", "fetch", "--mirr", "x", "tatoeba"]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err
