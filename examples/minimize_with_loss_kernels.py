"""Minimise the SGD estimators' objective with scipy, using sklloss's loss kernels.
================================================================================

sklloss's SGDRegressor and SGDClassifier with penalty="l2" minimise, as scikit-learn's
do,

::

    F(w, b) = (1/n) sum_i loss(y_i, x_i . w + b) + alpha/2 |w|^2

(the intercept b is not penalised). One ``loss_gradient`` call gives every per-sample
loss and its derivative with respect to the raw prediction, so F and its gradient
cost one kernel call and one matrix product (X.T @ g): exactly what
``scipy.optimize.minimize(..., jac=True)`` asks for. L-BFGS-B then finds the optimum
(to a gradient norm below 1e-10) for the Huber loss (regression) and the log loss
(binary classification, labels in {0, 1}).

Averaged SGD with a step size decaying like 1 / sqrt(t) converges to that optimum, so
the SGD estimators, run long enough, must agree with it. The script checks that they
do (it stops with an AssertionError if not), and that scikit-learn's SGD estimators
reach the same point, which confirms that F is their objective too.

    python examples/minimize_with_loss_kernels.py
    python examples/minimize_with_loss_kernels.py --fast   # half the data
"""
import argparse
from functools import partial

import numpy as np
import sklearn.linear_model
from scipy.optimize import minimize

import sklloss
from sklloss.losses import Huber, LogLoss

ALPHA = 1e-3
EPSILON = 1.35  # Huber's epsilon, in units of the standardized target
# SGD settings that converge to the optimum: averaged SGD (Polyak-Ruppert) with
# eta_t = 0.5 / sqrt(t), a fixed number of epochs (tol=None) and a fixed seed.
SGD_SETTINGS = dict(penalty="l2", alpha=ALPHA, average=True, learning_rate="invscaling",
                    eta0=0.5, power_t=0.5, tol=None, random_state=0)

MAX_ITER = 1000

# How close SGD must come. Measured with these settings over 40 fits per loss (data
# seeds 0-3 x random_state 0-4 x n = 1000, 2000), the worst relative objective gaps
# were 1.1e-7 (Huber) and 1.6e-7 (log loss), the worst coefficient gaps 1.5e-4 and
# 9.6e-4; the seeds used here give 4e-5 to 1.2e-4. The tolerances are 60x and 2x those
# worst cases; the coefficient one is still about 500x smaller than the largest
# coefficients (about 1 here). Coefficients agree less closely than objectives because
# F is flat at its minimum: a gap dF allows a distance of up to sqrt(2 dF / mu), mu
# being F's smallest curvature, and the worst case above is the flattest problem
# (logistic, n = 1000, mu = 0.035).
OBJECTIVE_RTOL = 1e-5
COEF_ATOL = 2e-3


def make_data(task, n_samples, n_features=10, seed=0):
    """Standardized features; a standardized target with heavy-tailed noise (regression)
    or labels in {0, 1} drawn from a logistic model (classification)."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    coef = rng.normal(size=n_features) / np.sqrt(n_features)
    if task == "regression":
        y = X @ coef + 1.0 + 0.5 * rng.standard_t(df=2, size=n_samples)
        y = (y - y.mean()) / y.std()
    else:
        y = (2 * X @ coef + rng.logistic(size=n_samples) > 0).astype(np.int64)
    return X, y


def sgd_objective(loss, X, y, alpha):
    """F(theta) and its gradient, theta = (w, b), from one loss_gradient call."""
    n_samples = X.shape[0]

    def objective(theta):
        coef, intercept = theta[:-1], theta[-1]
        loss_values, grad_raw = loss.loss_gradient(y, X @ coef + intercept)
        value = loss_values.mean() + 0.5 * alpha * coef @ coef
        gradient = np.append(X.T @ grad_raw / n_samples + alpha * coef, grad_raw.mean())
        return value, gradient

    return objective


def smallest_curvature(objective, theta, step=1e-6):
    """Smallest eigenvalue of F's Hessian at theta, by central differences of the
    gradient (the kernels give derivatives; the Hessian follows from them)."""
    columns = [(objective(theta + step * e)[1] - objective(theta - step * e)[1]) / (2 * step)
               for e in np.eye(theta.shape[0])]
    hessian = np.array(columns)
    return np.linalg.eigvalsh((hessian + hessian.T) / 2).min()


def compare(name, loss, estimators, X, y, max_iter):
    """Full-batch optimum vs. the solutions of the SGD estimators (label -> estimator
    class, its loss already given); returns the gaps."""
    objective = sgd_objective(loss, X, y, ALPHA)
    result = minimize(objective, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B",
                      options=dict(maxiter=10_000, ftol=1e-15, gtol=1e-10))
    assert result.success, result.message
    optimum, theta_opt = result.fun, result.x
    mu = smallest_curvature(objective, theta_opt)

    print(f"{name}: {X.shape[0]} samples, {X.shape[1]} features, alpha = {ALPHA}")
    print(f"  L-BFGS-B on the kernels:  F = {optimum:.10f}  "
          f"({result.nit} iterations; smallest curvature mu = {mu:.3f})")
    gaps = {}
    for label, make_estimator in estimators.items():
        model = make_estimator(**SGD_SETTINGS, max_iter=max_iter).fit(X, y)
        theta = np.append(model.coef_.ravel(), model.intercept_)
        value = objective(theta)[0]
        objective_gap = (value - optimum) / optimum
        coef_gap = np.max(np.abs(theta - theta_opt))
        room = np.sqrt(2 * max(value - optimum, 0.0) / mu)
        print(f"  {label:<24}  F = {value:.10f}  objective gap {objective_gap:.1e}  "
              f"coef gap {coef_gap:.1e} (sqrt(2 dF / mu) = {room:.1e})")
        gaps[label] = dict(objective_gap=float(objective_gap), coef_gap=float(coef_gap),
                           theta=theta)
        # SGD's point is never below the optimum (up to rounding): L-BFGS-B did converge
        assert objective_gap > -1e-10, f"{label} is below the optimum: {objective_gap:.1e}"
        assert objective_gap < OBJECTIVE_RTOL, (
            f"{label} ({max_iter} epochs) is {objective_gap:.1e} above the optimum "
            f"(relative); at most {OBJECTIVE_RTOL:.0e} was expected")
        assert coef_gap < COEF_ATOL, (
            f"{label}'s coefficients are up to {coef_gap:.1e} from the optimum's; "
            f"at most {COEF_ATOL:.0e} was expected")
    ours, theirs = (gaps[label]["theta"] for label in estimators)
    difference = np.max(np.abs(ours - theirs))
    print(f"  sklloss vs scikit-learn: max |coef difference| {difference:.1e}"
          + (" (the same SGD path)" if difference < 1e-8 else ""))
    return {label: {k: v for k, v in gap.items() if k != "theta"}
            for label, gap in gaps.items()}


def main(fast=False, out_dir=None):
    """Run both comparisons; return {problem: {estimator: gaps}}. (No figure: out_dir
    is accepted for a uniform command line and ignored.)"""
    max_iter = MAX_ITER
    n_samples = 1000 if fast else 2000
    print(f"Averaged SGD, eta = {SGD_SETTINGS['eta0']} / sqrt(t), {max_iter} epochs.\n"
          f"objective gap = (F(SGD) - F*) / F*; required < {OBJECTIVE_RTOL:.0e}\n"
          f"coef gap = max |SGD's coefficients and intercept - the optimum's|; "
          f"required < {COEF_ATOL:.0e}\n")
    results = {}
    X, y = make_data("regression", n_samples)
    results["huber"] = compare(
        f"Huber regression (epsilon = {EPSILON})", Huber(epsilon=EPSILON),
        {"sklloss.SGDRegressor": partial(sklloss.SGDRegressor, loss="huber",
                                         epsilon=EPSILON),
         "sklearn SGDRegressor": partial(sklearn.linear_model.SGDRegressor, loss="huber",
                                         epsilon=EPSILON)},
        X, y, max_iter)
    print()
    X, y = make_data("classification", n_samples)
    results["log_loss"] = compare(
        "Logistic regression (log loss, y in {0, 1})", LogLoss(),
        {"sklloss.SGDClassifier": partial(sklloss.SGDClassifier, loss="log_loss"),
         "sklearn SGDClassifier": partial(sklearn.linear_model.SGDClassifier,
                                          loss="log_loss")},
        X, y, max_iter)
    print("\nAll checks passed: SGD reaches the full-batch optimum of "
          "mean loss + alpha/2 |w|^2.")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fast", action="store_true",
                        help="half the data (for the tests)")
    parser.add_argument("--out", default=None,
                        help="accepted for a uniform command line; this example writes no file")
    args = parser.parse_args()
    main(fast=args.fast, out_dir=args.out)
