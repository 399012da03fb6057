"""scikit-learn conformance: estimator checks, signatures, constraints, routing, tags."""
import inspect

import numpy as np
import pytest
import sklearn
import sklearn.linear_model as sk
from sklearn.model_selection import cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklloss import Perceptron, SGDClassifier, SGDOneClassSVM, SGDRegressor
from sklloss.losses import MultinomialLogLoss, Quantile, Tweedie

# The two checks scikit-learn itself declares as expected failures of its SGD
# estimators (sklearn/utils/_test_common/instance_generator.py): with shuffled rows,
# a weight of 2 is not the same as a repeated row.
SKLEARN_DECLARED_XFAILS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
}

PAIRS = [(SGDClassifier, sk.SGDClassifier), (SGDRegressor, sk.SGDRegressor),
         (Perceptron, sk.Perceptron), (SGDOneClassSVM, sk.SGDOneClassSVM)]


@parametrize_with_checks(
    [SGDClassifier(), SGDRegressor(), Perceptron(), SGDOneClassSVM()],
    expected_failed_checks=lambda estimator: SKLEARN_DECLARED_XFAILS,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@parametrize_with_checks(
    [SGDClassifier(loss="log_loss", average=True, penalty="elasticnet"),
     SGDClassifier(loss="multinomial_log_loss"),
     SGDClassifier(loss=MultinomialLogLoss(), average=True, penalty="elasticnet"),
     SGDRegressor(loss="huber", learning_rate="adaptive", average=10, penalty="l1"),
     SGDClassifier(learning_rate="adagrad", penalty="elasticnet", average=True),
     SGDClassifier(loss="multinomial_log_loss", learning_rate="normalized_adagrad"),
     SGDRegressor(learning_rate="normalized_adagrad", penalty="l1"),
     SGDRegressor(learning_rate="adagrad", average=10),
     SGDOneClassSVM(nu=0.2, average=True, learning_rate="invscaling", eta0=0.05)],
    expected_failed_checks=lambda estimator: SKLEARN_DECLARED_XFAILS,
)
def test_sklearn_estimator_checks_other_options(estimator, check):
    check(estimator)


@parametrize_with_checks(
    [SGDRegressor(loss="poisson"), SGDRegressor(loss="gamma"),
     SGDRegressor(loss=Tweedie(power=1.5), penalty="elasticnet", average=True),
     SGDRegressor(loss=Quantile(quantile=0.8), penalty="l1"),
     SGDRegressor(loss="absolute_error", learning_rate="adagrad")],
    expected_failed_checks=lambda estimator: SKLEARN_DECLARED_XFAILS,
)
def test_sklearn_estimator_checks_glm_and_quantile_losses(estimator, check):
    check(estimator)


# Parameters sklloss adds to scikit-learn's (new parameters, never a changed
# default): at the end of the signature, keyword-only, with their defaults.
ADDED_PARAMETERS = {"SGDClassifier": {}, "SGDRegressor": {"n_jobs": None}, "Perceptron": {},
                    "SGDOneClassSVM": {}}


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_same_parameters_and_defaults_as_sklearn(ours, theirs):
    mine = inspect.signature(ours).parameters
    reference = inspect.signature(theirs).parameters
    added = ADDED_PARAMETERS[ours.__name__]
    assert list(mine) == list(reference) + list(added)
    for name, parameter in reference.items():
        assert mine[name].default == parameter.default, name
        assert mine[name].kind == parameter.kind, name
    for name, default in added.items():
        assert mine[name].default == default, name
        assert mine[name].kind == inspect.Parameter.KEYWORD_ONLY, name


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_same_methods_and_fit_signatures_as_sklearn(ours, theirs):
    for method in ("fit", "partial_fit", "predict", "score", "densify", "sparsify",
                   "get_params", "set_params", "decision_function", "score_samples",
                   "fit_predict"):
        assert hasattr(ours, method) == hasattr(theirs, method), method
        if hasattr(theirs, method):
            assert list(inspect.signature(getattr(ours, method)).parameters) == list(
                inspect.signature(getattr(theirs, method)).parameters), method


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_parameter_constraints_cover_the_same_parameters(ours, theirs):
    assert set(ours._parameter_constraints) == (
        set(theirs._parameter_constraints) | set(ADDED_PARAMETERS[ours.__name__]))


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_same_tags_as_sklearn(ours, theirs):
    assert ours().__sklearn_tags__() == theirs().__sklearn_tags__()


@pytest.mark.parametrize("ours", [SGDClassifier, SGDRegressor, Perceptron])
def test_sample_weight_is_routed_by_metadata_routing(ours):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] > 0).astype(int) if ours is not SGDRegressor else X[:, 0] + X[:, 1]
    sample_weight = rng.uniform(0.1, 3.0, size=120)
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = ours(random_state=0).set_fit_request(sample_weight=True)
        estimator.set_score_request(sample_weight=False)
        routed = cross_validate(estimator, X, y, cv=2, params={"sample_weight": sample_weight},
                                return_estimator=True)
    # the routed weights reach fit: the same as fitting each training fold with them
    for fold, (train, _) in enumerate([(np.arange(60, 120), None), (np.arange(60), None)]):
        direct = ours(random_state=0).fit(X[train], y[train], sample_weight=sample_weight[train])
        np.testing.assert_array_equal(routed["estimator"][fold].coef_, direct.coef_)
        unweighted = ours(random_state=0).fit(X[train], y[train])
        assert not np.array_equal(direct.coef_, unweighted.coef_)
