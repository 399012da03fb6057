"""scikit-learn's own tests of its SGD estimators, pointed at sklloss's.

The installed scikit-learn ships sklearn/linear_model/tests/test_sgd.py. This test
copies it, makes every use of ``linear_model.SGDClassifier`` / ``SGDRegressor`` use
sklloss's classes instead (SGDOneClassSVM and the private loss tests stay on
scikit-learn, they are not ours), and runs it in a subprocess.

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


def _sklearn_test_sgd():
    spec = importlib.util.find_spec("sklearn.linear_model.tests.test_sgd")
    if spec is None or spec.origin is None:
        pytest.skip("this scikit-learn installation does not ship its tests")
    with open(spec.origin, encoding="utf-8") as f:
        return f.read()


def test_sklearn_sgd_test_suite_passes_on_sklloss(tmp_path):
    source = _sklearn_test_sgd()
    adapted, n = re.subn(r"\blinear_model\.(SGDClassifier|SGDRegressor)\b",
                         r"sklloss.\1", source)
    assert n >= 10, "scikit-learn's test_sgd.py no longer has the expected shape"
    adapted = "import sklloss\n" + adapted
    (tmp_path / "test_sgd_on_sklloss.py").write_text(adapted, encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    deselect = [f"--deselect=test_sgd_on_sklloss.py::{name}" for name in PRIVATE_INTERNALS]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
         "-W", "ignore::DeprecationWarning", *deselect, "test_sgd_on_sklloss.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\d{3} passed", summary), summary
