import gzip

import pytest

from harness.core.data import read_aligned, read_pairs, read_sts_csv, read_sts_tsv
from harness.core.errors import DataError, HarnessError
from harness.core.paths import DATA_ENV, data_root


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_missing_data_root_says_how_to_set_it(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "nope"))
    with pytest.raises(HarnessError, match="HARNESS_DATA"):
        data_root()


@pytest.mark.parametrize("line, problem", [
    (b"only one field\n", "expected 2 tab-separated fields, found 1"),
    (b"a\tb\tc\n", "expected 2 tab-separated fields, found 3"),
    (b"a\t \n", "field 2 is empty"),
    (b"ok\t\xff\xfe bad\n", "invalid UTF-8"),
])
def test_tsv_errors_name_file_and_line(tmp_path, line, problem):
    path = write(tmp_path / "pairs.tsv", b"good\tpair\n" + line)
    with pytest.raises(DataError) as err:
        read_pairs(path)
    assert err.value.line == 2
    assert str(err.value).startswith(f"{path}:2: ")
    assert problem in str(err.value)


def test_gzipped_pairs_are_read(tmp_path):
    path = tmp_path / "en-de.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("Hello\tHallo\nYes\tJa\n")
    assert read_pairs(path) == [("Hello", "Hallo"), ("Yes", "Ja")]


def test_empty_dataset_is_an_error(tmp_path):
    with pytest.raises(DataError, match="empty dataset"):
        read_pairs(write(tmp_path / "e.tsv", b""))


def test_aligned_files_of_different_length(tmp_path):
    a = write(tmp_path / "a.txt", b"one\ntwo\n")
    b = write(tmp_path / "b.txt", b"eins\n")
    with pytest.raises(DataError, match="has 1 lines but a.txt has 2"):
        read_aligned(a, b)


@pytest.mark.parametrize("score, problem", [("7", r"outside \[0, 5\]"), ("high", "not a number"), ("nan", "outside")])
def test_sts_score_errors(tmp_path, score, problem):
    path = write(tmp_path / "s.tsv", f"a\tb\t1.0\nc\td\t{score}\n".encode())
    with pytest.raises(DataError, match=f":2: .*{problem}"):
        read_sts_tsv(path)


def test_sts_csv_with_quotes(tmp_path):
    path = write(tmp_path / "s.csv", b'"A, quoted",plain,2.5\nx,y,0\n')
    items = read_sts_csv(path)
    assert items[0].s1 == "A, quoted" and items[0].score == 2.5 and items[1].score == 0.0


def test_sts_csv_wrong_field_count(tmp_path):
    path = write(tmp_path / "s.csv", b"a,b,1\na,b\n")
    with pytest.raises(DataError, match="s.csv:2: expected 3 comma-separated fields, found 2"):
        read_sts_csv(path)


def test_blank_lines_are_skipped_in_every_reader_and_a_byte_order_mark_is_no_text(tmp_path):
    """Issue 22, item 10: TSV, JSONL and line-aligned files treat a blank line alike (skipped), and a UTF-8
    BOM (as Windows editors save) is not glued to the first sentence."""
    from harness.core.data import DataError, read_jsonl_pairs

    bom = b"\xef\xbb\xbf"
    tsv = tmp_path / "pairs.tsv"
    tsv.write_bytes(bom + "Hello\tHallo\n\nBye\tTschüss\n".encode())
    assert read_pairs(tsv) == [("Hello", "Hallo"), ("Bye", "Tschüss")]
    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_bytes(bom + b'["Hello", "Hallo"]\n\n["Bye", "Tsch\\u00fcss"]\n')
    assert read_jsonl_pairs(jsonl) == [("Hello", "Hallo"), ("Bye", "Tschüss")]
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(bom + b"one\n\ntwo\n")
    b.write_bytes(b"eins\n \nzwei\n")
    assert read_aligned(a, b) == (["one", "two"], ["eins", "zwei"])  # blank in both: skipped together
    sts = tmp_path / "sts.tsv"
    sts.write_bytes(bom + b"a b\tc d\t1.0\n\ne f\tg h\t2.0\n")
    assert [p.s1 for p in read_sts_tsv(sts)] == ["a b", "e f"]
    b.write_bytes(b"eins\n \nzwei\n\n\n")  # blank lines that end one file only: nothing to shift
    assert read_aligned(a, b) == (["one", "two"], ["eins", "zwei"])
    from harness.core.data import read_json

    document = tmp_path / "squad.json"
    document.write_bytes(bom + b'{"data": []}')
    assert read_json(document) == {"data": []}
    b.write_bytes(b"eins\nmitte\nzwei\n")  # blank on one side only: every later pair would shift
    with pytest.raises(DataError, match=r"a\.txt:2: empty line, where b\.txt has a sentence"):
        read_aligned(a, b)
