"""The project's promises to a newcomer: README commands, CI, demo, examples, benchmark."""
import doctest
import os
import re
import subprocess
import sys

import sklloss
from sklloss.losses import _loss

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


def test_readme_example_runs():
    readme = _read("README.md")
    example = re.search(r"## Example\n\n```python\n(.*?)\n```", readme, flags=re.S).group(1)
    exec(compile(example, "README.md", "exec"), {})


def test_docstring_examples():
    failures, tried = doctest.testmod(_loss, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 10 and failures == 0


def test_demo_runs():
    result = subprocess.run([sys.executable, "-m", "sklloss"], capture_output=True,
                            text=True, timeout=300, cwd=os.path.dirname(ROOT))
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    for data_set in ("diabetes", "breast", "digits"):
        libraries = {row[2 if data_set != "breast" else 3] for row in rows
                     if row and row[0] == data_set and len(row) > 4}
        assert libraries == {"scikit-learn", "sklloss"}, (data_set, result.stdout)
    # binary and regression fits follow scikit-learn's path: the same chosen loss and score
    for data_set in ("diabetes", "breast"):
        scores = {tuple(row[-5:-2]) for row in rows if row and row[0] == data_set
                  and len(row) > 4}
        assert len(scores) == 1, result.stdout


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
    assert len(rows) == 14  # W1 x2, W2 x2, W3, W4 x2 n_jobs; float64 and float32
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        # numbers in every cell (their values are timings: not asserted)
        assert len(cells) == 7
        assert all(float(value) >= 0 for value in cells[1:4])
        for pair in cells[4:]:
            ours, theirs = (float(value) for value in pair.split(" / "))
    assert (tmp_path / "sgd_quick_scaling.png").stat().st_size > 10_000


def test_pxd_files_ship_with_the_installed_package():
    include = sklloss.get_include()
    assert os.path.isfile(os.path.join(include, "sklloss", "losses", "_kernels.pxd"))


def test_gradient_descent_example_reaches_scikit_learns_solution():
    import importlib.util

    path = os.path.join(ROOT, "examples", "gradient_descent_logistic.py")
    spec = importlib.util.spec_from_file_location("gradient_descent_logistic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() < 1e-4  # same coefficients as LogisticRegression's lbfgs
