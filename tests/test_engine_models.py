"""The engine fits a list of models in one call: each model's result is the one it
gets alone, bit for bit, whatever the others are (losses, penalties, schedules,
averaging, stopping rules), however many threads run them, and whichever of them stop
or diverge."""
import numpy as np
import pytest
import scipy.sparse as sp

from sklloss.losses import LOSSES
from sklloss.linear_model import _engine

# the losses of each task, and the schedules each can take
CLASSIFICATION = [name for name, cls in LOSSES.items()
                  if cls.integer_y_true and not cls.is_multiclass] + [
    "squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"]
REGRESSION = [name for name, cls in LOSSES.items() if not cls.integer_y_true]
SCHEDULES = ["constant", "optimal", "invscaling", "adaptive", "adagrad",
             "normalized_adagrad"]
PASSIVE_AGGRESSIVE = {"hinge", "epsilon_insensitive"}
PENALTIES = ["none", "l2", "l1", "elasticnet"]


def _data(layout, dtype, n=240, d=7, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    if layout == "csr":
        X[np.abs(X) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    w = rng.standard_normal(d)
    score = (X @ w) / np.sqrt(d)
    classes = (score + 0.3 * rng.standard_normal(n) > 0).astype(dtype)
    return X, score.astype(dtype), classes


def _model(rng, loss_name):
    """Random hyperparameters for a model of this loss: (engine settings, schedule)."""
    loss = LOSSES[loss_name]()
    schedules = SCHEDULES + (["pa1", "pa2"] if loss_name in PASSIVE_AGGRESSIVE else [])
    schedule = schedules[rng.randint(len(schedules))]
    penalty = PENALTIES[rng.randint(len(PENALTIES))]
    epsilon, quantile, power = loss._kernel_record()
    return dict(
        kernel=int(loss.kernel), epsilon=epsilon, quantile=quantile, power=power,
        multiclass=loss.is_multiclass,
        penalty=_engine.PENALTIES[penalty], alpha=float(10.0 ** rng.uniform(-5, -2)),
        l1_ratio=float(rng.uniform(0, 1)), learning_rate=_engine.LEARNING_RATES[schedule],
        eta0=float(10.0 ** rng.uniform(-3, -1)), power_t=0.25,
        fit_intercept=bool(rng.randint(2)), average=float(rng.choice([0, 0, 1, 50])),
        tol=float(rng.choice([-np.inf, 1e-3])), n_iter_no_change=int(rng.randint(1, 4))
    ), schedule


def _arrays(n_outputs, d, dtype, schedule, averaged, pos_label=1.0):
    per_coordinate = schedule in ("adagrad", "normalized_adagrad")
    return _engine.ModelArrays(
        coef=np.zeros((n_outputs, d), dtype=dtype), intercept=np.zeros(n_outputs),
        average_coef=np.zeros((n_outputs if averaged else 0, d), dtype=dtype),
        average_intercept=np.zeros(n_outputs if averaged else 0),
        pos_label=np.full(n_outputs, float(pos_label)),
        weight_pos=np.ones(n_outputs), weight_neg=np.ones(n_outputs),
        step_state=(np.zeros((n_outputs, d)), np.full((n_outputs, d), np.inf),
                    np.zeros((n_outputs, 3))) if per_coordinate else None)


def _fit(models, X, y, classification, arrays, n_threads=1, max_iter=6, n_classes=0):
    sparse = sp.issparse(X)
    empty = np.empty(0, dtype=np.int32)
    data = _engine.TrainingData(
        X_data=X.data if sparse else X.ravel(), X_indices=X.indices if sparse else empty,
        X_indptr=X.indptr if sparse else empty, sparse=sparse, n_features=X.shape[1],
        y=y, sample_weight=np.ones_like(y), classification=classification,
        n_classes=n_classes)
    run = _engine.RunSettings(max_iter=max_iter, seed=7, intercept_decay=0.01 if sparse
                              else 1.0, n_threads=n_threads, stop_at_divergence=False)
    return _engine.fit_epochs([_engine.ModelSettings(**m) for m in models], data, arrays,
                              run)


def _stack(parts):
    """The ModelArrays of several single-output fits as one fit's."""
    step_states = [p.step_state for p in parts]
    any_state = next((s for s in step_states if s is not None), None)
    d = parts[0].coef.shape[1]

    def state(p, i):
        if p.step_state is not None:
            return p.step_state[i]
        n = p.coef.shape[0]
        return np.zeros((n, 3)) if i == 2 else (np.full((n, d), np.inf) if i == 1
                                                else np.zeros((n, d)))
    averaged = any(p.average_coef.shape[0] for p in parts)
    return _engine.ModelArrays(
        coef=np.vstack([p.coef for p in parts]),
        intercept=np.concatenate([p.intercept for p in parts]),
        average_coef=np.vstack([p.average_coef if p.average_coef.shape[0]
                                else np.zeros_like(p.coef) for p in parts])
        if averaged else np.zeros((0, d), dtype=parts[0].coef.dtype),
        average_intercept=np.concatenate([p.average_intercept if p.average_intercept.shape[0]
                                          else np.zeros(p.coef.shape[0]) for p in parts])
        if averaged else np.zeros(0),
        pos_label=np.concatenate([p.pos_label for p in parts]),
        weight_pos=np.concatenate([p.weight_pos for p in parts]),
        weight_neg=np.concatenate([p.weight_neg for p in parts]),
        step_state=None if any_state is None else tuple(
            np.vstack([state(p, i) for p in parts]) for i in range(3)))


def _assert_same(together, k, arrays, j, result, single):
    """Output k of the fit of several models is output j of the model fitted alone."""
    np.testing.assert_array_equal(together.coef[k], arrays.coef[j])
    # (assert_array_equal: a diverged model's NaN equals NaN)
    np.testing.assert_array_equal(together.intercept[k], arrays.intercept[j])
    if arrays.average_coef.shape[0]:
        np.testing.assert_array_equal(together.average_coef[k], arrays.average_coef[j])
        np.testing.assert_array_equal(together.average_intercept[k],
                                      arrays.average_intercept[j])
    if arrays.step_state is not None:
        for part in (0, 2):
            np.testing.assert_array_equal(together.step_state[part][k],
                                          arrays.step_state[part][j])
    assert result["n_iter"][k] == single["n_iter"][j]
    assert result["diverged"][k] == single["diverged"][j]
    assert result["t"][k] == single["t"][j]
    n_iter = single["n_iter"][j]
    np.testing.assert_array_equal([epoch[k] for epoch in result["objective_curve"][:n_iter]],
                                  [epoch[j] for epoch in single["objective_curve"][:n_iter]])


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_models_fitted_together_equal_models_fitted_alone(layout, dtype, n_threads, task):
    rng = np.random.RandomState(
        ["dense", "csr"].index(layout) + 2 * (dtype == np.float32) + 4 * n_threads
        + 8 * (task == "regression"))
    X, score, classes = _data(layout, dtype)
    classification = task == "classification"
    # (every regression loss takes positive targets, the log-link ones only those)
    y = classes if classification else np.exp(0.5 * score).astype(dtype)
    names = CLASSIFICATION if classification else REGRESSION
    models, alone, parts = [], [], []
    for i in range(16):
        settings, schedule = _model(rng, "squared_error" if i == 5 else names[i % len(names)])
        if i == 5:  # (one model diverges: the others go on)
            settings.update(eta0=1e300, learning_rate=_engine.LEARNING_RATES["constant"],
                            penalty=_engine.PENALTIES["none"])
            schedule = "constant"
        models.append(settings)
        averaged = settings["average"] > 0
        arrays = _arrays(1, X.shape[1], dtype, schedule, averaged)
        parts.append(_arrays(1, X.shape[1], dtype, schedule, averaged))
        alone.append((arrays, _fit([settings], X, y, classification, arrays)))
    together = _stack(parts)
    result = _fit(models, X, y, classification, together, n_threads=n_threads)
    assert result["diverged"][5] > 0 and result["status"] == _engine.DIVERGED
    for k, (arrays, single) in enumerate(alone):
        _assert_same(together, k, arrays, 0, result, single)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_multinomial_models_among_one_vs_rest_ones(layout, n_threads):
    """Softmax models (K outputs each) and one-vs-rest outputs in one fit."""
    rng = np.random.RandomState(3)
    X, score, _ = _data(layout, np.float64)
    y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(np.float64)
    d = X.shape[1]
    models, parts, alone = [], [], []
    for name in ["multinomial_log_loss", "hinge", "log_loss", "multinomial_log_loss"]:
        settings, schedule = _model(rng, name)
        if name == "multinomial_log_loss":
            group = [(settings, _arrays(3, d, np.float64, schedule, settings["average"] > 0))]
        else:  # one-vs-rest: a model per class
            group = [(settings, _arrays(1, d, np.float64, schedule, settings["average"] > 0,
                                        pos_label=c)) for c in range(3)]
        for settings, arrays in group:
            models.append(settings)
            parts.append(_engine.ModelArrays(**{
                name: getattr(arrays, name) if getattr(arrays, name) is None
                else (tuple(a.copy() for a in arrays.step_state) if name == "step_state"
                      else getattr(arrays, name).copy())
                for name in _engine.ModelArrays.__slots__}))
            alone.append((arrays, _fit([settings], X, y, True, arrays, n_classes=3)))
    together = _stack(parts)
    result = _fit(models, X, y, True, together, n_threads=n_threads, n_classes=3)
    k = 0
    for arrays, single in alone:
        for j in range(arrays.coef.shape[0]):
            _assert_same(together, k, arrays, j, result, single)
            k += 1


@pytest.mark.parametrize("n_threads", [1, 2])
def test_wide_csr_models_in_jobs_of_a_few(n_threads):
    """CSR rows over 2^16 features: a job holds at most SPARSE_JOB_BYTES of weights
    (two models here), so the pass is several jobs; each model as alone."""
    rng = np.random.RandomState(5)
    d, n = 2 ** 16, 200
    X = sp.random(n, d, density=20 / d, format="csr", random_state=rng)
    y = (rng.uniform(size=n) > 0.5).astype(np.float64)
    assert _engine.SPARSE_JOB_BYTES // (d * 8) == 2
    models, alone, parts = [], [], []
    for i in range(5):
        settings, schedule = _model(rng, ["hinge", "log_loss"][i % 2])
        models.append(settings)
        averaged = settings["average"] > 0
        arrays = _arrays(1, d, np.float64, schedule, averaged)
        parts.append(_arrays(1, d, np.float64, schedule, averaged))
        alone.append((arrays, _fit([settings], X, y, True, arrays)))
    together = _stack(parts)
    result = _fit(models, X, y, True, together, n_threads=n_threads)
    for k, (arrays, single) in enumerate(alone):
        _assert_same(together, k, arrays, 0, result, single)
