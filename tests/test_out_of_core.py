"""Out of core: data on disk, read through numpy.memmap, in one fit or in chunks.

Independent truths: the same fit on the data in memory (bit for bit), and tracemalloc,
which sees every array NumPy allocates (a memmap's pages are the file's, not ours).
"""
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from sklloss import SGDClassifier, SGDRegressor

N_ROWS, N_FEATURES, CHUNK = 20_000, 200, 2_000
# What a fit allocates per row, whatever the width: row order, labels, weights, the
# early-stopping split's indices (measured: 25-70 bytes).
BOOKKEEPING_PER_ROW = 100


def _peak_bytes(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def dense_on_disk(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, N_FEATURES))
    y_reg = X @ rng.standard_normal(N_FEATURES) + 0.1 * rng.standard_normal(N_ROWS)
    path = tmp_path_factory.mktemp("dense") / "X.npy"
    np.save(path, X)
    return X, (y_reg > 0).astype(int), y_reg, path


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make, target", [
    (lambda: SGDClassifier(max_iter=3, tol=None, random_state=0), 1),
    (lambda: SGDRegressor(max_iter=3, tol=None, random_state=0), 2),
    (lambda: SGDClassifier(early_stopping=True, random_state=0), 1),
    (lambda: SGDRegressor(early_stopping=True, random_state=0), 2),
])
def test_fit_reads_a_memmap_in_place(dense_on_disk, tmp_path, dtype, make, target):
    X, y = dense_on_disk[0].astype(dtype), dense_on_disk[target]
    np.save(tmp_path / "X.npy", X)
    X_disk = np.load(tmp_path / "X.npy", mmap_mode="r")  # read-only, C-contiguous
    assert isinstance(X_disk, np.memmap) and not X_disk.flags.writeable
    on_disk = make()
    peak = _peak_bytes(lambda: on_disk.fit(X_disk, y))
    # a copy of X would be 100% of it; early stopping copies its held-out rows (and
    # scores them in X's dtype: a float64 model would upcast float32 rows, a copy
    # twice their size)
    held_out = on_disk.validation_fraction * X.nbytes if on_disk.early_stopping else 0
    assert peak < held_out + BOOKKEEPING_PER_ROW * N_ROWS, (peak, X.nbytes)
    in_memory = make().fit(X, y)
    np.testing.assert_array_equal(on_disk.coef_, in_memory.coef_)
    np.testing.assert_array_equal(on_disk.intercept_, in_memory.intercept_)


def test_partial_fit_over_chunks_from_disk(dense_on_disk):
    X, y, _, path = dense_on_disk
    X_disk = np.load(path, mmap_mode="r")
    streamed, in_memory = SGDClassifier(random_state=0), SGDClassifier(random_state=0)
    peaks = []
    for start in range(0, N_ROWS, CHUNK):
        rows = slice(start, start + CHUNK)
        peaks.append(_peak_bytes(
            lambda: streamed.partial_fit(X_disk[rows], y[rows], classes=[0, 1])))
        in_memory.partial_fit(X[rows], y[rows], classes=[0, 1])
    np.testing.assert_array_equal(streamed.coef_, in_memory.coef_)
    chunk_bytes = CHUNK * N_FEATURES * 8
    assert max(peaks) < 0.25 * chunk_bytes, (max(peaks), chunk_bytes)
    assert streamed.score(X, y) > 0.9


def test_csr_chunks_from_disk(tmp_path):
    """A CSR matrix stored as three .npy files; each chunk of rows is a csr_matrix over
    slices of their memmaps (indptr shifted to start at 0): no copy of the values."""
    X = sp.random(N_ROWS, 1_000, density=0.02, format="csr", random_state=0)
    signal = np.asarray(X[:, :100].sum(axis=1)).ravel()
    y = (signal > np.median(signal)).astype(int)  # balanced: accuracy means learning
    for name in ("data", "indices", "indptr"):
        np.save(tmp_path / f"{name}.npy", getattr(X, name))
    data, indices, indptr = (np.load(tmp_path / f"{name}.npy", mmap_mode="r")
                             for name in ("data", "indices", "indptr"))

    def chunk(start, stop):
        low, high = indptr[start], indptr[stop]
        return sp.csr_matrix((data[low:high], indices[low:high],
                              np.asarray(indptr[start:stop + 1]) - low),
                             shape=(stop - start, X.shape[1]))

    streamed, in_memory = SGDClassifier(random_state=0), SGDClassifier(random_state=0)
    peaks = []
    for _ in range(2):
        for start in range(0, N_ROWS, CHUNK):
            stop = start + CHUNK
            part = chunk(start, stop)
            assert np.shares_memory(part.data, data)
            peaks.append(_peak_bytes(
                lambda: streamed.partial_fit(part, y[start:stop], classes=[0, 1])))
            in_memory.partial_fit(X[start:stop], y[start:stop], classes=[0, 1])
    np.testing.assert_array_equal(streamed.coef_, in_memory.coef_)
    chunk_bytes = chunk(0, CHUNK).data.nbytes + chunk(0, CHUNK).indices.nbytes
    assert max(peaks) < 0.25 * chunk_bytes, (max(peaks), chunk_bytes)
    assert streamed.score(X, y) > 0.8
