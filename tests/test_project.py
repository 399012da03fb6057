"""The project's promises to a newcomer: README commands, CI, demo, examples, benchmark."""
import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import sklloss

from demo_output import check_demo_output
from loss_lists import CLASSIFIER, REGRESSOR

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(*parts):
    with open(os.path.join(ROOT, *parts)) as f:
        return f.read()


def _quick_start_commands():
    section = _read("README.md").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)


def test_readme_quick_start_has_two_commands_and_ci_runs_the_test_one():
    commands = _quick_start_commands()
    assert commands == ['pip install . && python -m sklloss',
                        'pip install ".[test]" && python -m pytest']
    ci_lines = _read(".ci", "run").splitlines()
    assert commands[1] in ci_lines  # exactly, as a line of its own


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    """Every ```python block of the README runs, in order, in one namespace (later
    blocks may use what earlier ones defined, as a reader would), in an empty
    directory. (The user guide's blocks: tests/test_docs.py.)"""
    blocks = re.findall(r"^( *)```python\n(.*?)\n *```", _read("README.md"),
                        flags=re.S | re.M)
    assert len(blocks) >= 1
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for _, block in blocks:
        code = textwrap.dedent(block)
        exec(compile(code, "README.md", "exec"), namespace)
    assert "search" in namespace  # the drop-in block's GridSearchCV


def test_readme_links_lead_to_files():
    """The README is the front page: its relative links (into docs/, benchmarks/,
    examples/) lead to files of the repository, and its anchors to its headings."""
    readme = _read("README.md")
    links = re.findall(r"\]\(([^)]+)\)", readme)
    assert any(link.startswith("docs/user_guide/") for link in links)
    headings = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                for h in re.findall(r"^#+ (.*)$", readme, flags=re.M)}
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        path, _, anchor = link.partition("#")
        if not path:
            assert anchor in headings, link
        else:
            assert os.path.exists(os.path.join(ROOT, path)), link


def test_readme_benchmark_rows_are_the_recorded_ones():
    """The numbers on the front page are those the benchmark scripts recorded: every
    table row of the README is a row of the results file its table cites, verbatim."""
    readme = _read("README.md")
    tables = re.findall(r"\(benchmarks/results/(\w+\.md)\):\n\n((?:\|.*\n)+)", readme)
    assert len(tables) >= 2
    for name, table in tables:
        recorded = set(_read("benchmarks", "results", name).splitlines())
        rows = table.splitlines()
        assert len(rows) >= 3, name
        for row in rows[:1] + rows[2:]:  # the header and the rows (not the alignments)
            assert row in recorded, (name, row)


def test_demo_runs():
    result = subprocess.run([sys.executable, "-m", "sklloss"], capture_output=True,
                            text=True, timeout=300, cwd=os.path.dirname(ROOT))
    assert result.returncode == 0, result.stderr
    check_demo_output(result.stdout)


def test_search_benchmark_quick_smoke():
    """benchmarks/search.py --quick runs end to end: a row per case, and in every row
    sklloss's search gave the cv_results_ of scikit-learn's over the same estimator
    (its exit status says so too; no timing is asserted)."""
    script = os.path.join(ROOT, "benchmarks", "search.py")
    result = subprocess.run([sys.executable, script, "--quick"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines()
            if line.startswith("| demo") or line.startswith("| dense")
            or line.startswith("| CSR")]
    assert len(rows) == 3 + 5 * 2, result.stdout  # the demo's 3, 5 grids x n_jobs 1, 2
    assert all(row.rstrip().endswith("| yes |") for row in rows), result.stdout


def test_search_floor_benchmark_quick_smoke():
    """benchmarks/search_floor.py --quick runs end to end: a row per case, whose parts
    are parts of the search (the fused fits within its time, the rows taken within the
    fits, the floor below the ratio), and a row per loss (no timing is asserted)."""
    script = os.path.join(ROOT, "benchmarks", "search_floor.py")
    result = subprocess.run([sys.executable, script, "--quick"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    cases = [[float(v) for v in line.split("|")[2:-1]] for line in result.stdout.splitlines()
             if line.startswith("| dense") or line.startswith("| CSR")]
    assert len(cases) == 4, result.stdout
    for theirs, ours, ratio, fits, rows, scoring, rest, floor in cases:
        assert 0 <= rows < fits < ours and 0 < scoring < ours  # (2 decimals)
        assert abs(ours - fits - scoring - rest) < 0.025 and 0 < floor < ratio
    losses = [line for line in result.stdout.splitlines()
              if line.split("|")[1:2] in ([" hinge "], [" log_loss "], [" modified_huber "])]
    assert len(losses) == 3, result.stdout


def test_loss_benchmark_smoke():
    """The benchmark script runs end to end on tiny data (no timing is asserted)."""
    script = os.path.join(ROOT, "benchmarks", "bench_losses.py")
    result = subprocess.run(
        [sys.executable, script, "--n", "20000", "--repeats", "1", "--no-save"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 5 * 2 * 3  # header + losses x dtypes x methods


def test_glm_benchmark_quick_smoke():
    """benchmarks/glm.py --quick runs end to end: a row per size for each model, the
    streamed line, the exact solvers' own ratio 1 to themselves (no timing asserted)."""
    script = os.path.join(ROOT, "benchmarks", "glm.py")
    result = subprocess.run([sys.executable, script, "--quick", "--no-save"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if re.match(r"^\| [\d,]+ \|", line)]
    assert len(rows) == 4, result.stdout
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[4] == "1.0000"  # the exact solver is the reference where it runs
        assert 0.9 < float(cells[8]) < 1.2  # sklloss's held-out loss / the reference's
    assert result.stdout.count("Streamed from disk") == 2


def test_sgd_benchmark_quick_smoke(tmp_path):
    """benchmarks/run.py --quick runs end to end and writes its table and plot (no
    timing is asserted: speed is the benchmark's business, not the tests')."""
    script = os.path.join(ROOT, "benchmarks", "run.py")
    result = subprocess.run([sys.executable, script, "--quick", "--repeats", "1",
                             "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "sgd_quick.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| W")]
    assert len(rows) == 18  # W1 x2, W2 x2, W3, W4 x2 n_jobs, W5 x2; float64 and float32
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        # numbers in every cell (their values are timings: not asserted)
        assert len(cells) == 7
        assert all(float(value) >= 0 for value in cells[1:4])
        for pair in cells[4:]:
            ours, theirs = (float(value) for value in pair.split(" / "))
    assert (tmp_path / "sgd_quick_scaling.png").stat().st_size > 10_000


@pytest.mark.skipif(platform.machine() != "x86_64" or shutil.which("objdump") is None,
                    reason="reads x86-64 machine code with objdump")
def test_the_engine_keeps_its_prefetches():
    # GCC 12 once deleted every prefetch of the epoch as dead code (a function made
    # of prefetches only was found "const"): epochs ran 3x slower, and no result
    # changed. The compiled engine must hold prefetch instructions.
    from sklloss.linear_model import _engine

    code = subprocess.run(["objdump", "-d", _engine.__file__], capture_output=True,
                          text=True, check=True).stdout
    assert code.count("prefetcht0") >= 50


def test_pxd_files_ship_with_the_installed_package():
    include = sklloss.get_include()
    assert os.path.isfile(os.path.join(include, "sklloss", "losses", "_kernels.pxd"))


def test_the_kernels_c_is_in_header_files():
    """C is written in .h files (declared in the .pyx/.pxd files), not in Python string
    literals; the one exception is the public _kernels.pxd, whose cimporters build
    with Cython's include path only (a header would need a C include path too)."""
    literals, headers = [], []
    for directory, _, names in os.walk(os.path.join(ROOT, "sklloss")):
        for name in names:
            path = os.path.relpath(os.path.join(directory, name), ROOT)
            if name.endswith((".pyx", ".pxd", ".pxi")) and name != "_kernels.pxd":
                if "cdef extern from *" in _read(path):
                    literals.append(path)
                headers += re.findall(r'cdef extern from "(sklloss/[\w/]+\.h)"', _read(path))
    assert literals == []
    assert headers and all(os.path.isfile(os.path.join(ROOT, h)) for h in headers)
    # and the installed package carries them, beside the .pxd files that name them
    for header in headers:
        assert os.path.isfile(os.path.join(sklloss.get_include(), header))


def test_gradient_descent_example_reaches_scikit_learns_solution():
    import importlib.util

    path = os.path.join(ROOT, "examples", "gradient_descent_logistic.py")
    spec = importlib.util.spec_from_file_location("gradient_descent_logistic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() < 1e-4  # same coefficients as LogisticRegression's lbfgs


def test_multinomial_benchmark_fast_smoke(tmp_path):
    """benchmarks/multinomial_vs_ovr.py --fast runs and writes both tables."""
    script = os.path.join(ROOT, "benchmarks", "multinomial_vs_ovr.py")
    result = subprocess.run([sys.executable, script, "--fast", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "multinomial_vs_ovr_fast.md").read_text()
    per_loss = re.findall(r"^\| (\w+) \(\d+ classes\) \| `(\w+)` \| ([0-9.]+) ± ", table,
                          flags=re.M)
    assert [(name, loss) for name, loss, _ in per_loss] == [
        (name, loss) for name in ("digits", "wine", "synthetic")
        for loss in ("log_loss", "multinomial_log_loss")]
    assert len(re.findall(r"^\| \w+ \(\d+ classes\) \| [-+]", table, flags=re.M)) == 3


def test_overhead_benchmark_smoke(tmp_path):
    """benchmarks/overhead.py runs every case end to end and writes its table (one
    round; no timing is asserted)."""
    script = os.path.join(ROOT, "benchmarks", "overhead.py")
    result = subprocess.run([sys.executable, script, "--quick", "--rounds", "1",
                             "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "overhead_quick.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| `")
            or line.startswith("| demo")]
    assert len(rows) == 15 + 9 + 12 + 6 + 6  # fit, partial_fit, predictions, other, demo
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert float(cells[3]) > 0  # the ratio (its value is a timing: not asserted)


def test_onnx_agreement_report(tmp_path):
    """benchmarks/onnx_agreement.py runs the ONNX tests and reports, for every loss of
    every estimator and every run, a difference it recorded within the tolerance."""
    script = os.path.join(ROOT, "benchmarks", "onnx_agreement.py")
    result = subprocess.run([sys.executable, script, "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    table = (tmp_path / "onnx_agreement.md").read_text()
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+) \| ([^|]*) \| ([^|]*) \| ([^|]*) \|$", table,
                      flags=re.M)
    cells = {(estimator, loss): runs for estimator, loss, *runs in rows[1:]}  # (a header)
    expected = ([("SGDClassifier", loss) for loss in CLASSIFIER]
                + [("SGDRegressor", loss) for loss in REGRESSOR]
                + [("Perceptron", "perceptron"), ("SGDOneClassSVM", "hinge (one-class)")])
    for key in expected:
        runs = cells[key]
        assert all(run.strip() for run in runs), key  # (float32, float64 in float32, float64)
        for run in runs:
            difference, tolerance = re.fullmatch(r"\s*(\S+) \((\S+)\)\s*", run).groups()
            assert 0 <= float(difference) <= float(tolerance), (key, run)
