"""The examples in examples/ run end to end, as a user runs them, and show what they say.

Each runs as a subprocess with --fast, from a directory outside the source tree (so it
imports the installed sklloss), and writes its figure into a temporary directory. To
add an example, add a row to EXAMPLES: the script, the PNG it writes (or None), and a
function that checks its printed output.
"""
import os
import re
import subprocess
import sys

import pytest

from sklloss.losses import LOSSES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES_DIR = os.path.join(ROOT, "examples")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NUMBER = r"([-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?)"


def check_loss_functions(stdout):
    # every loss of sklloss.losses is drawn, whatever they are
    assert re.search(rf"^{len(LOSSES)} losses plotted", stdout, flags=re.M), stdout


def check_robust_regression(stdout):
    chosen = re.search(r"^chosen by CV median absolute error: (.*)$", stdout, flags=re.M)
    assert chosen and chosen.group(1).startswith("Huber"), stdout
    scores = re.search(rf"^clean test R²: chosen model {NUMBER}, squared error {NUMBER}",
                       stdout, flags=re.M)
    assert scores, stdout
    chosen_r2, squared_r2 = float(scores.group(1)), float(scores.group(2))
    # Huber is better where it counts (clean data), and close to the noise's ceiling
    assert chosen_r2 > squared_r2 and chosen_r2 > 0.9, stdout


def check_minimize(stdout):
    objective_gaps = [float(g) for g in re.findall(rf"objective gap {NUMBER}", stdout)]
    coef_gaps = [float(g) for g in re.findall(rf"coef gap {NUMBER}", stdout)]
    # two problems (Huber, log loss) x two estimators (sklloss, scikit-learn)
    assert len(objective_gaps) == len(coef_gaps) == 4, stdout
    assert all(-1e-10 < gap < 1e-5 for gap in objective_gaps), stdout
    assert all(gap < 2e-3 for gap in coef_gaps), stdout
    assert "All checks passed" in stdout


EXAMPLES = [
    ("plot_loss_functions.py", "plot_loss_functions.png", check_loss_functions),
    ("plot_robust_regression.py", "plot_robust_regression.png", check_robust_regression),
    ("minimize_with_loss_kernels.py", None, check_minimize),
]


def run_example(script, out_dir):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES_DIR, script), "--fast", "--out", str(out_dir)],
        cwd=out_dir, env=env, capture_output=True, encoding="utf-8", timeout=120,
    )
    assert result.returncode == 0, (
        f"{script} exited with {result.returncode}\n--- stdout\n{result.stdout}"
        f"\n--- stderr\n{result.stderr}")
    return result.stdout


@pytest.mark.parametrize("script, png, check", EXAMPLES, ids=[row[0] for row in EXAMPLES])
def test_example_runs(script, png, check, tmp_path):
    stdout = run_example(script, tmp_path)
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ([png] if png else []), written
    if png:
        data = (tmp_path / png).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 10_000, f"{png} is only {len(data)} bytes"
    check(stdout)


def test_every_plot_example_is_run():
    scripts = {name for name in os.listdir(EXAMPLES_DIR)
               if name.startswith("plot_") and name.endswith(".py")}
    assert scripts <= {row[0] for row in EXAMPLES}
