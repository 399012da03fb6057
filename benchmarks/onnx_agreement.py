"""How closely onnxruntime's outputs follow sklloss's own methods, per estimator x loss.

This runs the ONNX tests themselves (tests/test_onnx.py, so the cases are the tests'
and exist once) with a plugin that records, for every comparison the tests make with
their ``_close``, the largest difference in the measure the tolerance bounds:
``|onnx - sklloss| / max(1, |sklloss|)`` (absolute below magnitude 1, relative above).
It writes one row per estimator x loss and run (float32 model in float32,
float64 model in float32, float64 model in float64), the worst over the binary and
multi-class cases and over the outputs compared (scores, probabilities, predictions),
with the tolerance the test asserts. Needs the `onnx` extra.

    python benchmarks/onnx_agreement.py    # about 10 s; writes results/onnx_agreement.md
    python benchmarks/onnx_agreement.py --out DIR    # writes DIR/onnx_agreement.md
"""
import argparse
import collections
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
ESTIMATORS = {  # test function -> what it converts
    "test_classifier_every_loss": "SGDClassifier",
    "test_perceptron": "Perceptron",
    "test_regressor_every_loss": "SGDRegressor",
    "test_one_class_svm": "SGDOneClassSVM",
    "test_classifier_loss_objects": "SGDClassifier (loss object)",
    "test_regressor_loss_objects": "SGDRegressor (loss object)",
    "test_classifier_in_pipeline": "StandardScaler + SGDClassifier",
    "test_regressor_in_pipeline": "StandardScaler + SGDRegressor",
    "test_nystroem_one_class_pipeline": "StandardScaler + Nystroem + SGDOneClassSVM",
    "test_nystroem_classifier_pipeline": "StandardScaler + Nystroem + SGDClassifier",
}


class Recorder:
    """Wraps test_onnx._close during each test; keeps the largest difference. The run
    (test_onnx.RUNS: its name and tolerance) is the one whose tolerance the test
    passes to ``_close``."""

    def __init__(self):
        self.worst = collections.defaultdict(float)  # (estimator, loss, run) -> difference
        self.runs = {}  # run name -> tolerance, in test_onnx.RUNS's order
        self.outcomes = collections.Counter()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        function = item.originalname
        if function not in ESTIMATORS:
            yield
            return
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        estimator, loss = ESTIMATORS[function], self._loss(function, params)
        module = item.module
        self.runs = {run.id: run.values[2] for run in module.RUNS}
        run_of = {tol: name for name, tol in self.runs.items()}
        close = module._close

        def recording_close(actual, expected, tol):
            actual = np.asarray(actual, dtype=np.float64)
            expected = np.asarray(expected, dtype=np.float64)
            difference = np.abs(actual - expected) / np.maximum(1, np.abs(expected))
            key = estimator, loss, run_of[tol]
            self.worst[key] = max(self.worst[key], float(difference.max()))
            close(actual, expected, tol)

        module._close = recording_close
        try:
            yield
        finally:
            module._close = close

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.outcomes[report.outcome] += 1

    @staticmethod
    def _loss(function, params):
        if function == "test_perceptron":
            return "perceptron"
        if function == "test_one_class_svm":
            return "hinge (one-class)"
        if function == "test_nystroem_one_class_pipeline":
            return f"hinge, {params['kernel']} kernel {params['params'] or ''}".rstrip()
        if function == "test_nystroem_classifier_pipeline":
            return "multinomial_log_loss"
        return str(params["loss"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=RESULTS, help="the folder of the report")
    out = parser.parse_args().out
    recorder = Recorder()
    code = pytest.main([os.path.join(ROOT, "tests", "test_onnx.py"), "-q",
                        "-p", "no:cacheprovider",
                        "-W", "ignore::sklearn.exceptions.ConvergenceWarning"],
                       plugins=[recorder])
    if code != 0:
        sys.exit(f"the ONNX tests failed (exit code {code}); no report written")
    runs = list(recorder.runs)
    rows = collections.defaultdict(dict)
    for (estimator, loss, run), difference in recorder.worst.items():
        rows[estimator, loss][run] = (difference, recorder.runs[run])
    lines = ["# ONNX agreement (benchmarks/onnx_agreement.py)", "",
             "Largest |onnxruntime - sklloss| / max(1, |sklloss|) over the outputs compared "
             "(labels are compared exactly; see tests/test_onnx.py), the worst of the binary "
             "and multi-class cases; in brackets, the tolerance the test asserts. "
             f"{recorder.outcomes['passed']} tests passed.", "",
             "| estimator | loss | " + " | ".join(runs) + " |",
             "|---|---|" + "---:|" * len(runs)]
    for (estimator, loss), by_run in rows.items():
        cells = [f"{by_run[run][0]:.1e} ({by_run[run][1]:.0e})" if run in by_run else ""
                 for run in runs]
        lines.append(f"| {estimator} | {loss} | " + " | ".join(cells) + " |")
    for run in runs:
        of_run = [(by_run[run][0], estimator, loss) for (estimator, loss), by_run in rows.items()
                  if run in by_run]
        difference, estimator, loss = max(of_run)
        lines.append("")
        lines.append(f"Largest, {run}: {difference:.1e} ({estimator}, {loss}).")
    with open(os.path.join(out, "onnx_agreement.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
