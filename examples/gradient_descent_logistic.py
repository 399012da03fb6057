"""Fit a logistic regression with sklloss's loss kernels and plain gradient descent.
=================================================================================

The loss object gives the per-sample derivative with respect to the raw prediction,
so the gradient with respect to the coefficients is one matrix product: X.T @ g.
The result is checked against scikit-learn's LogisticRegression without penalty.

    python examples/gradient_descent_logistic.py
"""
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklloss.losses import LogLoss


def fit_logistic(X, y, n_iter=5000, learning_rate=0.5, l2=1e-2):
    """Minimise mean log loss + l2/2 |w|^2 by full-batch gradient descent."""
    loss = LogLoss()
    n_samples, n_features = X.shape
    coef = np.zeros(n_features)
    intercept = 0.0
    for _ in range(n_iter):
        raw = X @ coef + intercept
        _, grad_raw = loss.loss_gradient(y, raw)  # d loss_i / d raw_i, one pass
        coef -= learning_rate * (X.T @ grad_raw / n_samples + l2 * coef)
        intercept -= learning_rate * grad_raw.mean()
    objective = loss(y, X @ coef + intercept) + 0.5 * l2 * coef @ coef
    return coef, intercept, objective


def main():
    X, y = load_breast_cancer(return_X_y=True)  # y in {0, 1}: LogLoss takes it as is
    X = StandardScaler().fit_transform(X)
    l2 = 1e-2
    coef, intercept, objective = fit_logistic(X, y, l2=l2)
    # scikit-learn's C is 1 / (n_samples * l2) for this objective
    reference = LogisticRegression(C=1 / (len(y) * l2), tol=1e-10, max_iter=10_000).fit(X, y)
    gap = np.max(np.abs(coef - reference.coef_[0]))
    accuracy = np.mean((X @ coef + intercept > 0) == y)
    print(f"objective {objective:.6f}, training accuracy {accuracy:.4f}, "
          f"max |coef - scikit-learn's| = {gap:.2e}")
    return gap


if __name__ == "__main__":
    main()
