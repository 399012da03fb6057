"""benchmarks/out_of_core.py --quick runs end to end and writes its table (no timing or
memory figure is asserted: they are the benchmark's business, not the tests')."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ["SGDClassifier dense", "SGDRegressor dense", "SGDClassifier CSR",
         "SGDRegressor CSR"]


def test_out_of_core_benchmark_quick_smoke(tmp_path):
    script = os.path.join(ROOT, "benchmarks", "out_of_core.py")
    result = subprocess.run([sys.executable, script, "--quick", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # the table, and nothing else: the data files were written to a temporary
    # directory and deleted
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out_of_core_quick.md"]
    table = (tmp_path / "out_of_core_quick.md").read_text()
    lines = table.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| case |"))
    assert len(lines[header].strip("|").split("|")) == 10, lines[header]
    rows = [line for line in lines[header + 2:] if line.startswith("| ")]
    assert [row.strip("|").split("|")[0].strip() for row in rows] == CASES, table
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 10, row
        data, chunk, ours_ms, theirs_ms, ratio = map(float, cells[1:6])
        assert data > 0 and 0 < chunk < data and ours_ms > 0 and theirs_ms > 0, row
        assert ratio > 0, row
        for pair in cells[6:]:  # ours / scikit-learn: numbers both
            ours, theirs = (float(value) for value in pair.split(" / "))
            assert ours == ours and theirs == theirs, row  # (not NaN)
        ours_score, theirs_score = (float(value) for value in cells[9].split(" / "))
        assert 0 < ours_score <= 1 and 0 < theirs_score <= 1, row
