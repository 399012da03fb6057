"""The estimators' lean path (sklloss/linear_model/_sgd_base.py): plain input taken as
it is, derived values computed once. The truth it is held to: the same calls made
with every shortcut switched off (scikit-learn's validation on every input, nothing
remembered between calls) give bit-identical models, predictions, warnings and
errors; and scikit-learn's own estimator where a hyperparameter changes between
partial_fit calls."""
import contextlib
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk
from hypothesis import HealthCheck, given, settings, strategies as st
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.metrics import r2_score

import loss_lists
from sklloss import SGDClassifier, SGDRegressor
from sklloss.linear_model import _checks, _sgd, _sgd_base
from sklloss.losses import LOSSES, Huber, IdentityLink, MultinomialLogLoss, SquaredError

FITTED = ("coef_", "intercept_", "t_", "n_iter_", "loss_curve_", "classes_",
          "n_features_in_", "best_loss_", "validation_scores_", "best_validation_score_")


class _Forgetful(dict):
    """A plan store that never keeps anything."""

    def __setitem__(self, key, value):
        pass


@contextlib.contextmanager
def slow_path(monkeypatch):
    """Every shortcut off: no input is plain, nothing is remembered."""
    uncached_seed = _sgd_base.integer_seed_shuffle_seed.__wrapped__
    with monkeypatch.context() as m:
        for module in (_sgd_base, _sgd):
            for name in ("is_plain_dense", "is_plain_csr", "is_plain_target",
                         "is_plain_weight"):
                if hasattr(module, name):
                    m.setattr(module, name, lambda *args, **kwargs: False)
            if hasattr(module, "integer_seed_shuffle_seed"):
                m.setattr(module, "integer_seed_shuffle_seed", uncached_seed)
        m.setattr(_sgd_base, "_finite_copy", _sgd_base._finite_array)
        m.setattr(_sgd_base, "_model_settings", _sgd_base._model_settings.__wrapped__)
        m.setattr(_sgd_base, "_PLANS", _Forgetful())
        m.setattr(_sgd_base, "_VALID_PARAMETERS", _Forgetful())
        yield


def _outcome(function):
    """What a call gives: its value, or its exception's type and message; and its
    warnings' types and messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = function()
        except Exception as error:  # noqa: BLE001 - compared, not hidden
            value = (type(error), str(error))
    return value, [(type(w.message), str(w.message)) for w in caught]


def _state(model):
    return {name: getattr(model, name) for name in FITTED if hasattr(model, name)}


def assert_identical(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_identical(a[key], b[key])
    elif sp.issparse(a):
        assert_identical(a.toarray(), b.toarray())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_identical(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def _session(make_model, calls):
    """Run `calls` (method name, args, kwargs) on a new model; what each gave and the
    model's fitted state after each."""
    model = make_model()
    record = []
    for method, args, kwargs in calls:
        value, caught = _outcome(lambda: getattr(model, method)(*args, **kwargs))
        if value is model:
            value = "self"
        record.append((value, caught, _state(model)))
    return record


def _same_both_ways(monkeypatch, make_model, calls):
    fast = _session(make_model, calls)
    with slow_path(monkeypatch):
        slow = _session(make_model, calls)
    assert_identical(fast, slow)
    return fast


# -- random sessions -----------------------------------------------------------------
def _data(draw, n, d, dtype, layout):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    X = rng.standard_normal((n, d)).astype(dtype)
    if layout == "csr":
        X[rng.random((n, d)) < 0.6] = 0.0
        return sp.csr_matrix(X), rng
    if layout == "fortran":
        return np.asfortranarray(X), rng
    if layout == "list":
        return X.tolist(), rng
    return X, rng


@st.composite
def sessions(draw):
    classifier = draw(st.booleans())
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    layout = draw(st.sampled_from(["dense", "dense", "csr", "fortran", "list"]))
    n, d = draw(st.integers(2, 40)), draw(st.integers(1, 6))
    X, rng = _data(draw, n, d, dtype, layout)
    X_new, _ = _data(draw, draw(st.integers(1, 10)), d, dtype,
                     draw(st.sampled_from(["dense", "csr", "list"])))
    if classifier:
        n_classes = draw(st.integers(2, min(4, n)))
        label_dtype = draw(st.sampled_from([np.int64, np.int32, np.float64, np.uint8,
                                            np.float32, "bool", "str", "float-half"]))
        codes = rng.integers(0, n_classes, n)
        codes[:n_classes] = np.arange(n_classes)  # every class present
        if label_dtype == "bool":
            codes = codes % 2
            y = codes.astype(bool)
        elif label_dtype == "str":
            y = np.array(["a", "b", "c", "d"])[codes]
        elif label_dtype == "float-half":
            y = codes + 0.5  # continuous labels: scikit-learn's error
        else:
            y = (codes * 3 - 1).astype(label_dtype) if label_dtype != np.uint8 else \
                codes.astype(np.uint8)
        loss = draw(st.sampled_from([name for name in loss_lists.CLASSIFIER
                                     if LOSSES[name].integer_y_true]))  # (label losses)
        params = dict(loss=loss, class_weight=draw(st.sampled_from([None, "balanced"])))
    else:
        y = rng.standard_normal(n).astype(draw(st.sampled_from([np.float64, np.float32,
                                                                 np.int64])))
        params = dict(loss=draw(st.sampled_from(loss_lists.REGRESSOR)))
    params.update(
        random_state=draw(st.sampled_from([0, 7])),
        average=draw(st.booleans()), max_iter=draw(st.integers(1, 4)), tol=None,
        penalty=draw(st.sampled_from(["l2", "l1", None])),
        early_stopping=draw(st.booleans()) and n >= 20)
    weights = draw(st.sampled_from(["none", "ones", "random", "negative", "int"]))
    if weights == "none":
        sample_weight = None
    elif weights == "ones":
        sample_weight = np.ones(n, dtype=dtype)
    elif weights == "random":
        sample_weight = rng.random(n).astype(dtype)
    elif weights == "negative":
        sample_weight = -np.ones(n)
    else:
        sample_weight = np.arange(1, n + 1)
    if draw(st.booleans()) and layout == "dense":
        X = X.copy()
        X.flat[draw(st.integers(0, X.size - 1))] = draw(st.sampled_from([np.nan, np.inf]))
    Estimator = SGDClassifier if classifier else SGDRegressor
    calls = [("fit", (X, y), {"sample_weight": sample_weight})]
    if not params["early_stopping"]:  # (refused by partial_fit)
        half = slice(0, max(1, n // 2))
        n_new = np.shape(X_new)[0]
        calls.append(("partial_fit", (X[half], y[half]), {}))
        # (more new rows than labels: scikit-learn's length error, both ways)
        calls.append(("partial_fit", (X_new, y[:n_new] if n_new <= n else y[:1]), {}))
    for method in ("predict", "decision_function", "predict_proba", "score"):
        args = (X_new,) if method != "score" else (X, y)
        calls.append((method, args, {}))
    return Estimator, params, calls


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(session=sessions())
def test_random_sessions_are_bit_identical_with_every_shortcut_off(session, monkeypatch):
    Estimator, params, calls = session
    _same_both_ways(monkeypatch, lambda: Estimator(**params), calls)


# -- chosen cases --------------------------------------------------------------------
RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 5))
Y3 = np.arange(60) % 3
YR = X @ RNG.standard_normal(5)


@pytest.mark.parametrize("make_model, calls, errors", [
    # a stream with classes passed on every call, float32 chunks, CSR chunks
    (lambda: SGDClassifier(random_state=0),
     [("partial_fit", (X[:20], Y3[:20]), {"classes": [0, 1, 2]}),
      ("partial_fit", (X[20:40].astype(np.float32), Y3[20:40]), {"classes": [0, 1, 2]}),
      ("partial_fit", (sp.csr_matrix(X[40:]), Y3[40:]), {"classes": np.array([0, 1, 2])}),
      ("partial_fit", (X[:10], Y3[:10]), {"classes": [0, 1]}),  # changed: error
      ("partial_fit", (X[:10], Y3[:10] + 5), {}),  # unknown labels: error
      ("partial_fit", (X[:10, :4], Y3[:10]), {}),  # wrong width: error
      ("partial_fit", (X[:10], Y3[:10].astype(float) + 0.5), {}),  # continuous
      ("partial_fit", (X[:10], Y3[:10]), {"sample_weight": -np.ones(10)}),
      ("partial_fit", (X[:10], Y3[:10]), {"sample_weight": np.zeros(10)}),
      ("partial_fit", (X[:10], Y3[:10]), {"sample_weight": np.ones(10)}),
      ("predict", (X[:3].astype(np.float32),), {}),
      ("predict", (np.full((2, 5), np.nan),), {}),
      ("predict", (X[:2, :3],), {})], 8),
    # a regressor continuing a fit, then warm start, then a float32 fit
    (lambda: SGDRegressor(random_state=3, warm_start=True, average=3),
     [("fit", (X, YR), {}), ("partial_fit", (X[:7], YR[:7]), {}),
      ("fit", (X, YR), {}), ("fit", (X.astype(np.float32), YR), {}),
      ("partial_fit", (X[:7], np.full(7, np.inf)), {}),
      ("predict", (X,), {})], 1),
    # the multinomial model, binary and with three classes, sparsified in between
    (lambda: SGDClassifier(loss=MultinomialLogLoss(), random_state=1, max_iter=3, tol=None),
     [("fit", (X, Y3 % 2), {}), ("partial_fit", (X[:9], Y3[:9] % 2), {}),
      ("sparsify", (), {}), ("partial_fit", (X[:9], Y3[:9] % 2), {}),
      ("fit", (X, Y3), {}), ("predict_proba", (X[:4],), {})], 0),
])
def test_chosen_sessions_are_bit_identical_with_every_shortcut_off(make_model, calls,
                                                                   errors, monkeypatch):
    record = _same_both_ways(monkeypatch, make_model, calls)
    # (and the sessions do reach scikit-learn's errors)
    assert sum(isinstance(value, tuple) for value, _, _ in record) == errors


def test_an_ndarray_after_a_data_frame_still_warns_of_missing_feature_names():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(X, columns=[f"f{j}" for j in range(5)])
    model = SGDClassifier(random_state=0).fit(frame, Y3)
    for method in ("predict", "decision_function"):
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            getattr(model, method)(X)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        model.partial_fit(X, Y3)


# -- what is remembered follows what it was derived from -----------------------------
def _stream(make, changes, classes=None):
    """partial_fit on three chunks, applying changes[i](model) before chunk i."""
    model = make()
    for i, chunk in enumerate(np.array_split(np.arange(60), 3)):
        changes[i](model)
        kwargs = {"classes": classes} if classes is not None else {}
        model.partial_fit(X[chunk], (Y3[chunk] % 2) if classes is not None else YR[chunk],
                          **kwargs)
    return model


def _nothing(model):
    pass


@pytest.mark.parametrize("change", [
    lambda m: m.set_params(alpha=0.05),
    lambda m: m.set_params(learning_rate="constant", eta0=0.05),
    lambda m: m.set_params(penalty="l1"),
    lambda m: setattr(m, "fit_intercept", False),
], ids=["alpha", "schedule", "penalty", "fit_intercept"])
def test_a_hyperparameter_changed_between_calls_takes_effect_as_in_sklearn(change):
    changes = [_nothing, change, _nothing]
    for ours, theirs, classes in [(SGDClassifier, sk.SGDClassifier, [0, 1]),
                                  (SGDRegressor, sk.SGDRegressor, None)]:
        mine = _stream(lambda: ours(random_state=0), changes, classes)
        reference = _stream(lambda: theirs(random_state=0), changes, classes)
        unchanged = _stream(lambda: ours(random_state=0), [_nothing] * 3, classes)
        np.testing.assert_allclose(mine.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine.intercept_, reference.intercept_, rtol=1e-9,
                                   atol=1e-12)
        assert not np.allclose(mine.coef_, unchanged.coef_)


def test_a_class_weight_dict_changed_in_place_takes_effect_as_in_sklearn():
    def reweigh(model):
        model.class_weight[1] = 5.0  # the same dict object, another value

    models = [_stream(lambda: Estimator(random_state=0, class_weight={0: 1.0, 1: 1.0}),
                      [_nothing, reweigh, _nothing], [0, 1])
              for Estimator in (SGDClassifier, sk.SGDClassifier)]
    np.testing.assert_allclose(models[0].coef_, models[1].coef_, rtol=1e-9)
    np.testing.assert_array_equal(models[0]._expanded_class_weight, [1.0, 5.0])


def test_a_loss_object_changed_in_place_takes_effect():
    loss = Huber(epsilon=0.01)

    def widen(model):
        model.loss.epsilon = 2.0

    mine = _stream(lambda: SGDRegressor(loss=loss, random_state=0), [_nothing, widen,
                                                                     _nothing])
    reference = _stream(lambda: sk.SGDRegressor(loss="huber", epsilon=0.01, random_state=0),
                        [_nothing, lambda m: m.set_params(epsilon=2.0), _nothing])
    np.testing.assert_allclose(mine.coef_, reference.coef_, rtol=1e-9)


def test_new_classes_after_fit_are_new_label_maps():
    model = SGDClassifier(random_state=0, max_iter=2, tol=None)
    model.fit(X, Y3)
    model.fit(X, np.where(Y3 == 0, "x", "y"))  # another fit, other classes
    reference = sk.SGDClassifier(random_state=0, max_iter=2, tol=None).fit(
        X, np.where(Y3 == 0, "x", "y"))
    assert model.classes_.tolist() == ["x", "y"]
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9)


def test_remembered_parameter_checks_keep_value_types_apart():
    SGDClassifier(max_iter=5, fit_intercept=True, tol=None).fit(X, Y3)
    with pytest.raises(InvalidParameterError, match="max_iter"):
        SGDClassifier(max_iter=5.0, fit_intercept=True, tol=None).fit(X, Y3)
    with pytest.raises(InvalidParameterError, match="fit_intercept"):
        SGDClassifier(max_iter=5, fit_intercept=1, tol=None).fit(X, Y3)


def test_a_failure_after_the_curves_were_appended_takes_them_back(monkeypatch):
    model = SGDRegressor(random_state=0).partial_fit(X, YR)
    curve = model.loss_curve_
    before = list(curve)
    real_commit = _sgd_base._BaseSGD._commit

    def commit_then_fail(self, *args, **kwargs):
        real_commit(self, *args, **kwargs)
        assert len(self.loss_curve_) == len(before) + 1  # appended in place
        raise KeyboardInterrupt

    monkeypatch.setattr(_sgd_base._BaseSGD, "_commit", commit_then_fail)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X, YR)
    assert model.loss_curve_ is curve and curve == before
    assert model.best_loss_ == min(before)


def test_a_long_stream_keeps_its_curve_and_best_loss():
    model = SGDRegressor(random_state=0)
    for i in range(200):
        model.partial_fit(X[i % 60:i % 60 + 1], YR[i % 60:i % 60 + 1])
    assert len(model.loss_curve_) == 200 and model.t_ == 201
    assert model.best_loss_ == min(model.loss_curve_)


# -- the pieces, against independent truths ------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_finite_is_numpys_isfinite_all(dtype):
    rng = np.random.default_rng(1)
    big = np.finfo(dtype).max
    for trial in range(300):
        values = rng.standard_normal(rng.integers(0, 50)).astype(dtype)
        if values.size and trial % 3:
            special = rng.choice([np.nan, np.inf, -np.inf, big, -big])
            values[rng.integers(values.size, size=rng.integers(1, 3))] = special
        assert _checks.all_finite(values) == bool(np.isfinite(values).all()), values


def _csr_is_plain_by_hand(data, indices, indptr, n_rows, n_features):
    if len(indptr) != n_rows + 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        return False
    if indptr[-1] > min(len(indices), len(data)):
        return False
    for r in range(n_rows):
        row = indices[indptr[r]:indptr[r + 1]]
        if len(row) and (np.any(np.diff(row) <= 0) or row[0] < 0 or row[-1] >= n_features):
            return False
    return bool(np.isfinite(data).all())


def test_csr_check_is_the_checks_it_replaces():
    rng = np.random.default_rng(2)
    for _ in range(500):
        n_rows, n_features = rng.integers(1, 6), rng.integers(1, 6)
        counts = rng.integers(0, 4, n_rows)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        indices = rng.integers(-1, n_features + 1, indptr[-1]).astype(np.int32)
        if rng.random() < 0.5:  # mostly well-formed rows
            indices = np.concatenate([np.sort(rng.choice(n_features, min(c, n_features),
                                                         replace=False))
                                      for c in counts] or [[]]).astype(np.int32)
            indptr = np.concatenate([[0], np.cumsum(np.minimum(counts, n_features))]
                                    ).astype(np.int32)
        data = rng.standard_normal(len(indices))
        if rng.random() < 0.2 and len(data):
            data[0] = np.nan
        if rng.random() < 0.1:
            indptr = indptr[::-1].copy()
        expected = _csr_is_plain_by_hand(data, indices, indptr, n_rows, n_features)
        assert _checks.csr_is_canonical_and_finite(data, indices, indptr, n_rows,
                                                   n_features) == expected
        if expected:  # and then scipy agrees that it is canonical
            assert sp.csr_matrix((data, indices, indptr),
                                 shape=(n_rows, n_features)).has_canonical_format


@pytest.mark.parametrize("dtype, prediction_dtype", [
    (np.float32, np.float32), (np.float32, np.float64), (np.float64, np.float64)])
def test_early_stopping_r2_is_sklearns_r2_score(dtype, prediction_dtype):
    """In the dtype r2_score would pick (float32 targets with a float64 intercept give
    float64 predictions, and a float64 R²)."""
    rng = np.random.default_rng(3)
    for trial in range(50):
        n = rng.integers(2, 30)
        y = rng.standard_normal(n).astype(dtype)
        if trial % 5 == 0:
            y[:] = 1.5  # constant targets: r2_score's 0 (or 1 for a perfect fit)
        weight = rng.random(n).astype(dtype)
        prediction = (y + rng.standard_normal(n) * (trial % 4)).astype(prediction_dtype)
        scorer = _sgd._ValidationScore(np.zeros((n, 1), dtype=dtype), y, weight,
                                        SquaredError())
        expected = r2_score(y, prediction, sample_weight=weight)
        precise = np.float64 in (dtype, prediction_dtype)
        assert scorer._r2(prediction) == pytest.approx(
            expected, rel=1e-12 if precise else 1e-6, abs=1e-12 if precise else 1e-6)


@pytest.mark.parametrize("Estimator", [SGDClassifier, SGDRegressor])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_plain_input_meets_no_sklearn_validation_after_the_first_call(Estimator, layout,
                                                                     monkeypatch):
    """The lean path is taken: a stream of plain chunks is validated by the one-pass
    checks only (scikit-learn's validation of X, y, labels and weights never runs),
    and so are predictions."""
    convert = sp.csr_matrix if layout == "csr" else np.asarray
    y = Y3 if Estimator is SGDClassifier else YR
    model = Estimator(random_state=0, loss="log_loss" if Estimator is SGDClassifier
                      else "squared_error")
    model.partial_fit(convert(X[:20]), y[:20],
                      **({"classes": [0, 1, 2]} if Estimator is SGDClassifier else {}))

    def must_not_run(*args, **kwargs):
        raise AssertionError("scikit-learn's validation ran on plain input")

    for module, name in [(_sgd_base, "validate_data"), (_sgd_base, "check_array"),
                         (_sgd_base, "_check_sample_weight"), (_sgd, "validate_data"),
                         (_sgd, "check_classification_targets"),
                         (_sgd, "_check_partial_fit_first_call"),
                         (_sgd, "compute_class_weight"), (_sgd, "check_random_state")]:
        monkeypatch.setattr(module, name, must_not_run)
    for start in (20, 30, 40):
        chunk = slice(start, start + 10)
        model.partial_fit(convert(X[chunk]), y[chunk], sample_weight=np.ones(10))
        if Estimator is SGDClassifier:
            model.partial_fit(convert(X[chunk]), y[chunk], classes=np.array([0, 1, 2]))
    assert model.t_ == 1 + 20 + (60 if Estimator is SGDClassifier else 30)
    model.predict(X)
    model.decision_function(X) if Estimator is SGDClassifier else None
    model.predict_proba(X) if Estimator is SGDClassifier else None
    if layout == "csr":
        model.predict(sp.csr_matrix(X))


@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("coefficient", [0.0, 1.0])
def test_predict_refuses_a_non_finite_input_whatever_the_coefficient(special, coefficient):
    """Predictions check finiteness on the scores: a NaN or inf meets a zero
    coefficient too (0 * inf is NaN), and the error is scikit-learn's."""
    model = SGDRegressor(random_state=0).fit(X, YR)
    model.coef_ = model.coef_.copy()
    model.coef_[2] = coefficient
    bad = X[:4].copy()
    bad[1, 2] = special
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        model.predict(bad)
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        model.predict(sp.csr_matrix(bad))


def test_predictions_that_overflow_are_scikit_learns_with_one_warning():
    model = SGDRegressor(random_state=0).fit(X, YR)
    huge = np.full((2, 5), 1e308)
    model.coef_ = np.full(5, 10.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predictions = model.predict(huge)
    assert np.all(np.isinf(predictions))
    with warnings.catch_warnings(record=True) as reference:
        warnings.simplefilter("always")
        expected = huge @ model.coef_ + model.intercept_
    np.testing.assert_array_equal(predictions, expected)
    assert len(caught) == len(reference)
