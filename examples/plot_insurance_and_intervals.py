"""Insurance pricing GLMs and prediction intervals with sklloss's new losses.
==========================================================================

Synthetic motor-insurance policies (driver age, vehicle power, log population density,
a region one-hot; standardised) with a known log-linear claim frequency and claim
severity. Four panels:

1. Claim frequency: ``SGDRegressor(loss="poisson")`` on y = claims / exposure with the
   exposure as sample_weight, against scikit-learn's ``PoissonRegressor`` at the same
   penalty. SGD minimises ``mean(sw * loss) + alpha/2 |w|^2`` and the GLM
   ``sum(sw * dev) / (2 sum(sw)) + alpha/2 |w|^2``, so alpha_sgd = alpha_glm * mean(sw);
   learning_rate="adaptive", tol=1e-6 takes SGD to that optimum. Printed: both
   held-out deviances and fit times. The panel: observed vs predicted frequency by
   decile of predicted risk.
2. Claim severity: ``loss="gamma"`` against ``GammaRegressor`` on the policies with
   claims, y = average claim amount, sample_weight = number of claims. The panel: the
   fitted coefficients of both next to the true ones.
3. Prediction intervals: three ``Quantile`` models (0.05, 0.5, 0.95) on spline
   features of 1-D data whose noise grows with x (penalty="l1": QuantileRegressor's
   objective); held-out coverage of each (share of y below it) and of the 90% band.
4. A ``GridSearchCV`` over ``Tweedie(power=p)`` on the pure premium (total claim
   amount / exposure: compound Poisson-Gamma, mostly exact zeros). Each candidate's
   own D² (``score``) measures it with its own deviance, so the scores of different
   powers are not comparable: the search needs one fixed yardstick, here the mean
   Tweedie deviance of power 1.5 for every candidate (weighted by exposure: metadata
   routing passes sample_weight to both the fit and the scorer). Here
   the mean pure premium is exactly log-linear (frequency times severity), so every
   power estimates the same mean and weighs the policies a little differently: the
   CV deviances differ in the fifth digit and the panel shows, fold by fold, how
   close to a tie the choice is.

The figure is written to plot_insurance_and_intervals.png in examples/images/, or in
DIR with --out DIR::

    python examples/plot_insurance_and_intervals.py
    python examples/plot_insurance_and_intervals.py --out DIR
    python examples/plot_insurance_and_intervals.py --fast   # smaller and quicker: what the tests run
"""
import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.linear_model import GammaRegressor, PoissonRegressor  # noqa: E402
from sklearn.metrics import (make_scorer, mean_gamma_deviance,  # noqa: E402
                             mean_poisson_deviance, mean_tweedie_deviance)
from sklearn.model_selection import GridSearchCV, KFold, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import SplineTransformer, StandardScaler  # noqa: E402

from sklloss import SGDRegressor  # noqa: E402
from sklloss.losses import Quantile, Tweedie  # noqa: E402

FEATURES = ["driver age", "vehicle power", "log density", "region B", "region C",
            "region D"]
# true effects on the log scale, per unit of each raw feature (region A = reference)
FREQ_EFFECTS = np.array([-0.02, 0.06, 0.15, 0.2, -0.3, 0.4])
SEV_EFFECTS = np.array([0.008, 0.05, -0.06, 0.25, 0.1, -0.2])
BASE_FREQ, BASE_SEV, SEV_SHAPE = 0.1, 1500.0, 1.5  # claims per year, euros per claim
ALPHA = 1e-4  # the GLMs' alpha; SGD's is ALPHA * mean(sample_weight)
QUANTILES = (0.05, 0.5, 0.95)
# SGD to the exact optimum: eta0 divided by 5 whenever the objective stalls, until it
# changes by less than 1e-6 (the defaults stop a few epochs earlier, a little short)
TO_OPTIMUM = dict(learning_rate="adaptive", tol=1e-6, random_state=0)
COLORS = {"sklloss": "tab:orange", "scikit-learn": "tab:blue"}


def make_policies(n, rng):
    """Raw features, exposure (years), claim counts, average claim amount (0: no claim)."""
    age, power = rng.uniform(18, 85, n), rng.integers(4, 16, n)
    log_density = rng.normal(6, 1.5, n)
    region = np.eye(4)[rng.integers(0, 4, n)][:, 1:]  # one-hot, region A dropped
    X = np.column_stack([age, power, log_density, region])
    centred = X - X.mean(axis=0)  # BASE_* are the average policy's
    exposure = rng.uniform(0.05, 1.0, n)
    claims = rng.poisson(BASE_FREQ * np.exp(centred @ FREQ_EFFECTS) * exposure)
    severity = BASE_SEV * np.exp(centred @ SEV_EFFECTS)
    k = np.maximum(claims, 1)  # the mean of k Gamma(a, mean mu) claims: Gamma(k a, mean mu)
    average = np.where(claims > 0, rng.gamma(k * SEV_SHAPE, severity / (k * SEV_SHAPE)), 0)
    return X, exposure, claims, average


def compare(name, loss, glm, deviance, X, y, w, X_test, y_test, w_test):
    """sklloss and scikit-learn on the same objective: held-out deviance, fit time."""
    models, devs, times = {}, {}, {}
    for who, model in (("sklloss", SGDRegressor(loss=loss, alpha=ALPHA * w.mean(),
                                                **TO_OPTIMUM)),
                       ("scikit-learn", glm(alpha=ALPHA))):
        start = time.perf_counter()
        models[who] = model.fit(X, y, sample_weight=w)
        times[who] = time.perf_counter() - start
        devs[who] = deviance(y_test, model.predict(X_test), sample_weight=w_test)
    print(f"{name}: held-out {loss.title()} deviance "
          f"sklloss {devs['sklloss']:.4f}, scikit-learn {devs['scikit-learn']:.4f} "
          f"(ratio {devs['sklloss'] / devs['scikit-learn']:.4f})")
    print(f"{name}: fit time sklloss {times['sklloss']:.3f} s, "
          f"scikit-learn {times['scikit-learn']:.3f} s")
    return models, devs


def plot_calibration(ax, models, devs, X, claims, exposure):
    """Observed vs mean predicted frequency, per decile of each model's predictions."""
    for (who, model), marker in zip(models.items(), "os"):
        pred = model.predict(X)
        deciles = np.array_split(np.argsort(pred), 10)
        observed = [claims[d].sum() / exposure[d].sum() for d in deciles]
        predicted = [pred[d] @ exposure[d] / exposure[d].sum() for d in deciles]
        ax.plot(predicted, observed, marker=marker, color=COLORS[who],
                markerfacecolor="none" if marker == "s" else COLORS[who],
                label=f"{who} {type(model).__name__}: held-out deviance {devs[who]:.4f}")
    top = 1.1 * max(ax.get_xlim()[1], ax.get_ylim()[1])
    ax.plot([0, top], [0, top], "k--", linewidth=1, label="perfect calibration")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="mean predicted frequency (claims / year)",
           ylabel="observed frequency (claims / exposure)",
           title="1. Claim frequency (Poisson, exposure as weight)\n"
                 "held-out policies by decile of predicted risk")


def plot_coefficients(ax, models, devs, true_coef):
    positions, width = np.arange(len(FEATURES)), 0.27
    ax.bar(positions - width, true_coef, width, color="0.6", label="true")
    for i, (who, model) in enumerate(models.items()):
        ax.bar(positions + i * width, model.coef_, width, color=COLORS[who],
               label=f"{who} {type(model).__name__}: held-out deviance {devs[who]:.4f}")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylim(1.2 * min(true_coef.min(), 0), 1.7 * true_coef.max())  # room for the legend
    ax.set_xticks(positions, FEATURES, rotation=20)
    ax.set(ylabel="coefficient (log scale, per standard deviation)",
           title="2. Claim severity (Gamma, number of claims as weight)\n"
                 "coefficients on the standardised features")


def signal(x):
    """The true median of y given x, and the noise's standard deviation."""
    return 2 * np.sin(x) + 0.5 * x, 0.3 + 0.25 * x


def heteroscedastic(n, rng):
    """x uniform on [0, 10]; y Gaussian around the signal, its spread growing with x."""
    x = rng.uniform(0, 10, n)
    median, sd = signal(x)
    return x, median + sd * rng.standard_normal(n)


def prediction_intervals(ax, n_train, rng):
    """Quantile models on spline features; held-out coverages; the band."""
    (x, y), (x_held, y_held) = heteroscedastic(n_train, rng), heteroscedastic(10_000, rng)
    preds, grid = {}, np.linspace(0, 10, 200)
    for q in QUANTILES:
        model = make_pipeline(SplineTransformer(n_knots=8, degree=3),
                              SGDRegressor(loss=Quantile(quantile=q), penalty="l1",
                                           alpha=1e-4, **TO_OPTIMUM)).fit(x[:, None], y)
        preds[q] = model.predict(x_held[:, None])
        print(f"quantile {q}: coverage {np.mean(y_held <= preds[q]):.3f}")
        preds[q, "grid"] = model.predict(grid[:, None])
    coverage = np.mean((preds[0.05] <= y_held) & (y_held <= preds[0.95]))
    print(f"90% interval coverage {coverage:.3f}")

    ax.scatter(x_held[:2000], y_held[:2000], s=4, color="0.6", alpha=0.4,
               label="held-out data")
    ax.fill_between(grid, preds[0.05, "grid"], preds[0.95, "grid"], color="tab:orange",
                    alpha=0.3, label=f"0.05 to 0.95 quantile models: coverage {coverage:.3f}")
    ax.plot(grid, preds[0.5, "grid"], color="tab:orange", linewidth=2, label="median model")
    f, sd = signal(grid)
    ax.plot(grid, f - 1.645 * sd, "k--", linewidth=1, label="true 0.05 and 0.95 quantiles")
    ax.plot(grid, f + 1.645 * sd, "k--", linewidth=1)
    ax.set(xlabel="x", ylabel="y", title="3. 90% prediction interval: Quantile(0.05), "
           "(0.5), (0.95)\nSplineTransformer + SGDRegressor(penalty='l1')")


def tweedie_search(ax, X, pure_premium, exposure):
    """CV over the Tweedie power, every candidate scored by the same power-1.5 deviance."""
    scorer = make_scorer(mean_tweedie_deviance, power=1.5, greater_is_better=False)
    with sklearn.config_context(enable_metadata_routing=True):  # weighted fit and score
        model = SGDRegressor(alpha=ALPHA * exposure.mean(), **TO_OPTIMUM)
        search = GridSearchCV(model.set_fit_request(sample_weight=True),
                              {"loss": [Tweedie(power=p) for p in (1.2, 1.5, 1.8)]},
                              scoring=scorer.set_score_request(sample_weight=True),
                              cv=KFold(5, shuffle=True, random_state=0))
        search.fit(X, pure_premium, sample_weight=exposure)
    results, best = search.cv_results_, search.best_index_
    powers = [params["loss"].power for params in results["params"]]
    print("power  CV mean Tweedie deviance (power 1.5)  std")
    for p, mean, std in zip(powers, results["mean_test_score"], results["std_test_score"]):
        print(f"{p:5}  {-mean:36.4f}  {std:.4f}")
    print(f"tweedie power chosen by CV: {powers[best]}")

    folds = -np.array([results[f"split{k}_test_score"] for k in range(search.n_splits_)])
    gaps = folds - folds[:, [best]]  # paired: each fold against the chosen power
    ax.plot(powers, gaps.T, color="tab:blue", alpha=0.35, linewidth=1)
    ax.plot(powers, gaps.mean(axis=0), color="tab:blue", marker="o", linewidth=2.5,
            label=f"mean over the {search.n_splits_} folds (thin lines: each fold)")
    ax.plot(powers[best], 0, "r*", markersize=16, label=f"chosen: power {powers[best]}")
    ax.text(0.98, 0.03, f"CV mean deviance of the chosen power: {folds[:, best].mean():.4f}",
            transform=ax.transAxes, ha="right", fontsize="small")
    ax.set_xticks(powers)
    ax.set(xlabel="Tweedie power of the fitted SGDRegressor",
           ylabel="CV deviance (power 1.5) minus the chosen power's",
           title="4. Pure premium (total claims / exposure), GridSearchCV\n"
                 "over Tweedie(power), one fixed yardstick for all")
    return powers[best]


def main(fast=False, out_dir=None):
    """Fit everything, draw the figure; return the deviances, the power and the path."""
    if out_dir is None:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(0)
    split = train_test_split(*make_policies(60_000 if fast else 300_000, rng),
                             test_size=0.3, random_state=0)
    X, X_test, w, w_test, n, n_test, s, s_test = split
    scaler = StandardScaler().fit(X)
    X, X_test = scaler.transform(X), scaler.transform(X_test)
    print(f"{len(n)} training policies ({(n > 0).sum()} with claims), {len(n_test)} "
          f"held out; GLM alpha {ALPHA:g}")
    fig, axes = plt.subplots(2, 2, figsize=(13, 10))

    freq, freq_devs = compare("frequency", "poisson", PoissonRegressor, mean_poisson_deviance,
                              X, n / w, w, X_test, n_test / w_test, w_test)
    plot_calibration(axes[0, 0], freq, freq_devs, X_test, n_test, w_test)
    has, has_test = n > 0, n_test > 0  # severity: the policies with claims
    sev, sev_devs = compare("severity", "gamma", GammaRegressor, mean_gamma_deviance,
                            X[has], s[has], n[has], X_test[has_test], s_test[has_test],
                            n_test[has_test])
    plot_coefficients(axes[0, 1], sev, sev_devs, SEV_EFFECTS * scaler.scale_)
    prediction_intervals(axes[1, 0], 4000 if fast else 20_000, rng)
    print(f"pure premium: {np.mean(n == 0):.1%} exact zeros")
    power = tweedie_search(axes[1, 1], X, n * s / w, w)

    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    path = os.path.join(out_dir, "plot_insurance_and_intervals.png")
    fig.savefig(path, dpi=100)
    print(f"figure written to {path}")
    return dict(frequency_deviance=freq_devs, severity_deviance=sev_devs, power=power,
                path=path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fast", action="store_true",
                        help="fewer policies and points (for the tests)")
    parser.add_argument("--out", default=None,
                        help="directory for the PNG (default: images/ next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out_dir=args.out)
