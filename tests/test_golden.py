"""Golden results for the deterministic hash encoder: any change in a metric fails this gate."""

from pathlib import Path

from harness.app.cli import main
from harness.results.compare import compare

GOLDEN = Path(__file__).parent / "golden" / "runs"


def test_hash_encoder_reproduces_golden_results(data_env, tmp_path, capsys):
    assert main(["eval", "--model", "hash", "--langs", "de,fr", "--results-dir", str(tmp_path), "--no-progress"]) == 0
    result = compare(GOLDEN, tmp_path, tolerance=1e-4, metrics="all")
    assert len(result.table) == 100  # every metric of all 22 pairs was compared
    assert result.tests == 76  # with evidence: 14 STS x 2, 4 mining x 8 accuracies and errors, 4 retrieval x 4
    assert result.exit_code == 0, result.regressions.to_string()
    assert (result.table["change"] == 0).all()
    assert main(["compare", "--baseline", str(GOLDEN), "--candidate", str(tmp_path), "--tolerance", "0.0001",
                 "--metrics", "all"]) == 0
