"""scikit-learn's own tests of its SGD estimators, pointed at sklloss's.

The installed scikit-learn ships sklearn/linear_model/tests/test_sgd.py and
test_perceptron.py. These tests copy them, make every use of
``linear_model.SGDClassifier`` / ``SGDRegressor`` / ``SGDOneClassSVM`` (test_sgd.py) and
of ``Perceptron`` (test_perceptron.py) use sklloss's classes instead (only the tests of
scikit-learn's private loss objects and its kernel ``sklearn.svm.OneClassSVM``, the
reference of some one-class tests, stay on scikit-learn), and run them in a subprocess.

Deselected, because they reach into scikit-learn's private implementation rather than
its public behaviour and cannot apply to another one:
- test_validation_mask_correctly_subsets mocks
  ``sklearn.linear_model._stochastic_gradient._ValidationScoreCallback``.
"""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

PRIVATE_INTERNALS = ["test_validation_mask_correctly_subsets"]

CONFTEST = '''
from sklearn.conftest import pytest_generate_tests  # noqa: F401  (global_random_seed)


def pytest_configure(config):
    config.addinivalue_line("markers", "no_check_spmatrix: scikit-learn's marker")
'''


def _sklearn_test_source(module="test_sgd"):
    spec = importlib.util.find_spec(f"sklearn.linear_model.tests.{module}")
    if spec is None or spec.origin is None:
        pytest.skip("this scikit-learn installation does not ship its tests")
    with open(spec.origin, encoding="utf-8") as f:
        return f.read()


def _run_adapted(tmp_path, name, adapted, deselected=()):
    """Run the adapted test module `name` in a subprocess; returns pytest's summary
    line, after asserting that every test passed."""
    (tmp_path / name).write_text(adapted, encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    deselect = [f"--deselect={name}::{test}" for test in deselected]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
         "-W", "ignore::DeprecationWarning", *deselect, name],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed" not in summary and "error" not in summary, summary
    return summary


def test_sklearn_sgd_test_suite_passes_on_sklloss(tmp_path):
    source = _sklearn_test_source("test_sgd")
    adapted, n = re.subn(r"\blinear_model\.(SGDClassifier|SGDRegressor|SGDOneClassSVM)\b",
                         r"sklloss.\1", source)
    assert n >= 10, "scikit-learn's test_sgd.py no longer has the expected shape"
    assert not re.search(r"\blinear_model\.SGD", adapted)
    adapted = "import sklloss\n" + adapted
    summary = _run_adapted(tmp_path, "test_sgd_on_sklloss.py", adapted, PRIVATE_INTERNALS)
    assert re.search(r"\d{3} passed", summary), summary


def test_sklearn_perceptron_test_suite_passes_on_sklloss(tmp_path):
    source = _sklearn_test_source("test_perceptron")
    adapted, n = re.subn(r"^from sklearn\.linear_model import Perceptron$",
                         "from sklloss import Perceptron", source, flags=re.MULTILINE)
    assert n == 1, "scikit-learn's test_perceptron.py no longer has the expected shape"
    summary = _run_adapted(tmp_path, "test_perceptron_on_sklloss.py", adapted)
    # (its tests, the containers parametrised: 7 in scikit-learn 1.9)
    assert re.search(r"\b[5-9] passed|\d\d passed", summary), summary
