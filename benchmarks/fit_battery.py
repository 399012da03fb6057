"""A fixed battery of fits, to show that a change changed nothing: run it under two
builds (e.g. the last landed commit's, installed in another virtual environment, and
yours) and compare what they fitted, bit for bit.

    python benchmarks/fit_battery.py --save before.pkl     # under the old build
    python benchmarks/fit_battery.py --save after.pkl      # under the new build
    python benchmarks/fit_battery.py --compare before.pkl after.pkl

The battery draws 40 configurations (seeded) of each loss of each task from
penalty x schedule (the passive-aggressive ones with their losses) x averaging x
dense / CSR x float64 / float32 x binary / one-vs-rest / multinomial / regression x
fit / partial_fit in three chunks / early stopping x an extra (none, sample weights,
class weights, two threads, the loss as an object, verbose output, steps so large
that most fits diverge): 920 fits of scikit-learn's losses and schedules, then 480 of
sklloss's own (Poisson, Gamma, Tweedie, quantile and absolute-error regression, the
per-coordinate schedules 'adagrad' and 'normalized_adagrad' with the losses above, and
SGDOneClassSVM), 1400 in all, and records
coef_, intercept_, n_iter_, t_, loss_curve_, validation_scores_, best_loss_,
best_validation_score_, classes_, loss_function_, the predictions and
probabilities of 50 rows and what verbose printed (or the error raised, by type and
message).
"""
import argparse
import contextlib
import io
import itertools
import pickle
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression

import sklloss

ATTRIBUTES = ("coef_", "intercept_", "n_iter_", "t_", "loss_curve_", "validation_scores_",
              "best_loss_", "best_validation_score_", "classes_", "loss_function_")
# (written out, not read from the registry: the battery must run unchanged on builds
# whose registry differs)
REGRESSION = ["squared_error", "huber", "epsilon_insensitive",
              "squared_epsilon_insensitive"]
CLASSIFICATION = ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
                  *REGRESSION]
LOSSES = {
    "binary": CLASSIFICATION,
    "ovr": CLASSIFICATION,
    "multinomial": ["multinomial_log_loss"],
    "regression": REGRESSION,
}
PA_LOSS = {"regression": "epsilon_insensitive"}  # (the classifier's: hinge)
MORE_LOSSES = {
    "binary": ["hinge", "log_loss"],
    "ovr": ["modified_huber"],
    "multinomial": ["multinomial_log_loss"],
    "regression": ["squared_error", "huber"],
    "glm": ["poisson", "gamma", "tweedie"],
    "quantile": ["quantile", "absolute_error"],
    "one-class": ["hinge"],
}
MORE_SCHEDULES = ["adagrad", "normalized_adagrad", "optimal", "invscaling", "constant",
                  "adaptive"]
EXTRAS = [None, "sample_weight", "class_weight", "n_jobs", "loss object", "verbose",
          "huge steps"]


def _draw(random_state, task, loss, schedules, per_loss):
    """`per_loss` configurations of this task's loss, drawn from every combination."""
    every = [(task, loss, *rest) for rest in itertools.product(
        ["l2", "l1", "elasticnet", None], schedules, [False, True], ["dense", "csr"],
        ["float64", "float32"], ["fit", "partial_fit", "early stopping"], EXTRAS)]
    picked = random_state.choice(len(every), per_loss, replace=False)
    return [every[i] for i in sorted(picked)]


def configurations(per_loss=40):
    """`per_loss` configurations (seeded) of each task's each loss."""
    chosen = []
    random_state = np.random.RandomState(1)
    for task, losses in LOSSES.items():
        for loss in losses:
            schedules = ["optimal", "invscaling", "constant", "adaptive"]
            if loss == PA_LOSS.get(task, "hinge"):
                schedules += ["pa1", "pa2"]
            chosen.extend(_draw(random_state, task, loss, schedules, per_loss))
    # sklloss's own losses and schedules, and the one-class SVM (drawn apart, so that
    # the configurations above stay what they were)
    random_state = np.random.RandomState(2)
    for task, losses in MORE_LOSSES.items():
        for loss in losses:
            chosen.extend(_draw(random_state, task, loss, MORE_SCHEDULES, per_loss))
    return chosen


def run_battery():
    X_c, y_c = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
    X_r, y_r = make_regression(300, 8, noise=1.0, random_state=0)
    y_r = y_r / y_r.std()
    y_glm = np.exp(0.3 * y_r)  # (positive targets for the log-link losses)
    results = {}
    for config in configurations():
        task, loss, penalty, schedule, average, layout, dtype, mode, extra = config
        regression = task in ("regression", "glm", "quantile")
        X, y = (X_r, y_glm if task == "glm" else y_r) if regression else (
            X_c, (y_c > 0).astype(int) if task == "binary" else y_c)
        X = X.astype(dtype)
        if layout == "csr":
            X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0))
        one_class = task == "one-class"
        Estimator = (sklloss.SGDOneClassSVM if one_class else sklloss.SGDRegressor
                     if regression else sklloss.SGDClassifier)
        params = dict(loss=loss, penalty=penalty, learning_rate=schedule, eta0=0.01,
                      average=average, random_state=3, max_iter=20,
                      alpha=1e-2 if schedule == "optimal" else 1e-3,
                      early_stopping=mode == "early stopping",
                      verbose=int(extra == "verbose"))
        if one_class:  # (its parameters: no loss, penalty, alpha, early stopping)
            params = dict(nu=0.2, learning_rate=schedule, eta0=0.01, average=average,
                          random_state=3, max_iter=20, verbose=int(extra == "verbose"))
            if schedule in ("adagrad", "normalized_adagrad"):
                params["learning_rate"] = "optimal"
        if extra == "loss object" and not one_class:
            params["loss"] = sklloss.losses.get_loss(
                loss, **({"epsilon": 0.3} if loss in ("huber", "epsilon_insensitive",
                                                      "squared_epsilon_insensitive")
                         else {}))
        if extra == "huge steps":  # (most diverge: the error and its epoch are compared)
            params.update(eta0=1e6) if one_class else params.update(
                eta0=1e6, alpha=1e-8 if schedule == "optimal" else 1e-3)
        if extra == "class_weight" and not (regression or one_class):
            params["class_weight"] = {c: 1.0 + 0.5 * c for c in np.unique(y)}
        if extra == "n_jobs" and not (regression or one_class):
            params["n_jobs"] = 2
        sample_weight = None
        if extra == "sample_weight":
            sample_weight = np.random.RandomState(5).uniform(0.2, 2.0, 300).astype(dtype)
        model = Estimator(**params)
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                if mode == "partial_fit":
                    more = {} if regression or one_class else {"classes": np.unique(y)}
                    for chunk in np.array_split(np.arange(300), 3):
                        model.partial_fit(X[chunk], y[chunk], sample_weight=None
                                          if sample_weight is None
                                          else sample_weight[chunk], **more)
                else:
                    model.fit(X, y, sample_weight=sample_weight)
            record = {name: getattr(model, name) for name in ATTRIBUTES
                      if hasattr(model, name)}
            record["predictions"] = model.predict(X[:50])
            if hasattr(model, "predict_proba"):
                record["probabilities"] = model.predict_proba(X[:50])
            record["printed"] = printed.getvalue()
        except Exception as error:  # noqa: BLE001 - recorded and compared
            record = ("error", type(error).__name__, str(error))
        results[config] = record
    return results


def _identical(a, b):
    if isinstance(a, tuple) or isinstance(b, tuple):
        return a == b
    if a.keys() != b.keys():
        return False
    for name in a:
        x, y = a[name], b[name]
        if isinstance(x, np.ndarray):
            if not (isinstance(y, np.ndarray) and x.dtype == y.dtype
                    and np.array_equal(x, y, equal_nan=True)):
                return False
        elif type(x) is not type(y) or x != y:
            return False
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", metavar="FILE", help="run the battery, save its results")
    group.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.save:
        results = run_battery()
        with open(args.save, "wb") as f:
            pickle.dump(results, f)
        print(f"{len(results)} fits (sklloss {sklloss.__version__}) saved to {args.save}")
        return 0
    with open(args.compare[0], "rb") as f:
        before = pickle.load(f)
    with open(args.compare[1], "rb") as f:
        after = pickle.load(f)
    different = [config for config in before if not _identical(before[config],
                                                               after.get(config, ()))]
    errors = sum(isinstance(before[config], tuple) for config in before
                 if config not in different)
    print(f"{len(before) - len(different)} of {len(before)} fits bit-identical "
          f"({errors} of them raise the same error in both)")
    for config in different:
        print("  differs:", config)
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
