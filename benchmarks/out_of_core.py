"""Out-of-core partial_fit from files on disk: time and peak memory, sklloss against
scikit-learn.

    python benchmarks/out_of_core.py            # 256 MB dense and 218 MB CSR files
    python benchmarks/out_of_core.py --quick    # ~10 MB files, one run each (seconds)

Each data set is written once to a temporary directory (deleted at the end) and read
back in chunks of rows, every chunk a slice of ``np.load(path, mmap_mode="r")`` (for
CSR, a ``csr_matrix`` over slices of the memory-mapped ``data``, ``indices`` and
``indptr``, int32 indices, sorted): the way a user streams a file too large for memory.
The cases are ``SGDClassifier`` (hinge) and ``SGDRegressor`` (squared error) with their
default parameters and ``random_state=0``, on a dense float64 file and on a CSR float64
file.

Every run is a fresh Python process, so that its memory figures are its own; the runs
alternate between the libraries (sklloss first in odd repeats, scikit-learn first in
even ones). A run makes ``--passes`` passes over the file (the file is opened again for
every pass, as a fresh memory map), then scores the model on held-out rows, then makes
one more pass with a fresh model under ``tracemalloc``. It reports:

- time per pass: the wall time of the passes (slicing, building CSR chunks and
  partial_fit, the same code for both libraries) over their number; the table gives
  the median over the runs and the ratio sklloss / scikit-learn (below 1: sklloss is
  faster);
- peak RssAnon growth: the process's anonymous resident memory (``/proc/self/status``,
  sampled every millisecond by a thread) above its value before the first pass, in MB
  and as a percentage of the data on disk. The file's pages mapped into the process
  are page cache, not the process's own memory: a monitor's RSS (``VmRSS``, or
  ``ru_maxrss``) counts them and grows towards the file's size for either library,
  which says nothing about what the library holds;
- tracemalloc peak: the largest peak of numpy's and Python's allocations during one
  partial_fit call;
- memory figures are the largest over the runs; times the medians.

The file stays in the page cache (it was just written, and the machine's memory holds
it), so the times are of reading memory-mapped pages and computing, not of the disk.
Timings on a shared machine move by tens of percent between runs; compare the ratios
measured in the same run, never absolute times across runs.
"""
import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
MB = 1e6
LIBRARIES = ("sklloss", "scikit-learn")
KINDS = ("SGDClassifier", "SGDRegressor")
NOISE = 0.3  # std of the noise on a unit-variance linear score


def sizes(quick):
    """Rows, features and chunk rows per format (float64; for CSR, 12 bytes per stored
    value); test rows."""
    if quick:  # 12 MB in 0.6 MB chunks; 9.8 MB in 0.5 MB chunks
        return dict(dense=dict(rows=30_000, features=50, chunk=1_500),
                    csr=dict(rows=40_000, features=2 ** 12, nnz=20, chunk=2_000),
                    test=2_000)
    # 256 MB in 6.4 MB chunks; 218 MB in 5.5 MB chunks: 40 chunks each
    return dict(dense=dict(rows=400_000, features=80, chunk=10_000),
                csr=dict(rows=600_000, features=2 ** 14, nnz=30, chunk=15_000),
                test=10_000)


# -- memory ----------------------------------------------------------------------------
def status_bytes(field):
    """RssAnon or RssFile of /proc/self/status, in bytes (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def release_free_memory():
    """Hand the C heap's free memory back to the system (glibc's malloc_trim), so that
    new allocations cannot hide in memory the heap kept from earlier."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakSampler(threading.Thread):
    """The largest RssAnon and RssFile seen, sampled every `interval` seconds."""

    def __init__(self, interval=0.001):
        super().__init__(daemon=True)
        self.interval = interval
        self.anon, self.file = status_bytes("RssAnon"), status_bytes("RssFile")
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(self.interval):
            self.sample()

    def sample(self):
        self.anon = max(self.anon, status_bytes("RssAnon"))
        self.file = max(self.file, status_bytes("RssFile"))

    def stop(self):
        self.done.set()
        self.join()
        self.sample()


# -- the data on disk ------------------------------------------------------------------
def targets(score, rng):
    """Binary labels and regression targets from the same unit-variance score."""
    noise = NOISE * rng.standard_normal(score.shape[0])
    return (score + noise > 0).astype(np.int64), score + noise


def dense_block(n_rows, w, rng):
    X = rng.standard_normal((n_rows, w.shape[0]))
    return (X, *targets(X @ w, rng))


def csr_block(n_rows, w, nnz, rng):
    """n_rows CSR rows of nnz distinct, sorted columns; int32 indices and indptr."""
    n_features = w.shape[0]
    columns = np.sort(rng.integers(0, n_features - nnz, (n_rows, nnz)), axis=1)
    columns += np.arange(nnz)  # strictly increasing: distinct and sorted
    values = rng.standard_normal((n_rows, nnz))
    indptr = np.arange(0, n_rows * nnz + 1, nnz, dtype=np.int32)
    X = sp.csr_matrix((values.ravel(), columns.ravel().astype(np.int32), indptr),
                      shape=(n_rows, n_features))
    return (X, *targets(np.sum(values * w[columns], axis=1), rng))


def open_arrays(folder, specs):
    return {name: np.lib.format.open_memmap(os.path.join(folder, name + ".npy"), mode="w+",
                                            dtype=dtype, shape=shape)
            for name, dtype, shape in specs}


def write_data(folder, fmt, size, n_test, seed=0):
    """The training file(s) in `folder`, block by block, and the test set (.npz);
    returns the bytes of X on disk."""
    rng = np.random.default_rng(seed)
    n, d, block = size["rows"], size["features"], 20_000
    if fmt == "dense":
        w = rng.standard_normal(d) / np.sqrt(d)
        arrays = open_arrays(folder, (("X", np.float64, (n, d)), ("y_class", np.int64, (n,)),
                                      ("y_reg", np.float64, (n,))))
        for start in range(0, n, block):
            stop = min(start + block, n)
            (arrays["X"][start:stop], arrays["y_class"][start:stop],
             arrays["y_reg"][start:stop]) = dense_block(stop - start, w, rng)
        X_test, y_class, y_reg = dense_block(n_test, w, rng)
        np.savez(os.path.join(folder, "test.npz"), X=X_test, y_class=y_class, y_reg=y_reg)
        x_bytes = arrays["X"].nbytes
    else:
        nnz = size["nnz"]
        w = rng.standard_normal(d) / np.sqrt(nnz)
        arrays = open_arrays(folder, (
            ("data", np.float64, (n * nnz,)), ("indices", np.int32, (n * nnz,)),
            ("indptr", np.int32, (n + 1,)), ("y_class", np.int64, (n,)),
            ("y_reg", np.float64, (n,))))
        arrays["indptr"][0] = 0
        for start in range(0, n, block):
            stop = min(start + block, n)
            X, y_class, y_reg = csr_block(stop - start, w, nnz, rng)
            first = start * nnz
            arrays["data"][first:first + X.nnz] = X.data
            arrays["indices"][first:first + X.nnz] = X.indices
            arrays["indptr"][start + 1:stop + 1] = X.indptr[1:] + first
            arrays["y_class"][start:stop], arrays["y_reg"][start:stop] = y_class, y_reg
        X_test, y_class, y_reg = csr_block(n_test, w, nnz, rng)
        np.savez(os.path.join(folder, "test.npz"), data=X_test.data, indices=X_test.indices,
                 indptr=X_test.indptr, n_features=d, y_class=y_class, y_reg=y_reg)
        x_bytes = sum(arrays[name].nbytes for name in ("data", "indices", "indptr"))
    for array in arrays.values():
        array.flush()
    return x_bytes


def chunks(folder, fmt, target, chunk_rows, n_features):
    """(X, y) chunks over freshly memory-mapped files: slices, no copies."""
    y = np.load(os.path.join(folder, target + ".npy"), mmap_mode="r")
    if fmt == "dense":
        X = np.load(os.path.join(folder, "X.npy"), mmap_mode="r")
        for start in range(0, X.shape[0], chunk_rows):
            yield X[start:start + chunk_rows], y[start:start + chunk_rows]
        return
    data, indices, indptr = (np.load(os.path.join(folder, name + ".npy"), mmap_mode="r")
                             for name in ("data", "indices", "indptr"))
    n_rows = indptr.shape[0] - 1
    for start in range(0, n_rows, chunk_rows):
        stop = min(start + chunk_rows, n_rows)
        first, last = indptr[start], indptr[stop]
        yield (sp.csr_matrix((data[first:last], indices[first:last],
                              indptr[start:stop + 1] - first),
                             shape=(stop - start, n_features)), y[start:stop])


# -- one run, in a fresh process -------------------------------------------------------
def child(spec):
    """Time `passes` passes, score, then one traced pass; print the figures as JSON."""
    if spec["library"] == "sklloss":
        import sklloss as library
    else:
        import sklearn.linear_model as library
    folder, fmt, kind = spec["folder"], spec["format"], spec["kind"]
    target = "y_class" if kind == "SGDClassifier" else "y_reg"
    test = np.load(os.path.join(folder, "test.npz"))
    if fmt == "dense":
        X_test, n_features = test["X"], test["X"].shape[1]
    else:
        n_features = int(test["n_features"])
        X_test = sp.csr_matrix((test["data"], test["indices"], test["indptr"]),
                               shape=(test["indptr"].shape[0] - 1, n_features))
    y_test = test[target]
    fit_params = {"classes": np.array([0, 1])} if kind == "SGDClassifier" else {}

    def one_pass(model, each_call=None):
        for X, y in chunks(folder, fmt, target, spec["chunk_rows"], n_features):
            if each_call is None:
                model.partial_fit(X, y, **fit_params)
            else:
                each_call(lambda: model.partial_fit(X, y, **fit_params))

    model = getattr(library, kind)(random_state=0)
    release_free_memory()
    sampler = PeakSampler()
    anon_before, file_before = sampler.anon, sampler.file
    sampler.start()
    seconds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (no warning is expected; none may skew a time)
        for _ in range(spec["passes"]):
            start = time.perf_counter()
            one_pass(model)
            seconds.append(time.perf_counter() - start)
    sampler.stop()
    score = model.score(X_test, y_test)

    traced_peaks = []

    def traced(call):
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        call()
        traced_peaks.append(tracemalloc.get_traced_memory()[1] - before)

    tracemalloc.start()
    one_pass(getattr(library, kind)(random_state=0), traced)
    tracemalloc.stop()
    print(json.dumps(dict(seconds=seconds, score=float(score),
                          rss_anon_peak=sampler.anon - anon_before,
                          rss_file_peak=sampler.file - file_before,
                          traced_peak=max(traced_peaks))))


def run_child(spec):
    result = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                             json.dumps(spec)], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"run {spec} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- the comparison --------------------------------------------------------------------
def compare(folder, fmt, kind, x_bytes, chunk_rows, n_chunks, passes, repeats):
    runs = {library: [] for library in LIBRARIES}
    for repeat in range(repeats):
        for library in (LIBRARIES if repeat % 2 == 0 else LIBRARIES[::-1]):
            result = run_child(dict(library=library, folder=folder, format=fmt, kind=kind,
                                    chunk_rows=chunk_rows, passes=passes))
            runs[library].append(result)
            print(f"  {kind} {fmt} {library:>12}: passes "
                  f"{', '.join(f'{1e3 * s:.0f}' for s in result['seconds'])} ms; "
                  f"RssAnon +{result['rss_anon_peak'] / MB:.2f} MB, RssFile "
                  f"+{result['rss_file_peak'] / MB:.0f} MB, tracemalloc "
                  f"{result['traced_peak'] / MB:.2f} MB; score {result['score']:.4f}",
                  flush=True)
    row = dict(case=f"{kind} {'CSR' if fmt == 'csr' else 'dense'}", data=x_bytes / MB,
               chunk=x_bytes / n_chunks / MB)
    for library, key in zip(LIBRARIES, ("ours", "theirs")):
        results = runs[library]
        row[f"{key}_ms"] = 1e3 * float(np.median([np.mean(r["seconds"]) for r in results]))
        row[f"{key}_anon"] = max(r["rss_anon_peak"] for r in results) / MB
        row[f"{key}_file"] = max(r["rss_file_peak"] for r in results) / MB
        row[f"{key}_traced"] = max(r["traced_peak"] for r in results) / MB
        row[f"{key}_score"] = results[-1]["score"]  # (the same in every run: seeded)
    row["ratio"] = row["ours_ms"] / row["theirs_ms"]
    return row


HEADER = ("| case | data on disk (MB) | chunk (MB) | sklloss ms/pass | scikit-learn ms/pass "
          "| ratio | peak RssAnon growth, MB (ours / sk) | peak RssAnon, % of data "
          "(ours / sk) | tracemalloc peak per call, MB (ours / sk) "
          "| test score (ours / sk) |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def format_row(r):
    return (f"| {r['case']} | {r['data']:.1f} | {r['chunk']:.2f} | {r['ours_ms']:.0f} | "
            f"{r['theirs_ms']:.0f} | {r['ratio']:.2f} | {r['ours_anon']:.2f} / "
            f"{r['theirs_anon']:.2f} | {100 * r['ours_anon'] / r['data']:.2f} / "
            f"{100 * r['theirs_anon'] / r['data']:.2f} | {r['ours_traced']:.2f} / "
            f"{r['theirs_traced']:.2f} | {r['ours_score']:.4f} / {r['theirs_score']:.4f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="~10 MB files, one run per library (a smoke test)")
    parser.add_argument("--repeats", type=int, default=None, help="default 5 (quick: 1)")
    parser.add_argument("--passes", type=int, default=None, help="default 3 (quick: 2)")
    parser.add_argument("--out", default=RESULTS, help="directory of the table")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(json.loads(args.child))
    import sklearn

    import sklloss

    repeats = args.repeats or (1 if args.quick else 5)
    passes = args.passes or (2 if args.quick else 3)
    size = sizes(args.quick)
    print(f"sklloss {sklloss.__version__} vs scikit-learn {sklearn.__version__}; "
          f"{passes} passes per run, {repeats} run(s) per library, alternating\n",
          flush=True)
    rows = []
    start = time.perf_counter()
    for fmt in ("dense", "csr"):
        folder = tempfile.mkdtemp(prefix="sklloss_out_of_core_bench_")
        try:
            x_bytes = write_data(folder, fmt, size[fmt], size["test"])
            chunk_rows = size[fmt]["chunk"]
            n_chunks = -(-size[fmt]["rows"] // chunk_rows)
            print(f"{fmt}: {x_bytes / MB:.1f} MB on disk in {n_chunks} chunks of "
                  f"{chunk_rows:,} rows", flush=True)
            for kind in KINDS:
                rows.append(compare(folder, fmt, kind, x_bytes, chunk_rows, n_chunks,
                                    passes, repeats))
                print(format_row(rows[-1]), flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    elapsed = time.perf_counter() - start

    mapped = max(max(r["ours_file"], r["theirs_file"]) / r["data"] for r in rows)
    os.makedirs(args.out, exist_ok=True)
    name = "out_of_core_quick" if args.quick else "out_of_core"
    path = os.path.join(args.out, name + ".md")
    with open(path, "w") as f:
        f.write(
            f"Made by `python benchmarks/out_of_core.py{' --quick' if args.quick else ''}` "
            f"(sklloss {sklloss.__version__}, scikit-learn {sklearn.__version__}, "
            f"{os.cpu_count()} CPUs, {elapsed:.0f} s). Each library streams the same "
            f"float64 file(s) from disk, chunk by chunk (memory-mapped slices), through "
            f"partial_fit: {passes} passes per run, every run a fresh process, "
            f"{repeats} run(s) per library, alternating. Times: medians over the runs of "
            f"the mean time per pass; ratio sklloss / scikit-learn (below 1: sklloss is "
            f"faster). Memory: the largest over the runs. Data on disk: X only "
            f"(for CSR, data + indices + indptr), and a chunk its share of it.\n\n")
        f.write(HEADER + "\n" + "\n".join(format_row(r) for r in rows) + "\n\n")
        f.write(
            f"Peak RssAnon growth is the process's own resident memory above its value "
            f"before the first pass, sampled every millisecond; the tracemalloc peak is "
            f"the most numpy and Python allocated during one partial_fit call. The file's "
            f"pages mapped into the process are in RssFile (page cache), whose growth "
            f"reached up to {100 * mapped:.0f}% of the data's size: a monitor's RSS "
            f"counts them, but they are the kernel's cache, not memory the library holds. "
            f"The file stays in the page cache, so the times are of mapped memory and "
            f"computing, not of the disk.\n")
    print(f"\nwrote {path} ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
