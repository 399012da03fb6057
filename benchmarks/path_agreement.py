"""How closely sklloss's SGDOneClassSVM and Perceptron follow scikit-learn's path.

For the same random_state both libraries visit the rows in the same order, so the
fitted coefficients should agree up to floating-point rounding. This fits both on a
grid of settings (schedules, penalties, averaging, intercept, weights, dense and CSR,
float64 and float32, two seeds; 384 fits), checks that n_iter_ and t_ are equal, and
prints the largest relative difference of coef_ (max |ours - theirs| / max |theirs|)
and of offset_ / intercept_. For float32 fits it also compares both libraries with
scikit-learn's float64 fit of the same data, which tells whose rounding a float32
difference is. Multi-class Perceptron is one-vs-rest, which sklloss fits in one pass
with one row order for all classes (scikit-learn: one order per class), so its rows
differ by the order's randomness, not by rounding (docs/user_guide/drop_in.rst).

    python benchmarks/path_agreement.py    # a few seconds; writes results/path_agreement.md
"""
import itertools
import os
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn.linear_model as sk

import sklloss

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                       "path_agreement.md")
ONE_CLASS = [dict(), dict(nu=0.1, learning_rate="constant", eta0=0.01),
             dict(nu=0.9, learning_rate="invscaling", eta0=0.1),
             dict(learning_rate="adaptive", eta0=0.05), dict(nu=0.3, fit_intercept=False),
             dict(shuffle=False, nu=1.0)]
PERCEPTRON = [dict(), dict(penalty="l2", alpha=1e-3), dict(penalty="l1", alpha=1e-4),
              dict(penalty="elasticnet", l1_ratio=0.3, alpha=1e-4),
              dict(fit_intercept=False), dict(eta0=0.1, shuffle=False)]


def _relative(a, b):
    scale = np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / scale) if scale > 0 else float(np.max(np.abs(a)))


def _data():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(300, 8) * 0.7 + 1.0, rng.uniform(-3, 3, (60, 8))])
    X[np.abs(X) < 0.4] = 0  # (a sparse pattern for the CSR fits)
    binary = (X[:, 0] + 0.3 * rng.randn(len(X)) > 0.8).astype(int)
    three = np.digitize(X[:, 1] + 0.3 * rng.randn(len(X)), [0.3, 1.3])
    return X, binary, three, rng.uniform(0.3, 2, len(X))


def _fit(module, name, params, X, y, weights):
    estimator = getattr(module, name)(**params)
    args = (X,) if y is None else (X, y)
    return estimator.fit(*args, sample_weight=weights)


def main():
    warnings.simplefilter("ignore")
    X, binary, three, weights = _data()
    cases = [("SGDOneClassSVM", "", ONE_CLASS, [None], [False, True]),
             ("Perceptron", " binary", PERCEPTRON, [binary], [False]),
             ("Perceptron", " 3-class (one-vs-rest)", PERCEPTRON, [three], [False])]
    rows, float32_rows, n_fits = {}, {}, 0
    for (name, kind, settings, targets, averages), fmt, dtype, weighted, seed in (
            itertools.product(cases, ["dense", "CSR"], [np.float64, np.float32],
                              [False, True], [0, 7])):
        data = X.astype(dtype)
        data = sp.csr_matrix(data) if fmt == "CSR" else data
        for params, y, average in itertools.product(settings, targets, averages):
            params = dict(params, random_state=seed, max_iter=20, tol=None)
            if name == "SGDOneClassSVM":
                params["average"] = average
            sw = weights if weighted else None
            ours = _fit(sklloss, name, params, data, y, sw)
            theirs = _fit(sk, name, params, data, y, sw)
            assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_, (name, params)
            intercept = "offset_" if name == "SGDOneClassSVM" else "intercept_"
            key = (name + kind + (" averaged" if average else ""), np.dtype(dtype).name)
            row = rows.setdefault(key, [0, 0.0, 0.0])
            row[0] += 1
            row[1] = max(row[1], _relative(ours.coef_, theirs.coef_))
            row[2] = max(row[2], _relative(np.atleast_1d(getattr(ours, intercept)),
                                           np.atleast_1d(getattr(theirs, intercept))))
            n_fits += 1
            if dtype == np.float32:
                reference = _fit(sk, name, params, data.astype(np.float64), y, sw)
                row32 = float32_rows.setdefault(key[0], [0.0, 0.0])
                row32[0] = max(row32[0], _relative(ours.coef_, reference.coef_))
                row32[1] = max(row32[1], _relative(theirs.coef_, reference.coef_))
    lines = [f"{n_fits} fits; n_iter_ and t_ equal in every one.", "",
             "| estimator | dtype | fits | coef_ rel. diff | offset_ / intercept_ rel. diff |",
             "|---|---|---:|---:|---:|"]
    lines += [f"| {k[0]} | {k[1]} | {n} | {c:.1e} | {i:.1e} |"
              for k, (n, c, i) in sorted(rows.items())]
    lines += ["", "float32 fits against scikit-learn's float64 fit of the same data:", "",
              "| estimator | sklloss float32 | scikit-learn float32 |", "|---|---:|---:|"]
    lines += [f"| {k} | {o:.1e} | {t:.1e} |" for k, (o, t) in sorted(float32_rows.items())]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(RESULTS, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
