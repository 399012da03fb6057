"""`python -m sklloss`: a short tour of the loss library.

Prints each loss's value and derivative at a few raw predictions, checks the
derivatives against finite differences, and times the compiled kernels against the
numpy expression a user would otherwise write. (The estimators' demo replaces this
once sklloss.SGDClassifier and SGDRegressor exist.)
"""
import time

import numpy as np

from . import __version__
from .losses import LOSSES, get_loss

RAW = np.array([-2.0, -0.5, 0.0, 0.5, 1.0, 2.0])


def _numpy_log_loss(y, raw):
    return np.logaddexp(0.0, -y * raw)


def main():
    print(f"sklloss {__version__}: compiled loss kernels for scikit-learn users\n")
    print("Per-sample loss (and derivative) for y = +1 (regression: y = 0), raw prediction:")
    print(f"{'loss':<40}" + "".join(f"{p:>14.1f}" for p in RAW))
    for name in LOSSES:
        if name == "multinomial":
            continue
        loss = get_loss(name)
        y = np.zeros_like(RAW) if loss.task == "regression" else np.ones_like(RAW)
        values, grads = loss.loss_gradient(y, RAW)
        cells = "".join(f"{v:>7.3f} ({g:+.2f})" for v, g in zip(values, grads))
        print(f"{repr(loss):<40}{cells}")
        h = 1e-6
        numeric = (loss.loss(y, RAW + 0.3 + h) - loss.loss(y, RAW + 0.3 - h)) / (2 * h)
        assert np.allclose(loss.gradient(y, RAW + 0.3), numeric, atol=1e-5), name

    multinomial = get_loss("multinomial")
    raw = np.array([[2.0, 0.5, -1.0]])
    value, grad = multinomial.loss_gradient([0], raw)
    print(f"\n{multinomial!r} at raw {raw[0]} for class 0: loss {value[0]:.4f}, "
          f"gradient {np.round(grad[0], 4)} (softmax - one-hot)")

    y32 = np.ones(3, dtype=np.float32)
    raw32 = np.array([3e38, 0.0, -3e38], dtype=np.float32)
    print(f"float32 stays float32, extremes stay finite: LogLoss at {raw32} -> "
          f"{get_loss('log_loss').loss(y32, raw32)} "
          f"({get_loss('log_loss').loss(y32, raw32).dtype})")

    n = 2_000_000
    rng = np.random.default_rng(0)
    y = rng.choice([-1.0, 1.0], n)
    raw = 3 * rng.standard_normal(n)
    log_loss = get_loss("log_loss")
    timings = {"sklloss": [], "numpy": []}
    for _ in range(5):
        start = time.perf_counter()
        ours = log_loss.loss(y, raw)
        timings["sklloss"].append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs = _numpy_log_loss(y, raw)
        timings["numpy"].append(time.perf_counter() - start)
    assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-300)
    ours_t, numpy_t = (float(np.median(t)) for t in timings.values())
    print(f"\nLog loss of {n:,} samples, median of 5: sklloss {ours_t * 1e3:.1f} ms, "
          f"numpy logaddexp {numpy_t * 1e3:.1f} ms ({numpy_t / ours_t:.1f}x), same values.")


if __name__ == "__main__":
    main()
