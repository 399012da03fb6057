"""ONNX export (sklloss.onnx): onnxruntime's outputs against the estimator's methods.

Independent truth: the fitted sklloss estimator's own ``predict``,
``decision_function``, ``predict_proba`` and ``score_samples``. Labels must be equal;
scores and probabilities within the issue's tolerances: 1e-5 for float32 models (fitted
on float32 X, run in float32) and 1e-4 for float64 models run in float32 (their
coefficients rounded to float32 in the graph), relative above magnitude 1 (float32
carries 7 digits: a predicted count of 300 is known to about 3e-5) and absolute below;
float64 graphs (float64 input) within 1e-12. The loss lists come from the registry
(tests/loss_lists.py).

Labels near a boundary: a label is decided by the sign of a score (two classes, the
one-class SVM) or by the largest of K scores; where that score is within the
tolerance of 0, or the top two within it of each other, the float32 graph's rounding
may decide it the other way, and nothing is wrong. So labels are compared, exactly, on
every row whose label the scores' tolerance decides (``_decided``), and the test
asserts that those are at least 95% of the rows: here they are all of them but in one
case (continuous draws rarely fall within 2e-4 of a boundary): the Nystroem
(sigmoid) one-class model run in float32 has one row of 200 within 2e-4 of 0. (The
one-class pipelines use nu=0.1: at nu=0.2 the linear-kernel model's decision
function is of magnitude 0.03, and 10 rows of 200 lay within 2e-4 of 0.)
"""
import os
import re
import textwrap

import numpy as np
import onnxruntime
import pytest
from skl2onnx import to_onnx
from sklearn.exceptions import NotFittedError
from sklearn.kernel_approximation import Nystroem
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklloss.onnx  # noqa: F401 (registers the converters)
from sklloss import Perceptron, SGDClassifier, SGDOneClassSVM, SGDRegressor
from sklloss.losses import LOSSES, BaseLink, Poisson, SquaredError

from loss_lists import CLASSIFIER, REGRESSOR

FLOAT32_TOL = 1e-5  # a float32 model run in float32
FLOAT64_IN_FLOAT32_TOL = 1e-4  # a float64 model run in float32
FLOAT64_TOL = 1e-12  # a float64 model run in float64
RUNS = [  # (the dtype the model is fitted on, the graph's input dtype, tolerance)
    pytest.param(np.float32, np.float32, FLOAT32_TOL, id="float32"),
    pytest.param(np.float64, np.float32, FLOAT64_IN_FLOAT32_TOL, id="float64-in-float32"),
    pytest.param(np.float64, np.float64, FLOAT64_TOL, id="float64"),
]
N_FEATURES = 6


def _blobs(n_classes, n_rows=150, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-3, 3, (n_classes, N_FEATURES))
    y = np.arange(n_rows) % n_classes
    return centers[y] + rng.randn(n_rows, N_FEATURES), y


def _run(onx, X, output_names=None):
    session = onnxruntime.InferenceSession(onx.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    return session.run(output_names, {session.get_inputs()[0].name: X})


def _close(actual, expected, tol):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=tol, atol=tol)


def _decided(decision, tol):
    """The rows whose label the scores decide when they are known within ``tol``
    (more than ``2 tol`` from a boundary); at least 95% of them."""
    decision = np.asarray(decision, dtype=np.float64)
    if decision.ndim == 1:
        margin = np.abs(decision)
    else:
        top_two = np.sort(decision, axis=1)[:, -2:]
        margin = top_two[:, 1] - top_two[:, 0]
    decided = margin > 2 * tol * np.maximum(1, np.abs(decision).max(axis=-1)
                                            if decision.ndim == 2 else np.abs(decision))
    assert decided.mean() >= 0.95
    return decided


def _equal_labels(actual, expected, decided):
    np.testing.assert_array_equal(np.asarray(actual)[decided], np.asarray(expected)[decided])


def _convert(model, X, **options):
    """The ONNX model of ``model``, a classifier's without ZipMap."""
    if hasattr(model, "classes_"):
        options = {"zipmap": False, **options}
    return to_onnx(model, X[:1], options={id(model): options})


def _has_proba(model):
    return hasattr(model, "predict_proba")


def _check_classifier(model, X, graph_dtype, tol, onnx_model=None):
    """Labels equal predict, probabilities predict_proba (where the loss has it), the
    scores decision_function (two classes: (-decision, decision), as skl2onnx's)."""
    final = model[-1] if hasattr(model, "steps") else model
    X_graph = X.astype(graph_dtype)
    decision = model.decision_function(X)
    decided = _decided(decision, tol)
    scores = decision if decision.ndim == 2 else np.column_stack([-decision, decision])
    options = {id(final): {"zipmap": False}}
    labels, second = _run(onnx_model or to_onnx(model, X_graph[:1], options=options),
                          X_graph)
    _equal_labels(labels, model.predict(X), decided)
    _close(second, model.predict_proba(X) if _has_proba(model) else scores, tol)
    options[id(final)]["raw_scores"] = True
    labels, raw = _run(to_onnx(model, X_graph[:1], options=options), X_graph)
    _equal_labels(labels, model.predict(X), decided)
    _close(raw, scores, tol)


def _classifier_cases(losses):
    return [(loss, n_classes) for loss in losses for n_classes in (2, 4)]


# -- every classification loss, binary and multi-class -------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # (squared_hinge)
@pytest.mark.parametrize("fit_dtype, graph_dtype, tol", RUNS)
@pytest.mark.parametrize("loss, n_classes", _classifier_cases(CLASSIFIER))
def test_classifier_every_loss(loss, n_classes, fit_dtype, graph_dtype, tol):
    X, y = _blobs(n_classes)
    X = X.astype(fit_dtype)
    labels = np.array([3, 7, 9, 11])[y]  # labels that are not the class indices
    # (alpha=1e-2: at 1e-3 the "optimal" steps of squared_epsilon_insensitive on these
    # unscaled blobs end at coefficients of 1e11 whose float32 dot products lose
    # their last digits to cancellation: a model nobody deploys)
    model = SGDClassifier(loss=loss, alpha=1e-2, random_state=0).fit(X, labels)
    assert _has_proba(model) == LOSSES[loss].link.gives_probabilities
    _check_classifier(model, X, graph_dtype, tol)


@pytest.mark.parametrize("fit_dtype, graph_dtype, tol", RUNS)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_perceptron(n_classes, fit_dtype, graph_dtype, tol):
    X, y = _blobs(n_classes)
    model = Perceptron(random_state=0).fit(X.astype(fit_dtype), y)
    _check_classifier(model, X.astype(fit_dtype), graph_dtype, tol)


def _regression_data(loss, n_rows=150, seed=0):
    """Targets the loss takes: a log-link loss's positive means, real ones otherwise."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n_rows, N_FEATURES)
    raw = X @ rng.uniform(-0.5, 0.5, N_FEATURES)
    if loss.interval_y_true.low >= 0:  # (counts, amounts: positive)
        return X, np.exp(raw + 1) * rng.uniform(0.5, 1.5, n_rows)
    return X, 3 * raw + rng.randn(n_rows)


@pytest.mark.parametrize("fit_dtype, graph_dtype, tol", RUNS)
@pytest.mark.parametrize("loss", REGRESSOR)
def test_regressor_every_loss(loss, fit_dtype, graph_dtype, tol):
    X, y = _regression_data(LOSSES[loss]())
    X = X.astype(fit_dtype)
    model = SGDRegressor(loss=loss, random_state=0).fit(X, y)
    (prediction,) = _run(_convert(model, X.astype(graph_dtype)), X.astype(graph_dtype))
    assert prediction.shape == (X.shape[0], 1)
    _close(prediction.ravel(), model.predict(X), tol)
    if LOSSES[loss].link.name == "log":  # (the link is applied: not the raw scores)
        assert not np.allclose(prediction.ravel(), model._decision_scores(X).ravel())


def _one_class_data(n_rows=200, seed=0):
    rng = np.random.RandomState(seed)
    return np.vstack([rng.randn(n_rows - 40, N_FEATURES) * 0.7 + 1.5,
                      rng.uniform(-4, 4, (40, N_FEATURES))])


@pytest.mark.parametrize("fit_dtype, graph_dtype, tol", RUNS)
def test_one_class_svm(fit_dtype, graph_dtype, tol):
    X = _one_class_data().astype(fit_dtype)
    model = SGDOneClassSVM(nu=0.2, random_state=0).fit(X)
    decision = model.decision_function(X)
    decided = _decided(decision, tol)
    X_graph = X.astype(graph_dtype)
    labels, scores, score_samples = _run(
        to_onnx(model, X_graph[:1], options={id(model): {"score_samples": True}}), X_graph)
    prediction = model.predict(X)
    assert set(prediction) == {-1, 1}  # (both outcomes are checked)
    _equal_labels(labels, prediction, decided)
    assert scores.shape == score_samples.shape == (X.shape[0], 1)
    _close(scores.ravel(), decision, tol)
    _close(score_samples.ravel(), model.score_samples(X), tol)
    labels, scores = _run(to_onnx(model, X_graph[:1]), X_graph)  # (the default outputs)
    _equal_labels(labels, prediction, decided)


def test_one_class_svm_decision_zero_is_an_inlier():
    """predict gives +1 where decision_function is exactly 0 (skl2onnx's converter of
    scikit-learn's model takes the sign, 0 there)."""
    X = _one_class_data()
    model = SGDOneClassSVM(random_state=0).fit(X)
    model.offset_ = np.asarray(X[:1] @ model.coef_).reshape(1)  # row 0 scores 0
    assert model.decision_function(X[:1])[0] == 0
    (labels,) = _run(to_onnx(model, X[:1]), X[:1], ["label"])
    assert labels[0] == model.predict(X[:1])[0] == 1


# -- loss objects ---------------------------------------------------------------------
def _loss_objects(names):
    """Every loss of the list as an object, with non-default parameters where it has
    them (epsilon, quantile, power)."""
    objects = []
    for name in names:
        cls = LOSSES[name]
        other = {"epsilon": 0.5, "quantile": 0.8, "power": 1.2}
        objects.append(cls(**{p: other[p] for p in cls._parameter_names}))
    return objects


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", _loss_objects(CLASSIFIER), ids=repr)
def test_classifier_loss_objects(loss):
    X, y = _blobs(3, seed=1)
    X = X.astype(np.float32)
    model = SGDClassifier(loss=loss, alpha=1e-2, random_state=0).fit(X, y)
    _check_classifier(model, X, np.float32, FLOAT32_TOL)


@pytest.mark.parametrize("loss", _loss_objects(REGRESSOR), ids=repr)
def test_regressor_loss_objects(loss):
    X, y = _regression_data(loss, seed=1)
    X = X.astype(np.float32)
    model = SGDRegressor(loss=loss, random_state=0).fit(X, y)
    (prediction,) = _run(_convert(model, X), X)
    _close(prediction.ravel(), model.predict(X), FLOAT32_TOL)


# -- inside pipelines with scikit-learn transformers ----------------------------------
# float64 pipelines, run in float32 (skl2onnx's usual graph) and in float64
PIPELINE_RUNS = [run for run in RUNS if run.values[0] == np.float64]


@pytest.mark.parametrize("fit_dtype, graph_dtype, tol", PIPELINE_RUNS)
@pytest.mark.parametrize("loss, n_classes", _classifier_cases(CLASSIFIER))
def test_classifier_in_pipeline(loss, n_classes, fit_dtype, graph_dtype, tol):
    X, y = _blobs(n_classes, seed=2)
    model = make_pipeline(StandardScaler(), SGDClassifier(loss=loss, random_state=0))
    _check_classifier(model.fit(X, y), X, graph_dtype, tol)


@pytest.mark.parametrize("fit_dtype, graph_dtype, tol", PIPELINE_RUNS)
@pytest.mark.parametrize("loss", REGRESSOR)
def test_regressor_in_pipeline(loss, fit_dtype, graph_dtype, tol):
    X, y = _regression_data(LOSSES[loss](), seed=2)
    X = X * 10 + 5
    model = make_pipeline(StandardScaler(), SGDRegressor(loss=loss, random_state=0))
    model.fit(X, y)
    X_graph = X.astype(graph_dtype)
    (prediction,) = _run(to_onnx(model, X_graph[:1]), X_graph)
    _close(prediction.ravel(), model.predict(X), tol)


# (n_components at most the rank of the kernel's feature space: a linear kernel's
# matrix has rank n_features, a degree-2 one's 28 here; more components make
# normalization_ ill-conditioned, 1e6, and its float32 products meaningless)
@pytest.mark.parametrize("fit_dtype, graph_dtype, tol", PIPELINE_RUNS)
@pytest.mark.parametrize("kernel, params, n_components", [
    ("rbf", {}, 40), ("rbf", {"gamma": 0.3}, 40), ("linear", {}, N_FEATURES),
    ("poly", {"degree": 2, "coef0": 0.5}, 20), ("sigmoid", {"gamma": 0.2, "coef0": 0.5}, 20),
])
def test_nystroem_one_class_pipeline(kernel, params, n_components, fit_dtype, graph_dtype,
                                     tol):
    """The README's novelty detector: StandardScaler + Nystroem + SGDOneClassSVM."""
    X = _one_class_data(seed=3)
    model = make_pipeline(StandardScaler(), Nystroem(kernel=kernel, n_components=n_components,
                                                     random_state=0, **params),
                          SGDOneClassSVM(nu=0.1, random_state=0)).fit(X)
    decided = _decided(model.decision_function(X), tol)
    X_graph = X.astype(graph_dtype)
    labels, scores = _run(to_onnx(model, X_graph[:1]), X_graph)
    _equal_labels(labels, model.predict(X), decided)
    _close(scores.ravel(), model.decision_function(X), tol)


def test_nystroem_classifier_pipeline():
    X, y = _blobs(3, seed=4)
    model = make_pipeline(StandardScaler(), Nystroem(n_components=30, random_state=0),
                          SGDClassifier(loss="multinomial_log_loss", random_state=0))
    _check_classifier(model.fit(X, y), X, np.float32, FLOAT64_IN_FLOAT32_TOL)


# -- probabilities: the edge cases ----------------------------------------------------
def test_modified_huber_all_zero_rows_get_uniform_probabilities():
    X, y = _blobs(3, seed=5)
    X = X.astype(np.float32)
    model = SGDClassifier(loss="modified_huber", random_state=0).fit(X, y)
    model.intercept_ = model.intercept_ - np.float32(4)  # many rows: every score <= -1
    decision = model.decision_function(X)
    all_zero = (decision <= -1).all(axis=1)
    assert 0 < all_zero.sum() < X.shape[0]  # (both kinds of rows are checked)
    np.testing.assert_allclose(model.predict_proba(X)[all_zero], 1 / 3, rtol=1e-7)
    _check_classifier(model, X, np.float32, FLOAT32_TOL)


def test_multinomial_binary_is_the_softmax_of_zero_and_decision():
    X, y = _blobs(2, seed=6)
    model = SGDClassifier(loss="multinomial_log_loss", random_state=0).fit(X, y)
    (probabilities,) = _run(_convert(model, X), X, ["probabilities"])
    decision = model.decision_function(X)
    expected = np.exp(decision) / (1 + np.exp(decision))
    _close(probabilities[:, 1], expected, FLOAT64_TOL)
    _close(probabilities, model.predict_proba(X), FLOAT64_TOL)


# -- skl2onnx's options and labels ----------------------------------------------------
def test_zipmap_by_default():
    X, y = _blobs(3, seed=7)
    X = X.astype(np.float32)
    labels_ = np.array(["cat", "dog", "emu"])[y]
    model = SGDClassifier(loss="log_loss", random_state=0).fit(X, labels_)
    labels, probabilities = _run(to_onnx(model, X[:1]), X)
    np.testing.assert_array_equal(labels, model.predict(X))
    assert set(probabilities[0]) == set(model.classes_)
    as_array = np.array([[row[c] for c in model.classes_] for row in probabilities])
    _close(as_array, model.predict_proba(X), FLOAT32_TOL)


def test_nocl_and_output_class_labels():
    X, y = _blobs(3, seed=8)
    X = X.astype(np.float32)
    model = SGDClassifier(random_state=0).fit(X, np.array([10, 20, 30])[y])
    labels, _ = _run(_convert(model, X, nocl=True), X)
    np.testing.assert_array_equal(labels, np.searchsorted(model.classes_, model.predict(X)))
    labels, _, class_labels = _run(_convert(model, X, output_class_labels=True), X)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_array_equal(class_labels, model.classes_)


@pytest.mark.parametrize("classes", [[False, True], [-1.0, 1.0], ["no", "yes"]])
def test_binary_label_types(classes):
    X, y = _blobs(2, seed=9)
    X = X.astype(np.float32)
    model = SGDClassifier(random_state=0).fit(X, np.array(classes)[y])
    labels, _ = _run(_convert(model, X), X)
    np.testing.assert_array_equal(labels, model.predict(X))


def test_sparsified_model():
    X, y = _blobs(3, seed=10)
    X = X.astype(np.float32)
    model = SGDClassifier(penalty="l1", alpha=0.05, random_state=0).fit(X, y).sparsify()
    labels, scores = _run(_convert(model, X), X)
    np.testing.assert_array_equal(labels, model.predict(X))
    _close(scores, model.decision_function(X), FLOAT32_TOL)


# -- what cannot be converted ---------------------------------------------------------
@pytest.mark.parametrize("estimator", [SGDClassifier(), Perceptron(), SGDRegressor(),
                                       SGDOneClassSVM()], ids=lambda e: type(e).__name__)
def test_unfitted_model_is_refused(estimator):
    X = np.zeros((1, 3), dtype=np.float32)
    with pytest.raises(NotFittedError,
                       match=f"This {type(estimator).__name__} instance is not fitted yet"):
        to_onnx(estimator, X)
    with pytest.raises(NotFittedError, match="not fitted yet"):  # (inside a pipeline)
        to_onnx(make_pipeline(StandardScaler().fit(X), estimator), X)


class _SquareLink(BaseLink):
    name = "square"

    def link(self, y_pred):
        return np.sqrt(y_pred)

    def inverse(self, raw_prediction):
        return np.square(raw_prediction)


class _SquaredErrorOfSquare(SquaredError):
    """A custom loss object with a link sklloss.onnx knows no ONNX form of."""

    link = _SquareLink()


def test_unknown_link_is_refused():
    X, y = _regression_data(SquaredError())
    model = SGDRegressor(loss=_SquaredErrorOfSquare(), random_state=0).fit(X, y)
    np.testing.assert_allclose(model.predict(X), model._decision_scores(X).ravel() ** 2)
    with pytest.raises(NotImplementedError,
                       match=r"SGDRegressor with loss=_SquaredErrorOfSquare\(\) cannot be "
                             r"converted to ONNX: its link _SquareLink\(\) has no ONNX form"):
        to_onnx(model, X[:1].astype(np.float32))


@pytest.mark.parametrize("loss", ["poisson", Poisson()], ids=repr)
def test_unsupported_loss_is_refused(loss):
    X, y = _blobs(2)
    model = SGDClassifier(random_state=0).fit(X, y)
    model.loss = loss  # (set after fit: the classifier does not take it)
    with pytest.raises(ValueError, match=r"SGDClassifier with loss=('poisson'|Poisson\(\)) "
                                         "cannot be converted to ONNX: it does not support"):
        to_onnx(model, X[:1])


@pytest.mark.parametrize("kernel", ["laplacian", "chi2"])
def test_unsupported_nystroem_kernel_is_refused(kernel):
    X = np.abs(_one_class_data())
    model = make_pipeline(Nystroem(kernel=kernel, n_components=10, random_state=0),
                          SGDOneClassSVM(random_state=0)).fit(X)
    with pytest.raises(NotImplementedError,
                       match=f"Nystroem with kernel='{kernel}' cannot be converted"):
        to_onnx(model, X[:1].astype(np.float32))


# -- the documentation ----------------------------------------------------------------
DEPLOYING_PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "docs", "deploying.rst")


def test_deploying_page_lists_every_loss_with_its_link():
    """docs/deploying.rst's table: one row per loss an estimator takes, with its link,
    and a cell for each estimator that takes it."""
    with open(DEPLOYING_PAGE) as f:
        table = f.read().split("What is converted", 1)[1].split("\nFloat32", 1)[0]
    rows = re.findall(r"   \* - ``(\w+)``\n     - ``(\w+)``\n     -(.*)\n((?:       .*\n)*)"
                      r"     -(.*)\n", table)
    documented = {name: (link, classifier.strip(), regressor.strip())
                  for name, link, classifier, _, regressor in rows}
    assert set(documented) == set(CLASSIFIER) | set(REGRESSOR)
    for name, (link, classifier, regressor) in documented.items():
        assert link == LOSSES[name].link.name, name
        assert bool(classifier) == (name in CLASSIFIER), name
        assert bool(regressor) == (name in REGRESSOR), name


def test_deploying_page_python_blocks_run(tmp_path, monkeypatch):
    """docs/deploying.rst's python blocks run, in order, in one namespace, in an empty
    directory (one writes a file)."""
    with open(DEPLOYING_PAGE) as f:
        text = f.read()
    blocks = re.findall(r"^\.\. code-block:: python\n((?:   .*\n|\n)+)", text, flags=re.M)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(textwrap.dedent(block), "deploying.rst", "exec"), namespace)
    assert (tmp_path / "iris.onnx").exists()
