"""Out-of-core learning: stream a file through partial_fit with flat peak memory
=============================================================================

Two data sets are written to files in a temporary directory, each many times larger
than the chunks it is read in (the whole of it is never in memory):

- dense: a float32 matrix in a ``.npy`` file (800,000 rows × 100 features, 320 MB),
  read in chunks of 20,000 rows (8 MB);
- CSR: a sparse float32 matrix (1,000,000 rows × 4,096 features, 25 stored values per
  row) saved as its three CSR arrays ``data``, ``indices`` and ``indptr`` in ``.npy``
  files (204 MB), read in chunks of 25,000 rows (5 MB).

The labels are binary: the sign of a random linear function of the row plus noise.

Each chunk is a slice of ``np.load(path, mmap_mode="r")``: a C-contiguous view of the
file, not a copy. ``sklloss.SGDClassifier.partial_fit`` reads it where it is: a dense
C-contiguous float32 or float64 chunk is used without a copy (float32 stays float32),
and so is a CSR chunk in canonical format (sorted, distinct column indices in each row:
sklloss makes a canonical copy of any other chunk). A CSR chunk is built from slices of
the three arrays::

    scipy.sparse.csr_matrix((data[start:stop], indices[start:stop],
                             indptr[i:j + 1] - indptr[i]), shape=(j - i, n_features))

where ``start, stop = indptr[i], indptr[j]``; only the chunk's shifted ``indptr`` is a
new array. ``indices`` and ``indptr`` are stored as int32: scipy would convert int64
index arrays whose values fit in int32 (a copy of the chunk's indices).

The model is averaged SGD (``average=True``): the average of the iterates is close to
the optimum after one pass, which is what one wants when every pass reads the whole
file. Three passes are made over each file.

Memory is measured for every partial_fit call:

- the process's anonymous resident memory, ``RssAnon`` in ``/proc/self/status``,
  sampled every millisecond by a thread: its peak during the call, above its value
  before streaming began (after the C heap's free memory is handed back to the system,
  so that allocations that reuse it still show);
- the peak of the memory numpy and Python allocate during the call (``tracemalloc``);
- ``RssFile``, the file's pages mapped into the process. They are the kernel's page
  cache, shared and dropped when memory is needed, not the process's own memory; a
  monitor's RSS (``VmRSS``) counts them, which is why it grows towards the file's
  size.

RssAnon and the tracemalloc peak stay flat, far below one chunk, while the data
streamed grows to three times the file. (RssAnon's level varies by a megabyte or so from
run to run: it counts the pages the allocators hold, not only what the calls use.) For comparison, a ``fit`` on the same data
loaded into memory (``np.load`` without mmap_mode) needs the whole file in the process's
own memory. The two models' accuracies on the same held-out rows show that the
streamed model is as good.

The figure is written to plot_out_of_core.png in examples/images/, or in DIR with --out DIR::

    python examples/plot_out_of_core.py
    python examples/plot_out_of_core.py --out DIR
    python examples/plot_out_of_core.py --fast   # 20 MB files, 1 MB chunks: the tests
"""
import argparse
import ctypes
import os
import tempfile
import threading
import time
import tracemalloc

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import sklloss  # noqa: E402

MB = 1e6
DTYPE = np.float32
N_FEATURES = 100  # dense
CSR_FEATURES, CSR_NNZ = 2 ** 12, 25  # CSR: columns, stored values per row
NOISE = 0.3  # std of the noise added to the unit-variance linear score
PASSES = 3
N_TEST = 20_000
CLASSES = np.array([0, 1])


def sizes(fast):
    """Rows of each file and of each chunk."""
    if fast:  # 20 MB files, 1 MB chunks
        return dict(dense_rows=50_000, dense_chunk=2_500, csr_rows=100_000, csr_chunk=5_000)
    return dict(dense_rows=800_000, dense_chunk=20_000, csr_rows=1_000_000, csr_chunk=25_000)


# -- memory ----------------------------------------------------------------------------
def status_bytes(field):
    """A memory figure of /proc/self/status in bytes (Linux): RssAnon, the process's
    own resident memory; RssFile, the resident pages of mapped files."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def rss_anon():
    return status_bytes("RssAnon")


def release_free_memory():
    """Return the C heap's free memory to the system (glibc's malloc_trim). The heap
    keeps memory freed earlier (while writing the files) resident, and new allocations
    that reuse it would not show in RssAnon."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: RssAnon may then under-count
        pass


class RssAnonPeak(threading.Thread):
    """Samples RssAnon every `interval` seconds; ``take()`` returns the largest value
    since the previous ``take()`` (or the start)."""

    def __init__(self, interval=0.001):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = rss_anon()
        self.lock = threading.Lock()
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(self.interval):
            value = rss_anon()
            with self.lock:
                self.peak = max(self.peak, value)

    def take(self):
        value = rss_anon()  # (also the value now, in case no sample fell in the interval)
        with self.lock:
            peak, self.peak = max(self.peak, value), value
        return peak

    def stop(self):
        self.done.set()
        self.join()


# -- the data on disk ------------------------------------------------------------------
def labels(score, rng):
    return (score + NOISE * rng.standard_normal(score.shape[0]) > 0).astype(np.int64)


def dense_block(n_rows, w, rng):
    X = rng.standard_normal((n_rows, N_FEATURES), dtype=DTYPE)
    return X, labels(X @ w, rng)


def csr_block(n_rows, w, rng):
    """n_rows CSR rows with CSR_NNZ distinct, sorted columns each."""
    columns = np.sort(rng.integers(0, CSR_FEATURES - CSR_NNZ, (n_rows, CSR_NNZ)), axis=1)
    columns += np.arange(CSR_NNZ)  # strictly increasing: distinct and sorted
    values = rng.standard_normal((n_rows, CSR_NNZ), dtype=DTYPE)
    y = labels(np.sum(values * w[columns], axis=1), rng)
    indptr = np.arange(0, n_rows * CSR_NNZ + 1, CSR_NNZ)
    X = sp.csr_matrix((values.ravel(), columns.ravel().astype(np.int32), indptr),
                      shape=(n_rows, CSR_FEATURES))
    return X, y


def write_dense(folder, n_rows, w, rng, block=20_000):
    """X.npy (n_rows, N_FEATURES) and y.npy, written block by block."""
    X = np.lib.format.open_memmap(os.path.join(folder, "X.npy"), mode="w+", dtype=DTYPE,
                                  shape=(n_rows, N_FEATURES))
    y = np.lib.format.open_memmap(os.path.join(folder, "y.npy"), mode="w+",
                                  dtype=np.int64, shape=(n_rows,))
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        X[start:stop], y[start:stop] = dense_block(stop - start, w, rng)
    X.flush()
    y.flush()
    return X.nbytes


def write_csr(folder, n_rows, w, rng, block=50_000):
    """data.npy, indices.npy, indptr.npy (int32 both, so that a chunk's index arrays
    need no conversion) and y.npy, written block by block."""
    nnz = n_rows * CSR_NNZ
    arrays = {name: np.lib.format.open_memmap(os.path.join(folder, name + ".npy"),
                                              mode="w+", dtype=dtype, shape=(size,))
              for name, dtype, size in (("data", DTYPE, nnz), ("indices", np.int32, nnz),
                                        ("indptr", np.int32, n_rows + 1),
                                        ("y", np.int64, n_rows))}
    arrays["indptr"][0] = 0
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        X, y = csr_block(stop - start, w, rng)
        first = start * CSR_NNZ
        arrays["data"][first:first + X.nnz] = X.data
        arrays["indices"][first:first + X.nnz] = X.indices
        arrays["indptr"][start + 1:stop + 1] = X.indptr[1:] + first
        arrays["y"][start:stop] = y
    for array in arrays.values():
        array.flush()
    return sum(arrays[name].nbytes for name in ("data", "indices", "indptr"))


# -- reading it back, chunk by chunk ---------------------------------------------------
def dense_chunks(folder, chunk_rows):
    """(X, y) chunks: slices of the memory-mapped files, no copies."""
    X = np.load(os.path.join(folder, "X.npy"), mmap_mode="r")
    y = np.load(os.path.join(folder, "y.npy"), mmap_mode="r")
    for start in range(0, X.shape[0], chunk_rows):
        yield X[start:start + chunk_rows], y[start:start + chunk_rows]


def csr_chunks(folder, chunk_rows):
    """(X, y) chunks: CSR matrices over slices of the memory-mapped arrays (only the
    chunk's indptr, shifted to start at 0, is a new array)."""
    data, indices, indptr, y = (np.load(os.path.join(folder, name + ".npy"), mmap_mode="r")
                                for name in ("data", "indices", "indptr", "y"))
    n_rows = indptr.shape[0] - 1
    for start in range(0, n_rows, chunk_rows):
        stop = min(start + chunk_rows, n_rows)
        first, last = indptr[start], indptr[stop]
        X = sp.csr_matrix((data[first:last], indices[first:last],
                           indptr[start:stop + 1] - first),
                          shape=(stop - start, CSR_FEATURES))
        yield X, y[start:stop]


def chunk_bytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def load_in_memory(folder, sparse):
    """The whole data set as in-memory arrays (a copy of the files)."""
    if not sparse:
        return np.load(os.path.join(folder, "X.npy")), np.load(os.path.join(folder, "y.npy"))
    data, indices, indptr, y = (np.load(os.path.join(folder, name + ".npy"))
                                for name in ("data", "indices", "indptr", "y"))
    return sp.csr_matrix((data, indices, indptr), shape=(indptr.shape[0] - 1,
                                                         CSR_FEATURES)), y


# -- the experiment --------------------------------------------------------------------
def make_model():
    # averaged SGD: the average of the iterates is close to the optimum after one pass,
    # which is what one wants when each pass reads the whole file
    return sklloss.SGDClassifier(average=True, random_state=0)


def stream(chunks, passes):
    """partial_fit over every chunk, `passes` times; per call: the data streamed so far,
    the peak RssAnon above its value before streaming, the tracemalloc peak of the call
    and RssFile after it, above its value before streaming."""
    model = make_model()
    release_free_memory()
    sampler = RssAnonPeak()
    sampler.start()
    tracemalloc.start()
    try:
        baseline, file_baseline = sampler.take(), status_bytes("RssFile")
        streamed, trace = 0, []
        start = time.perf_counter()
        for _ in range(passes):
            for X, y in chunks():
                tracemalloc.reset_peak()
                traced_before = tracemalloc.get_traced_memory()[0]
                model.partial_fit(X, y, classes=CLASSES)
                streamed += chunk_bytes(X)
                trace.append((streamed, sampler.take() - baseline,
                              tracemalloc.get_traced_memory()[1] - traced_before,
                              status_bytes("RssFile") - file_baseline))
        seconds = time.perf_counter() - start
    finally:
        tracemalloc.stop()
        sampler.stop()
    return model, np.array(trace, dtype=np.float64), seconds


def fit_in_memory(folder, sparse):
    """Load the whole file, fit; the model and the RssAnon growth (peak)."""
    release_free_memory()
    sampler = RssAnonPeak()
    sampler.start()
    try:
        baseline = sampler.take()
        X, y = load_in_memory(folder, sparse)
        model = make_model().fit(X, y)
        growth = sampler.take() - baseline
    finally:
        sampler.stop()
    del X, y
    return model, growth


def run_case(name, sparse, n_rows, chunk_rows, rng):
    """Write the file, stream it, fit it in memory; print and return the figures."""
    make_block = csr_block if sparse else dense_block
    w = rng.standard_normal(CSR_FEATURES if sparse else N_FEATURES)
    w /= np.sqrt(CSR_NNZ if sparse else N_FEATURES)  # a unit-variance score
    X_test, y_test = make_block(N_TEST, w.astype(DTYPE), rng)
    with tempfile.TemporaryDirectory(prefix="sklloss_out_of_core_") as folder:
        write = write_csr if sparse else write_dense
        file_bytes = write(folder, n_rows, w.astype(DTYPE), rng)
        reader = csr_chunks if sparse else dense_chunks
        first_chunk = next(reader(folder, chunk_rows))[0]
        chunk = chunk_bytes(first_chunk)
        del first_chunk
        n_chunks = -(-n_rows // chunk_rows)
        streamed_model, trace, seconds = stream(lambda: reader(folder, chunk_rows), PASSES)
        memory_model, memory_growth = fit_in_memory(folder, sparse)
    rss_peak, traced_peak = trace[:, 1].max(), trace[:, 2].max()
    streamed_accuracy = streamed_model.score(X_test, y_test)
    memory_accuracy = memory_model.score(X_test, y_test)
    shape = (f"{n_rows:,} rows × {CSR_FEATURES:,}, {CSR_NNZ} stored values per row"
             if sparse else f"{n_rows:,} rows × {N_FEATURES}")
    print(f"{name}: file {file_bytes / MB:.1f} MB ({shape}, float32), chunks of "
          f"{chunk / MB:.2f} MB ({chunk_rows:,} rows): {n_chunks} chunks per pass, "
          f"{PASSES} passes, {trace[-1, 0] / MB:.1f} MB streamed in {seconds:.1f} s")
    print(f"{name} streamed: peak RssAnon growth {rss_peak / MB:.2f} MB "
          f"({rss_peak / chunk:.2f} × chunk, {100 * rss_peak / file_bytes:.2f}% of the "
          f"file); tracemalloc peak per partial_fit call {traced_peak / MB:.2f} MB "
          f"({traced_peak / chunk:.2f} × chunk)")
    print(f"{name} in-memory fit: RssAnon growth {memory_growth / MB:.1f} MB "
          f"({100 * memory_growth / file_bytes:.0f}% of the file), "
          f"{memory_model.n_iter_} epochs")
    print(f"{name} held-out accuracy: streamed {streamed_accuracy:.4f} ({PASSES} passes), "
          f"in-memory fit {memory_accuracy:.4f}")
    return dict(file=file_bytes, chunk=chunk, trace=trace, memory_growth=memory_growth,
                streamed_accuracy=streamed_accuracy, memory_accuracy=memory_accuracy,
                n_chunks=n_chunks)


def plot(cases):
    fig, axes = plt.subplots(1, len(cases), figsize=(6.5 * len(cases), 5.6), sharey=True)
    for ax, (name, case) in zip(axes, cases.items()):
        streamed, rss, traced, rss_file = case["trace"].T / MB
        file, chunk = case["file"] / MB, case["chunk"] / MB
        for boundary in file * np.arange(1, PASSES):
            ax.axvline(boundary, color="0.85", linewidth=1, zorder=0)
        references = ((case["memory_growth"] / MB, "tab:red", "-.",
                       "in-memory fit: RssAnon growth {:.0f} MB", "bottom"),
                      (file, "black", ":", "file size {:.0f} MB", "top"),
                      (chunk, "black", "--", "chunk size {:.1f} MB", "bottom"))
        for value, color, style, text, side in references:
            ax.axhline(value, color=color, linestyle=style, linewidth=1.5)
            ax.text(0.01 * streamed[-1], value * (1.12 if side == "bottom" else 0.88),
                    text.format(value), color=color, fontsize="small", va=side)
        ax.plot(streamed, rss_file, color="0.6", linewidth=1.5)
        ax.plot(streamed, rss, "o-", color="tab:blue", markersize=3)
        ax.plot(streamed, traced, "s", color="tab:orange", markersize=3)
        ax.set_yscale("log")
        ax.set_xlim(0, streamed[-1] * 1.02)
        ax.set_xlabel(f"data streamed through partial_fit (MB): {PASSES} passes "
                      f"of {case['n_chunks']} chunks")
        ax.set_title(f"{name}: held-out accuracy {case['streamed_accuracy']:.3f} streamed, "
                     f"{case['memory_accuracy']:.3f} fitted in memory", fontsize="medium")
        ax.grid(True, which="major", alpha=0.3)
    largest = max(max(case["file"], case["memory_growth"]) for case in cases.values())
    measured = np.concatenate([case["trace"][:, 1:3].ravel() for case in cases.values()])
    smallest = measured[measured > 0].min()
    # a decade below the smallest figure, and room for the labels above the lines
    axes[0].set_ylim(10 ** np.floor(np.log10(smallest / MB)), 4 * largest / MB)
    axes[0].set_ylabel("MB, log scale (the streaming curves: growth above\n"
                       "their value before streaming began)")
    handles = [plt.Line2D([], [], color="tab:blue", marker="o", markersize=3),
               plt.Line2D([], [], color="tab:orange", marker="s", markersize=3,
                          linestyle=""),
               plt.Line2D([], [], color="0.6", linewidth=1.5)]
    labels = ["streaming: RssAnon, the process's own memory (peak during each call)",
              "streaming: tracemalloc peak of each partial_fit call",
              "streaming: RssFile, the file's pages mapped in (page cache; new file "
              "mapping at each pass)"]
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize="small",
               frameon=False)
    fig.suptitle("Out-of-core partial_fit from memory-mapped files: the process's own "
                 "memory stays far below one chunk")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def main(fast=False, out_dir=None):
    """Write, stream and fit both data sets; draw the figure; return the figures."""
    if out_dir is None:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
    os.makedirs(out_dir, exist_ok=True)
    size = sizes(fast)
    rng = np.random.default_rng(0)
    cases = {
        "dense": run_case("dense", False, size["dense_rows"], size["dense_chunk"], rng),
        "CSR": run_case("CSR", True, size["csr_rows"], size["csr_chunk"], rng),
    }
    fig = plot(cases)
    path = os.path.join(out_dir, "plot_out_of_core.png")
    fig.savefig(path, dpi=100)
    print(f"figure written to {path}")
    return dict(cases, path=path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fast", action="store_true",
                        help="20 MB files in 1 MB chunks (for the tests)")
    parser.add_argument("--out", default=None,
                        help="directory for the PNG (default: images/ next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out_dir=args.out)
