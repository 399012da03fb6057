"""sklloss on a Dask cluster: train on a chunked array, predict in parallel, search.
=================================================================================

Three things a cluster does for SGD, with the tools Dask users already know:

1. ``dask_ml.wrappers.Incremental`` trains an sklloss estimator on a chunked
   ``dask.array`` that need not fit in one machine's memory: each block is loaded
   where it lives and the estimator's ``partial_fit`` runs on it, block after block
   (the model travels, the data does not).
2. ``dask_ml.wrappers.ParallelPostFit`` predicts a dask array block by block, in
   parallel on the workers.
3. ``joblib.parallel_backend("dask")`` spreads a ``GridSearchCV`` over losses (names and
   ``sklloss.losses`` objects) across the workers; it finds what the local search
   finds.

By default the script starts a ``distributed.LocalCluster`` (worker processes on this
machine); give a scheduler's address to run on a real cluster, where every worker
needs sklloss installed::

    pip install ".[dask]"
    python examples/dask_incremental.py                        # a LocalCluster
    python examples/dask_incremental.py --scheduler tcp://scheduler:8786
    python examples/dask_incremental.py --fast                 # small, seconds
"""
import argparse
import time

import dask
import dask.array as da
import joblib
import numpy as np
from dask_ml.wrappers import Incremental, ParallelPostFit
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from sklloss import SGDClassifier
from sklloss.losses import Huber, MultinomialLogLoss

N_FEATURES, N_CLASSES = 50, 5


def make_data(n_rows, rows_per_block, first_block=0):
    """A chunked (n_rows, N_FEATURES) float32 array and its labels, generated block by
    block on the workers (no block exists before a task needs it): N_CLASSES Gaussian
    classes around fixed centres. Blocks numbered from `first_block` on are new draws
    of the same problem (a held-out set)."""
    centres = np.random.default_rng(0).standard_normal((N_CLASSES, N_FEATURES))

    def block(block_id):
        rng = np.random.default_rng([1, first_block + block_id])
        labels = rng.integers(0, N_CLASSES, rows_per_block)
        X = centres[labels] + 2.0 * rng.standard_normal((rows_per_block, N_FEATURES))
        return X.astype(np.float32), labels

    n_blocks = n_rows // rows_per_block
    parts = [dask.delayed(block)(i) for i in range(n_blocks)]
    X = da.concatenate([da.from_delayed(part[0], (rows_per_block, N_FEATURES), np.float32)
                        for part in parts])
    y = da.concatenate([da.from_delayed(part[1], (rows_per_block,), np.int64)
                        for part in parts])
    return X, y


def main(fast=False, scheduler=None):
    n_rows, rows_per_block, passes = (20_000, 2_000, 2) if fast else (2_000_000, 100_000, 3)
    if scheduler is None:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(scheduler)
    try:
        print(f"cluster: {len(client.scheduler_info()['workers'])} workers at "
              f"{client.scheduler.address}")
        X, y = make_data(n_rows, rows_per_block)
        X_test, y_test = dask.compute(*make_data(20_000, 20_000, first_block=10**6))
        print(f"training data: {n_rows:,} x {N_FEATURES} float32 "
              f"({X.nbytes / 1e6:,.0f} MB) in {X.numblocks[0]} blocks of "
              f"{rows_per_block:,} rows ({X.nbytes / X.numblocks[0] / 1e6:,.1f} MB)")

        # 1. Incremental: partial_fit block after block, on the workers
        model = Incremental(SGDClassifier(loss="multinomial_log_loss", alpha=1e-4,
                                          random_state=0),
                            shuffle_blocks=True, random_state=0)
        start = time.perf_counter()
        for _ in range(passes):
            model.partial_fit(X, y, classes=np.arange(N_CLASSES))
        elapsed = time.perf_counter() - start
        estimator = model.estimator_
        accuracy = estimator.score(X_test, y_test)
        print(f"Incremental: {passes} passes in {elapsed:.1f} s, held-out accuracy "
              f"{accuracy:.4f}, loss_curve_ (one value per block): "
              f"{estimator.loss_curve_[0]:.4f} -> {estimator.loss_curve_[-1]:.4f}")

        # 2. ParallelPostFit: predict a dask array block by block on the workers
        predictor = ParallelPostFit(estimator)
        predicted = predictor.predict(X)
        probabilities = predictor.predict_proba(X)
        agreement = float((predicted == y).mean().compute())
        print(f"ParallelPostFit: predicted {predicted.shape[0]:,} rows "
              f"({predicted.numblocks[0]} blocks), training accuracy {agreement:.4f}, "
              f"probability rows sum to 1: "
              f"{bool(da.allclose(probabilities.sum(axis=1), 1.0).compute())}")

        # 3. GridSearchCV over losses on the cluster, through joblib's Dask backend
        n_search = 4_000 if fast else 20_000  # the search's data, in memory
        X_small, y_small = dask.compute(X[:n_search], y[:n_search])
        search = GridSearchCV(
            SGDClassifier(random_state=0),
            {"loss": ["hinge", "log_loss", "multinomial_log_loss", MultinomialLogLoss(),
                      Huber(epsilon=1.0)],
             "alpha": [1e-4, 1e-3]},
            cv=3)
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            search.fit(X_small, y_small)
        print(f"GridSearchCV on the dask backend ({n_search:,} rows): "
              f"{len(search.cv_results_['params'])} candidates x 3 folds in "
              f"{time.perf_counter() - start:.1f} s; best "
              f"{search.best_params_} (cv accuracy {search.best_score_:.4f})")
        return dict(accuracy=accuracy, agreement=agreement, best_params=search.best_params_)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scheduler", default=None,
                        help="address of a running Dask scheduler (default: start a "
                             "LocalCluster)")
    parser.add_argument("--fast", action="store_true", help="small data (the tests)")
    args = parser.parse_args()
    main(fast=args.fast, scheduler=args.scheduler)
