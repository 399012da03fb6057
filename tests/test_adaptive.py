"""learning_rate='adagrad' and 'normalized_adagrad': the engine against a NumPy replay
of the update equations in sklloss/linear_model/_adaptive.pxd, and the properties the
schedules promise (scale invariance, state kept across calls, determinism)."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, softmax

from sklloss import SGDClassifier, SGDRegressor
from sklloss.linear_model._engine import BASE_STEP_PER_ETA0

SCHEDULES = ["adagrad", "normalized_adagrad"]
PENALTIES = [None, "l2", "l1", "elasticnet"]


# -- the replay: the equations of the docstring, one row at a time -------------------
def _hinge(y, p):
    return -y if y * p <= 1.0 else 0.0


def _log_loss(y, p):
    return -y * expit(-y * p)


def _squared_error(y, p):
    return p - y


class Replay:
    """K outputs trained by the per-coordinate schedule on rows in their order.
    `gradients(p, i)` gives the K derivatives of row i's loss at the raw predictions
    p, `weights(i)` its K weights."""

    def __init__(self, n_outputs, n_features, schedule, eta0=0.01, alpha=1e-4,
                 l1_ratio=0.15, penalty="l2", fit_intercept=True, average=False):
        self.K, self.d = n_outputs, n_features
        self.normalized = schedule == "normalized_adagrad"
        self.base = BASE_STEP_PER_ETA0[schedule] * eta0
        l1_ratio = {None: 0.0, "l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]
        self.l1 = 0.0 if penalty is None else alpha * l1_ratio
        self.l2 = 0.0 if penalty is None else alpha * (1 - l1_ratio)
        self.penalised = penalty is not None
        self.fit_intercept = fit_intercept
        self.average = int(average)
        self.w = np.zeros((n_outputs, n_features))
        self.b = np.zeros(n_outputs)
        self.G = np.zeros((n_outputs, n_features))
        self.Gb = np.zeros(n_outputs)
        self.inv_s = np.full((n_outputs, n_features), np.inf)
        self.T = np.zeros(n_outputs)
        self.N = np.zeros(n_outputs)
        self.sum_w = np.zeros((n_outputs, n_features))
        self.sum_b = np.zeros(n_outputs)
        self.n_averaged = 0
        self.t = 1

    def step(self, k):
        if self.normalized and self.N[k] > 0:
            return self.base * np.sqrt(self.T[k] / self.N[k])
        return self.base

    def prox(self, w, n_rows, step, l1_units):
        threshold = n_rows * self.l1 * step * l1_units
        if threshold > 0:
            w = np.sign(w) * max(abs(w) - threshold, 0.0)
        return w / (1.0 + n_rows * self.l2 * step)

    def units(self, k, j):
        return 1.0 if not self.normalized else self.inv_s[k, j]

    def epoch(self, rows, gradients, weights):
        last = np.full((self.K, self.d), self.t - 1.0)
        for i, (cols, values) in rows:
            t = self.t
            p = np.empty(self.K)
            norms = np.zeros(self.K)
            for k in range(self.K):
                dot = 0.0
                for j, x in zip(cols, values):
                    if self.normalized and x != 0 and abs(x) * self.inv_s[k, j] > 1:
                        if np.isfinite(self.inv_s[k, j]):
                            ratio = (1 / abs(x)) / self.inv_s[k, j]
                            self.G[k, j] *= ratio ** 2
                            self.w[k, j] *= ratio
                        self.inv_s[k, j] = 1 / abs(x)
                    if self.normalized and x != 0:
                        norms[k] += (x * self.inv_s[k, j]) ** 2
                    dot += self.w[k, j] * x
                p[k] = dot + self.b[k]
            g = np.clip(gradients(p, i), -1e12, 1e12)
            c = weights(i)
            for k in range(self.K):
                if self.normalized and c[k] > 0:
                    self.T[k] += c[k]
                    self.N[k] += c[k] * (norms[k] + self.fit_intercept)
                gc = g[k] * c[k]
                if gc == 0:
                    continue
                for j, x in zip(cols, values):
                    # the penalty of the rows since the coordinate's last update
                    pending = t - 1 - last[k, j]
                    if self.penalised and pending > 0 and self.G[k, j] > 0:
                        self.w[k, j] = self.prox(self.w[k, j], pending,
                                                 self.step(k) / np.sqrt(self.G[k, j]),
                                                 self.units(k, j))
                    last[k, j] = t
                    if x == 0:
                        # (no gradient: its own penalty step only)
                        if self.penalised and self.G[k, j] > 0:
                            self.w[k, j] = self.prox(self.w[k, j], 1,
                                                     self.step(k) / np.sqrt(self.G[k, j]),
                                                     self.units(k, j))
                        continue
                    scale = self.units(k, j)
                    a = gc * x * scale
                    self.G[k, j] += a * a
                    if self.G[k, j] > 0:
                        step = self.step(k) / np.sqrt(self.G[k, j])
                        w = self.w[k, j] - step * a * scale
                        if self.penalised:
                            w = self.prox(w, 1, step, scale)
                        self.w[k, j] = w
                if self.fit_intercept:
                    self.Gb[k] += gc * gc
                    self.b[k] -= self.step(k) * gc / np.sqrt(self.Gb[k])
            if 0 < self.average <= t:
                self.sum_w += self.w
                self.sum_b += self.b
                self.n_averaged += 1
            self.t += 1
        for k in range(self.K):  # the end of the epoch: every pending penalty
            for j in range(self.d):
                n_rows = self.t - 1 - last[k, j]
                if self.penalised and n_rows > 0 and self.G[k, j] > 0:
                    self.w[k, j] = self.prox(self.w[k, j], n_rows,
                                             self.step(k) / np.sqrt(self.G[k, j]),
                                             self.units(k, j))

    def model(self):
        if self.average and self.n_averaged:
            return self.sum_w / self.n_averaged, self.sum_b / self.n_averaged
        return self.w, self.b


def _rows(X):
    """(i, (columns, values)) per row: a dense row's every entry, a CSR row's stored
    ones."""
    if sp.issparse(X):
        return [(i, (X.indices[X.indptr[i]:X.indptr[i + 1]],
                     X.data[X.indptr[i]:X.indptr[i + 1]])) for i in range(X.shape[0])]
    return [(i, (np.arange(X.shape[1]), X[i])) for i in range(X.shape[0])]


def _data(sparse, n=40, d=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)) * np.array([1.0, 10.0, 0.1, 3.0, 1.0, 0.5])[:d]
    X[rng.uniform(size=X.shape) < 0.4] = 0.0  # zeros, so that CSR rows skip some
    X[:, 5] = 0.0
    X[n // 2:, 5] = rng.normal(size=n - n // 2)  # a feature first seen half-way through
    y = (X @ rng.normal(size=d) + 0.3 * rng.normal(size=n) > 0).astype(int)
    return (sp.csr_matrix(X) if sparse else X), y


def _assert_model(coef, intercept, replay):
    w, b = replay.model()
    np.testing.assert_allclose(np.atleast_2d(coef), w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.atleast_1d(intercept), b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("average", [False, 7])
def test_binary_matches_replay(schedule, penalty, sparse, average):
    X, y = _data(sparse)
    sw = np.random.RandomState(1).uniform(0.2, 2.0, size=y.shape[0])
    alpha = 0.01  # large enough for every penalty step to matter
    clf = SGDClassifier(loss="log_loss", learning_rate=schedule, penalty=penalty,
                        alpha=alpha, l1_ratio=0.4, average=average, shuffle=False,
                        max_iter=3, tol=None, class_weight={0: 1.5, 1: 0.75})
    clf.fit(X, y, sample_weight=sw)
    yy = np.where(y == 1, 1.0, -1.0)
    replay = Replay(1, X.shape[1], schedule, alpha=alpha, l1_ratio=0.4, penalty=penalty,
                    average=average)
    for _ in range(3):
        replay.epoch(_rows(X), lambda p, i: [_log_loss(yy[i], p[0])],
                     lambda i: [sw[i] * (1.5 if y[i] == 0 else 0.75)])
    _assert_model(clf.coef_, clf.intercept_, replay)
    assert clf.t_ == replay.t


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("sparse", [False, True])
def test_regression_and_partial_fit_match_replay(schedule, sparse):
    """The accumulators carry over from one partial_fit call to the next."""
    X, _ = _data(sparse, seed=3)
    y = np.asarray(X @ np.arange(1.0, 7.0)).ravel() + 0.5
    reg = SGDRegressor(learning_rate=schedule, penalty="elasticnet", alpha=0.003,
                       shuffle=False, eta0=0.02)
    replay = Replay(1, X.shape[1], schedule, eta0=0.02, alpha=0.003,
                    penalty="elasticnet")
    for _ in range(4):
        reg.partial_fit(X, y)
        replay.epoch(_rows(X), lambda p, i: [_squared_error(y[i], p[0])],
                     lambda i: [1.0])
        _assert_model(reg.coef_, reg.intercept_, replay)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_hinge_one_vs_rest_matches_replay(schedule):
    """Three one-vs-rest outputs, each its own state; a hinge loss's zero-gradient
    rows leave their penalty pending."""
    X, _ = _data(False, n=60, seed=4)
    y = np.random.RandomState(5).randint(3, size=60)
    clf = SGDClassifier(learning_rate=schedule, shuffle=False, max_iter=2, tol=None,
                        alpha=0.01).fit(X, y)
    targets = np.where(y[:, None] == np.arange(3), 1.0, -1.0)
    replay = Replay(3, X.shape[1], schedule, alpha=0.01)
    for _ in range(2):
        replay.epoch(_rows(X), lambda p, i: [_hinge(targets[i, k], p[k]) for k in range(3)],
                     lambda i: np.ones(3))
    _assert_model(clf.coef_, clf.intercept_, replay)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("sparse", [False, True])
def test_multinomial_matches_replay(schedule, sparse):
    X, _ = _data(sparse, n=50, seed=6)
    y = np.random.RandomState(7).randint(3, size=50)
    clf = SGDClassifier(loss="multinomial_log_loss", learning_rate=schedule,
                        shuffle=False, max_iter=3, tol=None, alpha=0.01,
                        average=10).fit(X, y)
    onehot = np.eye(3)[y]
    replay = Replay(3, X.shape[1], schedule, alpha=0.01, average=10)
    for _ in range(3):
        replay.epoch(_rows(X), lambda p, i: softmax(p) - onehot[i], lambda i: np.ones(3))
    _assert_model(clf.coef_, clf.intercept_, replay)


# -- properties ----------------------------------------------------------------------
@pytest.mark.parametrize("penalty", PENALTIES)
def test_normalized_is_invariant_to_feature_scales(penalty):
    """Rescaling features changes the normalised schedule's weights by the inverse
    factors and its predictions not at all (its penalty is on the normalised
    weights)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 8))
    y = (X[:, 0] - X[:, 1] + 0.5 * X[:, 2] + 0.3 * rng.normal(size=300) > 0).astype(int)
    scales = 10.0 ** rng.uniform(-3, 3, size=8)
    kw = dict(learning_rate="normalized_adagrad", penalty=penalty, alpha=1e-3,
              max_iter=5, tol=None, random_state=0)
    plain = SGDClassifier(**kw).fit(X, y)
    scaled = SGDClassifier(**kw).fit(X * scales, y)
    np.testing.assert_allclose(scaled.coef_ * scales, plain.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scaled.decision_function(X * scales),
                               plain.decision_function(X), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_dense_and_csr_agree_without_penalty(schedule):
    X, y = _data(False, n=80, seed=8)
    kw = dict(learning_rate=schedule, penalty=None, max_iter=4, tol=None, random_state=0,
              average=True)
    dense = SGDClassifier(**kw).fit(X, y)
    csr = SGDClassifier(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=1e-12)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_state_persists_pickles_and_survives_a_failed_call(schedule):
    X, y = _data(False, n=60, seed=9)
    one = SGDClassifier(learning_rate=schedule, random_state=0)
    one.partial_fit(X, y, classes=[0, 1])
    copy = pickle.loads(pickle.dumps(one))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError):
        one.partial_fit(bad, y)
    one.partial_fit(X, y)
    copy.partial_fit(X, y)
    np.testing.assert_array_equal(one.coef_, copy.coef_)
    # a fresh model's second call differs: the accumulators made the difference
    fresh = SGDClassifier(learning_rate=schedule, random_state=0)
    fresh.partial_fit(X, y, classes=[0, 1])
    restarted = SGDClassifier(learning_rate=schedule, random_state=0,
                              warm_start=True, max_iter=1, tol=None)
    restarted.fit(X, y, coef_init=fresh.coef_, intercept_init=fresh.intercept_)
    assert not np.allclose(restarted.coef_, one.coef_)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_warm_start_continues_the_accumulators(schedule):
    X, y = _data(False, n=60, seed=10)
    kw = dict(learning_rate=schedule, shuffle=False, max_iter=2, tol=None)
    twice = SGDClassifier(warm_start=True, **kw).fit(X, y)
    twice.fit(X, y)
    once = SGDClassifier(**{**kw, "max_iter": 4}).fit(X, y)
    # (t_ restarts with each fit, as in scikit-learn: the same updates otherwise)
    np.testing.assert_allclose(twice.coef_, once.coef_, rtol=1e-10)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_threads_and_float32(schedule):
    X, _ = _data(False, n=90, seed=11)
    y = np.random.RandomState(12).randint(4, size=90)
    kw = dict(learning_rate=schedule, max_iter=5, tol=None, random_state=3)
    one = SGDClassifier(n_jobs=1, **kw).fit(X, y)
    two = SGDClassifier(n_jobs=2, **kw).fit(X, y)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    single = SGDClassifier(n_jobs=1, **kw).fit(X.astype(np.float32), y)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, one.coef_, rtol=1e-3, atol=1e-4)
