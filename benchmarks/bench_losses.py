"""Throughput of sklloss's loss kernels against scikit-learn's, in one run.

For squared error, Huber, log loss, hinge and multinomial (K=10), and for each of
`loss`, `gradient` and `loss_gradient`, in float64 and float32, on 1 and 2 threads:
elements per second of sklloss and of the reference, measured alternately in the same
process, median of --repeats runs. Both write into preallocated output buffers, so
allocation and page faults are not measured, and each run starts after a short pause
so that the other library's idle OpenMP threads have stopped spinning.

References: scikit-learn's private `sklearn._loss` (HalfSquaredError, HuberLoss,
HalfBinomialLoss, HalfMultinomialLoss: the same per-sample conventions as sklloss's).
scikit-learn has no vectorised hinge loss, so hinge is compared with the numpy
expression a user would write (single-threaded by nature).

    python benchmarks/bench_losses.py                  # 10^7 elements, 5 repeats
    python benchmarks/bench_losses.py --n 100000 --repeats 2 --no-save   # smoke run
"""
import argparse
import datetime
import os
import platform
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn._loss import loss as sk_loss

import sklloss
from sklloss import losses

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
N_CLASSES = 10
EPSILON = 1.0
METHODS = ("loss", "gradient", "loss_gradient")
SWITCH_PAUSE = 0.05  # seconds between runs of the two libraries (see measure)


class NumpyHinge:
    """The numpy hinge a user would write; n_threads is ignored."""

    def loss(self, y_true, raw_prediction, loss_out=None, n_threads=1):
        z = y_true * raw_prediction
        np.subtract(1, z, out=z)
        return np.maximum(z, 0, out=loss_out)

    def gradient(self, y_true, raw_prediction, gradient_out=None, n_threads=1):
        return np.copyto(gradient_out, np.where(y_true * raw_prediction <= 1, -y_true, 0))

    def loss_gradient(self, y_true, raw_prediction, loss_out=None, gradient_out=None,
                      n_threads=1):
        return (self.loss(y_true, raw_prediction, loss_out),
                self.gradient(y_true, raw_prediction, gradient_out))


def make_case(name, n_elements, dtype, rng):
    """(ours, reference, reference name, y, raw, n_elements); both take the same y."""
    if name == "multinomial_log_loss":
        n = n_elements // N_CLASSES
        raw = rng.standard_normal((n, N_CLASSES)).astype(dtype)
        y = rng.integers(0, N_CLASSES, n).astype(dtype)
        return (losses.MultinomialLogLoss(), sk_loss.HalfMultinomialLoss(n_classes=N_CLASSES),
                "sklearn._loss", y, raw, n * N_CLASSES)
    raw = (3 * rng.standard_normal(n_elements)).astype(dtype)
    if name in ("squared_error", "huber"):
        y = rng.standard_normal(n_elements).astype(dtype)
        if name == "squared_error":
            ref = sk_loss.HalfSquaredError()
        else:
            ref = sk_loss.HuberLoss(delta=EPSILON)
        ours = losses.get_loss(name, **({"epsilon": EPSILON} if name == "huber" else {}))
        return ours, ref, "sklearn._loss", y, raw, n_elements
    y01 = rng.integers(0, 2, n_elements).astype(dtype)
    if name == "log_loss":
        # sklearn's HalfBinomialLoss takes {0, 1}; so does sklloss (0 = negative class).
        return losses.LogLoss(), sk_loss.HalfBinomialLoss(), "sklearn._loss", y01, raw, n_elements
    ypm = 2 * y01 - 1
    return losses.Hinge(), NumpyHinge(), "numpy", ypm, raw, n_elements


def call(obj, method, y, raw, n_threads, loss_out, gradient_out, ours):
    if ours:
        if method == "loss":
            return obj.loss(y, raw, n_threads=n_threads, out=loss_out)
        if method == "gradient":
            return obj.gradient(y, raw, n_threads=n_threads, out=gradient_out)
        return obj.loss_gradient(y, raw, n_threads=n_threads, loss_out=loss_out,
                                 gradient_out=gradient_out)
    if method == "loss":
        return obj.loss(y, raw, loss_out=loss_out, n_threads=n_threads)
    if method == "gradient":
        return obj.gradient(y, raw, gradient_out=gradient_out, n_threads=n_threads)
    return obj.loss_gradient(y, raw, loss_out=loss_out, gradient_out=gradient_out,
                             n_threads=n_threads)


def bytes_moved(case, method):
    """Bytes the kernel reads and writes: labels, raw predictions and outputs."""
    _, _, _, y, raw, _ = case
    outputs = {"loss": y.nbytes, "gradient": raw.nbytes,
               "loss_gradient": y.nbytes + raw.nbytes}[method]
    return y.nbytes + raw.nbytes + outputs


def memory_bandwidth(n, repeats):
    """GB/s of a one-thread numpy copy of n float64 (read + write)."""
    src = np.ones(n)
    dst = np.empty(n)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - start)
    return 2 * src.nbytes / statistics.median(times) / 1e9


def measure(case, method, n_threads, repeats):
    """Median seconds of (sklloss, reference), run alternately."""
    ours, ref, _, y, raw, _ = case
    loss_out = np.empty(raw.shape[0], dtype=raw.dtype)
    gradient_out = np.empty_like(raw)
    # Check once that both compute the same thing before timing them.
    np.testing.assert_allclose(
        call(ours, "loss", y, raw, n_threads, loss_out, gradient_out, True).copy(),
        call(ref, "loss", y, raw, n_threads, loss_out, gradient_out, False),
        rtol=1e-4, atol=1e-5,
    )
    times = {True: [], False: []}
    for _ in range(repeats):
        for is_ours, obj in ((True, ours), (False, ref)):
            # Each library has its own OpenMP runtime, whose idle workers spin for a
            # while after a parallel region: without a pause, the other library's
            # spinning thread takes the second core from a 2-thread run.
            time.sleep(SWITCH_PAUSE)
            start = time.perf_counter()
            call(obj, method, y, raw, n_threads, loss_out, gradient_out, is_ours)
            times[is_ours].append(time.perf_counter() - start)
    return statistics.median(times[True]), statistics.median(times[False])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="elements per call")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    header = (
        "| loss | method | dtype | sklloss 1t (Melem/s) | reference 1t (Melem/s) "
        "| **ratio 1t** | sklloss 2t (Melem/s) | reference 2t (Melem/s) "
        "| **sklloss 2t / 1t** | sklloss 2t (GB/s) | reference |"
    )
    lines = [header, "|" + "---|" * 11]
    print(header, flush=True)
    print(lines[1], flush=True)
    for name in ("squared_error", "huber", "log_loss", "hinge", "multinomial_log_loss"):
        for dtype in (np.float64, np.float32):
            case = make_case(name, args.n, dtype, rng)
            n_elements = case[-1]
            for method in METHODS:
                ours1, ref1 = measure(case, method, 1, args.repeats)
                ours2, ref2 = measure(case, method, 2, args.repeats)
                rate = lambda seconds: n_elements / seconds / 1e6  # noqa: E731
                traffic = bytes_moved(case, method) / ours2 / 1e9
                line = (
                    f"| {name} | {method} | {np.dtype(dtype).name} | {rate(ours1):.0f} "
                    f"| {rate(ref1):.0f} | **{ref1 / ours1:.2f}** | {rate(ours2):.0f} "
                    f"| {rate(ref2):.0f} | **{ours1 / ours2:.2f}** | {traffic:.1f} "
                    f"| {case[2]} |"
                )
                lines.append(line)
                print(line, flush=True)

    copy_1t = memory_bandwidth(args.n, args.repeats)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    footer = [
        "",
        f"{args.n:,} elements per call (multinomial: {args.n // N_CLASSES:,} rows x "
        f"{N_CLASSES} classes), median of {args.repeats} alternating runs (50 ms pause between libraries), preallocated "
        f"outputs. ratio = sklloss throughput / reference throughput (> 1: sklloss faster).",
        f"GB/s = bytes read and written by the kernel per second. For scale: numpy copies "
        f"{args.n:,} float64 at {copy_1t:.1f} GB/s (read + write, one thread); kernels "
        f"near that rate are bound by memory, which a second thread barely widens.",
        f"{datetime.date.today()}, {cpu}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, sklloss {sklloss.__version__}.",
        "Command: `python benchmarks/bench_losses.py`",
    ]
    print("\n".join(footer))
    if not args.no_save:
        os.makedirs(RESULTS, exist_ok=True)
        path = os.path.join(RESULTS, "bench_losses.md")
        with open(path, "w") as f:
            f.write("# Loss kernel throughput: sklloss vs scikit-learn\n\n")
            f.write("\n".join(lines + footer) + "\n")
        print(f"saved {path}")


if __name__ == "__main__":
    sys.exit(main())
