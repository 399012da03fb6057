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


def check_online_novelty(stdout):
    found = {}
    for name in ("sklloss Nystroem + SGDOneClassSVM", "OneClassSVM (RBF kernel)"):
        row = re.search(rf"^{re.escape(name)}: training rows outside {NUMBER}, regular test "
                        rf"rows flagged {NUMBER}, novelties accepted {NUMBER}$", stdout,
                        flags=re.M)
        assert row, stdout
        found[name] = [float(value) for value in row.groups()]
    nu = float(re.search(rf"nu={NUMBER}", stdout).group(1))
    for name, (train, test, novel) in found.items():
        # nu bounds the training errors (up to the stream's noise); regular rows are
        # accepted about as often, and most novelties (uniform around the blobs) flagged
        assert train <= 2 * nu and test <= 3 * nu and novel < 0.3, (name, stdout)
    agree = float(re.search(rf"^the two models agree on {NUMBER} of the plane", stdout,
                            flags=re.M).group(1))
    assert agree > 0.9, stdout
    timings = re.findall(rf"^fit time n=(\d+): OneClassSVM {NUMBER} ms, sklloss pipeline "
                         rf"{NUMBER} ms, scikit-learn pipeline {NUMBER} ms$", stdout,
                         flags=re.M)
    assert len(timings) >= 3 and all(float(t) > 0 for row in timings for t in row[1:]), stdout


SCHEDULES = ("optimal", "constant", "invscaling", "adaptive")


def check_learning_curves(stdout):
    epochs = re.search(r"^loss_curve_ with tol=None, max_iter=(\d+):", stdout, flags=re.M)
    assert epochs, stdout
    epochs = int(epochs.group(1))
    # one loss_curve_ per schedule: one finite value per epoch (NUMBER matches no nan/inf)
    curves = re.findall(rf"^  (\w+) +(\d+) values, n_iter_ (\d+): first {NUMBER}, "
                        rf"last {NUMBER}, min {NUMBER}, last - F\* {NUMBER}$",
                        stdout, flags=re.M)
    assert tuple(row[0] for row in curves) == SCHEDULES, stdout
    for name, n_values, n_iter, *values in curves:
        assert int(n_values) == int(n_iter) == epochs, (name, stdout)
        first, last, smallest, _ = map(float, values)
        assert smallest <= min(first, last), (name, stdout)
    # with early stopping: one validation score per epoch run, the best one an accuracy
    stopped = re.findall(rf"^  (\w+) +(\d+) values, n_iter_ (\d+): best_validation_score_ "
                         rf"{NUMBER} at epoch (\d+), last {NUMBER}$", stdout, flags=re.M)
    assert tuple(row[0] for row in stopped) == SCHEDULES, stdout
    for name, n_values, n_iter, best, best_epoch, last in stopped:
        assert int(n_values) == int(n_iter) >= int(best_epoch) >= 1, (name, stdout)
        assert 0 <= float(last) <= float(best) <= 1, (name, stdout)
    # a ratio for every timing row, binary and one-vs-rest (its value is not a test matter)
    timings = re.findall(rf"^  (binary|10-class OvR) +(\d+) samples: sklloss +{NUMBER} ms, "
                         rf"scikit-learn +{NUMBER} ms, ratio sklloss/scikit-learn {NUMBER}$",
                         stdout, flags=re.M)
    assert {row[0] for row in timings} == {"binary", "10-class OvR"}, stdout
    assert len(timings) >= 4, stdout
    assert all(float(row[4]) > 0 for row in timings), stdout


def check_multinomial(stdout):
    scores = {}
    for name in ("one-vs-rest", "multinomial"):
        row = re.search(rf"^{name} .*: held-out log loss {NUMBER}, accuracy {NUMBER}; "
                        rf"recall A {NUMBER}, B {NUMBER}, C {NUMBER}$", stdout, flags=re.M)
        assert row, (name, stdout)
        scores[name] = [float(value) for value in row.groups()]
    ovr_log_loss, ovr_accuracy, _, ovr_recall_b, _ = scores["one-vs-rest"]
    log_loss, accuracy, _, recall_b, _ = scores["multinomial"]
    # the softmax model is better where one-vs-rest is known to fail (the held-out log
    # losses are about 0.33 and 0.19), most of all on the middle class
    assert log_loss < ovr_log_loss - 0.05, stdout
    assert accuracy > ovr_accuracy, stdout
    assert recall_b > ovr_recall_b + 0.2, stdout
    # why: one-vs-rest's "B vs rest" model is almost flat
    flat = re.search(rf"^one-vs-rest 'B vs rest' sigmoid over all the points: {NUMBER} to "
                     rf"{NUMBER}", stdout, flags=re.M)
    assert flat and float(flat.group(2)) - float(flat.group(1)) < 0.1, stdout


def check_out_of_core(stdout):
    for name in ("dense", "CSR"):
        sizes = re.search(rf"^{name}: file {NUMBER} MB .* chunks of {NUMBER} MB .*: (\d+) "
                          rf"chunks per pass, (\d+) passes, {NUMBER} MB streamed",
                          stdout, flags=re.M)
        memory = re.search(rf"^{name} streamed: peak RssAnon growth {NUMBER} MB .*; "
                           rf"tracemalloc peak per partial_fit call {NUMBER} MB",
                           stdout, flags=re.M)
        in_memory = re.search(rf"^{name} in-memory fit: RssAnon growth {NUMBER} MB",
                              stdout, flags=re.M)
        accuracy = re.search(rf"^{name} held-out accuracy: streamed {NUMBER} \(\d+ passes\), "
                             rf"in-memory fit {NUMBER}$", stdout, flags=re.M)
        assert sizes and memory and in_memory and accuracy, (name, stdout)
        file, chunk, n_chunks, passes, streamed = map(float, sizes.groups())
        rss_peak, traced_peak = map(float, memory.groups())
        # a file of many chunks, streamed several times
        assert n_chunks >= 15 and file >= 15 * chunk and streamed >= 2 * file, (name, stdout)
        # the chunks are read where they are, in the file's pages: the process's own
        # memory and what the calls allocate stay below a chunk's size or so (no copy
        # of a chunk, let alone of the file), while a fit in memory holds the file
        assert traced_peak < chunk, (name, stdout)
        assert rss_peak < min(3 * chunk, file / 5), (name, stdout)
        assert float(in_memory.group(1)) > 0.9 * file, (name, stdout)
        # and the streamed model is as good as the one fitted in memory
        streamed_accuracy, memory_accuracy = map(float, accuracy.groups())
        assert streamed_accuracy > 0.8, (name, stdout)
        assert abs(streamed_accuracy - memory_accuracy) < 0.03, (name, stdout)


def check_dask_incremental(stdout):
    assert re.search(r"^cluster: 2 workers at tcp://", stdout, flags=re.M), stdout
    incremental = re.search(rf"^Incremental: \d+ passes in .*held-out accuracy {NUMBER}",
                            stdout, flags=re.M)
    assert incremental and float(incremental.group(1)) > 0.9, stdout
    predicted = re.search(rf"^ParallelPostFit: predicted .* training accuracy {NUMBER}, "
                          r"probability rows sum to 1: True$", stdout, flags=re.M)
    assert predicted and float(predicted.group(1)) > 0.9, stdout
    search = re.search(rf"^GridSearchCV on the dask backend .* 10 candidates x 3 folds .*"
                       rf"\(cv accuracy {NUMBER}\)$", stdout, flags=re.M)
    assert search and float(search.group(1)) > 0.9, stdout


def check_adaptive_steps(stdout):
    rows = re.findall(rf"^  (\w+) +after 1 epoch {NUMBER}, after \d+ epochs {NUMBER}$",
                      stdout, flags=re.M)
    gaps = {name: float(last) for name, _, last in rows}
    assert set(gaps) == {"optimal", "invscaling", "adagrad", "normalized_adagrad"}, stdout
    # the per-coordinate schedules end close to the optimum, 'optimal' (alpha 1e-4) far above
    assert max(gaps["adagrad"], gaps["normalized_adagrad"]) < 0.05 < gaps["optimal"], stdout
    accuracy = {name: float(last) for name, _, last in re.findall(
        rf"^  (.*?): after 1 epoch {NUMBER}, after \d+ epochs {NUMBER}$", stdout, flags=re.M)}
    nag = accuracy["sklloss normalized_adagrad, raw features"]
    assert nag > accuracy["scikit-learn SGDClassifier, raw features"] + 0.05, stdout
    assert nag > accuracy["scikit-learn StandardScaler + SGDClassifier"] - 0.03, stdout


def check_insurance_and_intervals(stdout):
    # sklloss reaches the GLMs' optimum: the same held-out deviance as scikit-learn's
    for name, deviance in (("frequency", "Poisson"), ("severity", "Gamma")):
        row = re.search(rf"^{name}: held-out {deviance} deviance sklloss {NUMBER}, "
                        rf"scikit-learn {NUMBER} \(ratio {NUMBER}\)$", stdout, flags=re.M)
        assert row, (name, stdout)
        sklloss_deviance, sklearn_deviance, _ = map(float, row.groups())
        assert 1 / 1.02 < sklloss_deviance / sklearn_deviance < 1.02, (name, stdout)
        assert re.search(rf"^{name}: fit time sklloss {NUMBER} s, scikit-learn {NUMBER} s$",
                         stdout, flags=re.M), (name, stdout)
    # each quantile model has a held-out share q of the targets below it
    coverages = {float(q): float(c) for q, c in re.findall(
        rf"^quantile {NUMBER}: coverage {NUMBER}$", stdout, flags=re.M)}
    assert set(coverages) == {0.05, 0.5, 0.95}, stdout
    assert all(abs(c - q) < 0.03 for q, c in coverages.items()), stdout
    interval = re.search(rf"^90% interval coverage {NUMBER}$", stdout, flags=re.M)
    assert interval and abs(float(interval.group(1)) - 0.90) < 0.04, stdout
    # the Tweedie search: one CV row per power, and one of them chosen
    table = re.findall(rf"^ *{NUMBER} +{NUMBER} +{NUMBER}$", stdout, flags=re.M)
    assert [float(row[0]) for row in table] == [1.2, 1.5, 1.8], stdout
    chosen = re.search(rf"^tweedie power chosen by CV: {NUMBER}$", stdout, flags=re.M)
    assert chosen and float(chosen.group(1)) in (1.2, 1.5, 1.8), stdout


EXAMPLES = [
    ("plot_loss_functions.py", "plot_loss_functions.png", check_loss_functions),
    ("plot_robust_regression.py", "plot_robust_regression.png", check_robust_regression),
    ("minimize_with_loss_kernels.py", None, check_minimize),
    ("plot_learning_curves.py", "plot_learning_curves.png", check_learning_curves),
    ("plot_multinomial.py", "plot_multinomial.png", check_multinomial),
    ("plot_out_of_core.py", "plot_out_of_core.png", check_out_of_core),
    ("dask_incremental.py", None, check_dask_incremental),
    ("plot_adaptive_steps.py", "plot_adaptive_steps.png", check_adaptive_steps),
    ("plot_insurance_and_intervals.py", "plot_insurance_and_intervals.png",
     check_insurance_and_intervals),
    ("plot_online_novelty.py", "plot_online_novelty.png", check_online_novelty),
]


def run_example(script, out_dir, writes_figure=True):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONIOENCODING="utf-8")
    out = ["--out", str(out_dir)] if writes_figure else []
    result = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES_DIR, script), "--fast", *out],
        cwd=out_dir, env=env, capture_output=True, encoding="utf-8", timeout=120,
    )
    assert result.returncode == 0, (
        f"{script} exited with {result.returncode}\n--- stdout\n{result.stdout}"
        f"\n--- stderr\n{result.stderr}")
    return result.stdout


@pytest.mark.parametrize("script, png, check", EXAMPLES, ids=[row[0] for row in EXAMPLES])
def test_example_runs(script, png, check, tmp_path):
    stdout = run_example(script, tmp_path, writes_figure=png is not None)
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ([png] if png else []), written
    if png:
        data = (tmp_path / png).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 10_000, f"{png} is only {len(data)} bytes"
    check(stdout)


def test_every_example_is_run():
    # (gradient_descent_logistic.py has its own test in test_project.py)
    scripts = {name for name in os.listdir(EXAMPLES_DIR) if name.endswith(".py")}
    assert scripts - {"gradient_descent_logistic.py"} == {row[0] for row in EXAMPLES}
