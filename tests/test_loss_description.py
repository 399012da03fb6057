"""Each loss is described once, in its class, and every layer derives from it.

The descriptions are checked against independent truths: scikit-learn's own losses
(their links and target intervals), scikit-learn's SGD estimators (which losses each
takes, which have predict_proba), closed forms of the links. Then the layers that
derive from them: the estimators' loss sets, predictions through the link, the target
check, and the one code -> kernel switch, whose unknown codes are errors.
"""
import os
import re

import numpy as np
import pytest
import sklearn.linear_model as sk
from numpy.testing import assert_allclose, assert_array_equal
from sklearn._loss import link as sk_link
from sklearn._loss import loss as sk_loss

import loss_lists
from sklloss import SGDClassifier, SGDRegressor
from sklloss.linear_model import _engine
from sklloss.losses import (
    LOSSES,
    ClippedLinearLink,
    IdentityLink,
    Interval,
    LogitLink,
    LogLink,
    SoftmaxLink,
    SquaredError,
    _kernels,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# scikit-learn's private loss for each of ours that it also has
SKLEARN_LOSS = {
    "squared_error": sk_loss.HalfSquaredError,
    "log_loss": sk_loss.HalfBinomialLoss,
    "multinomial_log_loss": sk_loss.HalfMultinomialLoss,
}
LINKS = {IdentityLink: sk_link.IdentityLink, LogLink: sk_link.LogLink,
         LogitLink: sk_link.LogitLink, SoftmaxLink: sk_link.MultinomialLogit}


# -- the links and intervals ----------------------------------------------------------
@pytest.mark.parametrize("ours, theirs", LINKS.items(), ids=lambda c: c.__name__)
def test_links_invert_as_scikit_learn_s(ours, theirs):
    rng = np.random.RandomState(0)
    raw = rng.normal(scale=3, size=(50, 4) if ours is SoftmaxLink else 50)
    prediction = ours().inverse(raw)
    assert_allclose(prediction, theirs().inverse(raw), rtol=1e-12)
    assert_allclose(ours().inverse(ours().link(prediction)), prediction, rtol=1e-10)
    assert ours().interval_y_pred.includes(prediction)


def test_softmax_link_into_its_input():
    raw = np.array([[0.0, np.log(3.0)], [2.0, 2.0]])
    expected = [[0.25, 0.75], [0.5, 0.5]]
    assert_allclose(SoftmaxLink().inverse(raw), expected)
    assert raw[0, 0] == 0.0  # (a new array by default)
    out = SoftmaxLink().inverse(raw, out=raw)
    assert out is raw and np.allclose(raw, expected)


def test_clipped_linear_link_is_modified_huber_s_probability():
    raw = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    assert_array_equal(ClippedLinearLink().inverse(raw), [0, 0, 0.25, 0.5, 0.75, 1, 1])
    assert_allclose(ClippedLinearLink().link([0.25, 0.5]), [-0.5, 0.0])


@pytest.mark.parametrize("interval", [
    Interval(-np.inf, np.inf, False, False), Interval(0, np.inf, True, False),
    Interval(0, np.inf, False, False), Interval(-1, 1, True, True),
    Interval(0, 1, False, True)], ids=str)
def test_intervals_include_as_scikit_learn_s(interval):
    theirs = sk_link.Interval(interval.low, interval.high, interval.low_inclusive,
                              interval.high_inclusive)
    for x in ([0.0], [1.0], [-1.0], [0.5, 2.0], [-np.inf], [np.inf], [1e300], [-1e-300]):
        assert interval.includes(x) == theirs.includes(np.array(x)), x
    assert not interval.includes([np.nan])


# -- the descriptions -----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SKLEARN_LOSS))
def test_descriptions_agree_with_scikit_learn_s_losses(name):
    ours, theirs = LOSSES[name](), SKLEARN_LOSS[name]()
    assert LINKS[type(ours.link)] is type(theirs.link)
    assert ours.is_multiclass == theirs.is_multiclass
    assert ours.gives_probabilities == hasattr(theirs, "predict_proba")
    if name == "squared_error":  # (the binary and multinomial losses here take labels)
        assert ours.interval_y_true == Interval(*vars(theirs.interval_y_true).values())


@pytest.mark.parametrize("name", loss_lists.SKLEARN_CLASSIFIER)
def test_probabilities_where_scikit_learn_s_classifier_has_them(name):
    assert LOSSES[name]().gives_probabilities == hasattr(
        sk.SGDClassifier(loss=name), "predict_proba")
    assert hasattr(SGDClassifier(loss=name), "predict_proba") == hasattr(
        sk.SGDClassifier(loss=name), "predict_proba")


def test_the_estimators_take_scikit_learn_s_losses_plus_the_multi_class_one():
    def options(estimator):
        return set(estimator._parameter_constraints["loss"][0].options)

    # the regressor adds the losses of scikit-learn's GLM and quantile estimators
    assert set(loss_lists.REGRESSOR) == options(sk.SGDRegressor) | {
        "poisson", "gamma", "tweedie", "quantile", "absolute_error"}
    assert set(loss_lists.CLASSIFIER) == options(sk.SGDClassifier) | set(
        loss_lists.MULTICLASS)
    assert options(SGDRegressor) == set(loss_lists.REGRESSOR)
    assert options(SGDClassifier) == set(loss_lists.CLASSIFIER)
    # loss_functions: scikit-learn's table (the default epsilon where there is one)
    for ours, theirs in ((SGDClassifier, sk.SGDClassifier), (SGDRegressor, sk.SGDRegressor)):
        assert set(ours.loss_functions) == set(theirs.loss_functions)
        for name, entry in ours.loss_functions.items():
            assert entry[0] is LOSSES[name]
            if name in loss_lists.EPSILON_LOSSES:  # (theirs: hinge's threshold too)
                assert entry[1:] == theirs.loss_functions[name][1:] == (0.1,)


def test_kernel_params_hold_the_loss_s_parameters():
    for name, cls in LOSSES.items():
        record = cls().kernel_params()
        assert set(record) == {"epsilon", "quantile", "power"}
        assert {key for key, value in record.items() if value} == set(cls._parameter_names)
    assert LOSSES["huber"](epsilon=2.5).kernel_params()["epsilon"] == 2.5


# -- what derives from them -----------------------------------------------------------
class _PositiveSquaredError(SquaredError):
    """Squared error on y > 0 (a narrower target interval, a test's own)."""

    interval_y_true = Interval(0, np.inf, False, False)


class _ExpSquaredError(SquaredError):
    """Squared error on the raw score, predicting exp(raw) (a test's own link)."""

    link = LogLink()


def test_targets_outside_the_interval_are_refused_before_the_kernel():
    with pytest.raises(ValueError, match=r"takes y_true in \(0, inf\); got -1.0, 0.0"):
        _PositiveSquaredError().loss([1.0, -1.0, 0.0], [0.0, 0.0, 0.0])
    assert_allclose(_PositiveSquaredError().loss([2.0], [1.0]), [0.5])
    X = np.random.RandomState(0).normal(size=(20, 3))
    model = SGDRegressor(loss=_PositiveSquaredError(), max_iter=3, tol=None)
    with pytest.raises(ValueError, match=r"takes targets y in \(0, inf\); got \[-1.0\]"):
        model.fit(X, np.where(np.arange(20) == 3, -1.0, 1.0))
    assert not hasattr(model, "coef_")


def test_the_regressor_predicts_through_the_link():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    params = dict(max_iter=5, tol=None, random_state=0)
    plain = SGDRegressor(**params).fit(X, y)
    linked = SGDRegressor(loss=_ExpSquaredError(), **params).fit(X, y)
    assert_array_equal(linked.coef_, plain.coef_)  # the same kernel, the same fit
    assert_array_equal(linked.predict(X), np.exp(plain.predict(X)))


def test_an_unknown_kernel_code_is_an_error_never_another_loss():
    y, raw = np.ones(3), np.zeros(3)
    with pytest.raises(ValueError, match="No loss kernel has the code 99"):
        _kernels.compute(99, 0.0, 0.0, 0.0, y, raw, 1, None, np.empty(3), None, 1)
    with pytest.raises(ValueError, match="takes one raw prediction per sample; got 3"):
        _kernels.compute(int(_kernels.LossCode.HINGE), 0.0, 0.0, 0.0, y, np.zeros(9), 3,
                         None, np.empty(3), None, 1)
    settings = dict(penalty=2, alpha=1e-4, l1_ratio=0.0, eta0=0.01, power_t=0.25,
                    fit_intercept=True, average=0.0, tol=-np.inf, n_iter_no_change=5)
    # 'optimal' asks the kernel for its first step at once
    with pytest.raises(ValueError, match="no element-wise loss kernel with the code 99"):
        _engine.ModelSettings(kernel=99, learning_rate=2, **settings)
    for kernel, multiclass, message in [
            (99, False, "no loss kernel with the code 99"),
            (int(_kernels.LossCode.HINGE), True, "code 5 for multi-class outputs"),
            (int(_kernels.LossCode.MULTINOMIAL_LOG_LOSS), False, "for single outputs")]:
        engine = _engine.ModelSettings(kernel=kernel, multiclass=multiclass,
                                       learning_rate=1, **settings)
        K = 2 if multiclass else 1
        coef, intercept = np.zeros((K, 2)), np.zeros(K)
        with pytest.raises(ValueError, match=message):
            _engine.fit_epochs(
                [engine],
                _engine.TrainingData(
                    X_data=np.zeros(6), X_indices=np.empty(0, np.int32),
                    X_indptr=np.empty(0, np.int32), sparse=False, n_features=2,
                    y=np.zeros(3), sample_weight=np.ones(3), classification=False,
                    n_classes=K if multiclass else 0),
                _engine.ModelArrays(
                    coef=coef, intercept=intercept, average_coef=np.zeros((0, 2)),
                    average_intercept=np.zeros(0), pos_label=np.zeros(K),
                    weight_pos=np.ones(K), weight_neg=np.ones(K)),
                _engine.RunSettings(max_iter=2, seed=0))
        assert not coef.any()


def test_the_engine_does_not_import_the_python_loss_layer():
    # the engine's Python imports (not its cimports of the compiled kernels)
    with open(os.path.join(ROOT, "sklloss", "linear_model", "_engine.pyx")) as f:
        imports = [line for line in f if re.match(r"(from \S+ import|import) ", line)]
    assert imports and not [line for line in imports if "sklloss" in line], imports


def test_one_switch_line_per_kernel_code():
    """The switch of _switch.pxi names every kernel code once, and only there."""
    with open(os.path.join(ROOT, "sklloss", "losses", "_switch.pxi")) as f:
        switch = f.read()
    cases = re.findall(r"code == (\w+):\n\s+return with_loss\((\w+)\(params\[0\]\)", switch)
    assert sorted(code for code, _ in cases) == sorted(code.name for code in _kernels.LossCode)
    for code, loss_type in cases:
        assert LOSSES[code.lower()].__name__ == loss_type
        assert LOSSES[code.lower()].kernel == getattr(_kernels.LossCode, code)
    for path in ("losses/_kernels.pyx", "linear_model/_engine.pyx"):
        with open(os.path.join(ROOT, "sklloss", path)) as f:
            source = f.read()
        assert 'include "' in source and "_switch.pxi" in source
        assert not re.search(r"code == \w+:", source), path  # no second switch
