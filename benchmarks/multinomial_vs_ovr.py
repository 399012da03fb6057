"""True multinomial SGD against one-vs-rest log loss, on held-out data.

For each data set (digits, wine, a 16-class synthetic set) and each of
``SGDClassifier(loss="log_loss")`` (one-vs-rest, probabilities normalised across
classes) and ``SGDClassifier(loss="multinomial_log_loss")`` (one softmax model):
repeated stratified 75/25 splits; on the training part, ``GridSearchCV`` picks alpha
by 5-fold cross-validated log loss (each loss gets its own best alpha; every other
parameter is the default); the chosen model is scored on the held-out part. The
tables give the mean held-out log loss and accuracy over the splits, with their
standard errors, the median chosen alpha, and the split-by-split differences.

    python benchmarks/multinomial_vs_ovr.py            # 20 splits, a few minutes
    python benchmarks/multinomial_vs_ovr.py --fast     # 2 splits, seconds (the tests)
"""
import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, StratifiedShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklloss import SGDClassifier

LOSSES = ("log_loss", "multinomial_log_loss")
ALPHAS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def data_sets(fast):
    synthetic = make_classification(
        n_samples=1000 if fast else 4000, n_features=40, n_informative=20, n_classes=16,
        n_clusters_per_class=1, random_state=0)
    return {"digits (10 classes)": load_digits(return_X_y=True),
            "wine (3 classes)": load_wine(return_X_y=True),
            "synthetic (16 classes)": synthetic}


def held_out_scores(X, y, loss, n_splits, alphas, n_jobs):
    """Per split: held-out log loss, accuracy and the alpha cross-validation chose."""
    splits = StratifiedShuffleSplit(n_splits, test_size=0.25, random_state=0)
    rows = []
    for i, (train, test) in enumerate(splits.split(X, y)):
        search = GridSearchCV(
            make_pipeline(StandardScaler(), SGDClassifier(loss=loss, random_state=i)),
            {"sgdclassifier__alpha": alphas}, scoring="neg_log_loss", n_jobs=n_jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(X[train], y[train])
        probabilities = search.predict_proba(X[test])
        rows.append((log_loss(y[test], probabilities, labels=np.unique(y)),
                     accuracy_score(y[test], search.predict(X[test])),
                     search.best_params_["sgdclassifier__alpha"]))
    return np.array(rows)


def main(fast=False, out_dir=None, n_jobs=2):
    n_splits, alphas = (2, ALPHAS[::2]) if fast else (20, ALPHAS)
    lines = ["| data set | loss | held-out log loss | held-out accuracy | median alpha |",
             "|---|---|---:|---:|---:|"]
    paired = ["| data set | log loss, multinomial − OvR | splits where multinomial's is "
              "lower | accuracy, multinomial − OvR | splits where multinomial's is at "
              "least as high |", "|---|---:|---:|---:|---:|"]
    summary = {}
    for name, (X, y) in data_sets(fast).items():
        rows = {}
        for loss in LOSSES:
            start = time.perf_counter()
            rows[loss] = held_out_scores(X, y, loss, n_splits, alphas, n_jobs)
            mean, error = rows[loss].mean(axis=0), _standard_error(rows[loss])
            summary[name, loss] = mean[:2]
            lines.append(f"| {name} | `{loss}` | {mean[0]:.4f} ± {error[0]:.4f} | "
                         f"{mean[1]:.4f} ± {error[1]:.4f} | "
                         f"{np.median(rows[loss][:, 2]):g} |")
            print(lines[-1], f"({time.perf_counter() - start:.0f} s)", flush=True)
        # the same splits and seeds for both losses: compare them split by split
        difference = rows["multinomial_log_loss"] - rows["log_loss"]
        mean, error = difference.mean(axis=0), _standard_error(difference)
        paired.append(f"| {name} | {mean[0]:+.4f} ± {error[0]:.4f} | "
                      f"{np.sum(difference[:, 0] < 0)} of {n_splits} | "
                      f"{mean[1]:+.4f} ± {error[1]:.4f} | "
                      f"{np.sum(difference[:, 1] >= 0)} of {n_splits} |")
        print(paired[-1], flush=True)
    heading = (f"Mean over {n_splits} stratified 75/25 splits (± standard error); alpha "
               f"chosen per split by 5-fold CV log loss from {list(alphas)}; every "
               f"other parameter is the default.\n\n")
    out_dir = RESULTS if out_dir is None else out_dir
    os.makedirs(out_dir, exist_ok=True)
    file_name = "multinomial_vs_ovr_fast.md" if fast else "multinomial_vs_ovr.md"
    with open(os.path.join(out_dir, file_name), "w") as f:
        f.write(heading + "\n".join(lines) + "\n\nSplit by split (the same splits and "
                "seeds for both losses):\n\n" + "\n".join(paired) + "\n")
    return summary


def _standard_error(rows):
    return rows.std(axis=0, ddof=1) / np.sqrt(rows.shape[0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="2 splits, a smaller grid")
    parser.add_argument("--out", default=None, help="directory of the table")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    main(fast=args.fast, out_dir=args.out, n_jobs=args.n_jobs)
