"""A third party can `cimport` sklloss's scalar kernels from the installed package.

A small Cython extension is written to a temporary directory, cimports kernels from
`sklloss.losses._kernels` (found through `sklloss.get_include()`), is built with
`setup.py build_ext --inplace` in a subprocess, then imported; its results are
checked against closed forms written here with math/numpy.

The only reason to skip is the absence of a C compiler.
"""
import importlib.util
import math
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sklloss

MODULE_NAME = "sklloss_cimport_probe"

PYX_SOURCE = textwrap.dedent(
    """
    # cython: language_level=3
    # A third party's module: default Cython directives, nothing from sklloss's build.
    from libc.stdlib cimport free, malloc

    from sklloss.losses._kernels cimport (
        grad_gamma,
        grad_poisson,
        grad_quantile,
        grad_tweedie,
        loss_gamma,
        loss_poisson,
        loss_quantile,
        loss_tweedie,
        grad_hinge,
        grad_huber,
        grad_log_loss,
        loss_grad_log_loss,
        loss_grad_multinomial_log_loss,
        loss_hinge,
        loss_huber,
        loss_log_loss,
        loss_multinomial_log_loss,
    )


    def hinge_double(double y, double raw):
        return loss_hinge(y, raw), grad_hinge(y, raw)


    def hinge_float(float y, float raw):
        return loss_hinge(y, raw), grad_hinge(y, raw)


    def log_loss_double(double y, double raw):
        return loss_log_loss(y, raw), grad_log_loss(y, raw)


    def log_loss_float(float y, float raw):
        return loss_log_loss(y, raw), grad_log_loss(y, raw)


    def loss_grad_log_loss_double(double y, double raw):
        cdef double gradient = 0
        cdef double loss = loss_grad_log_loss(y, raw, &gradient)
        return loss, gradient


    def huber_double(double y, double raw, double epsilon):
        return loss_huber(y, raw, epsilon), grad_huber(y, raw, epsilon)


    def huber_float(float y, float raw, double epsilon):
        return loss_huber(y, raw, epsilon), grad_huber(y, raw, epsilon)


    def glm_double(double y, double raw, double power):
        return (loss_poisson(y, raw), grad_poisson(y, raw), loss_gamma(y, raw),
                grad_gamma(y, raw), loss_tweedie(y, raw, power),
                grad_tweedie(y, raw, power))


    def glm_float(float y, float raw, double power):
        return (loss_poisson(y, raw), grad_poisson(y, raw), loss_gamma(y, raw),
                grad_gamma(y, raw), loss_tweedie(y, raw, power),
                grad_tweedie(y, raw, power))


    def quantile_double(double y, double raw, double q):
        return loss_quantile(y, raw, q), grad_quantile(y, raw, q)


    def multinomial_double(list raw, Py_ssize_t y, bint in_place=False):
        # Returns (loss from loss_multinomial_log_loss, loss from
        # loss_grad_multinomial_log_loss, gradient); with in_place the gradient overwrites the raw buffer (allowed).
        cdef Py_ssize_t k, n = len(raw)
        cdef double* values = <double*>malloc(n * sizeof(double))
        cdef double* gradient = <double*>malloc(n * sizeof(double))
        cdef double* target = values if in_place else gradient
        cdef double loss_only, loss
        if values == NULL or gradient == NULL:
            free(values)
            free(gradient)
            raise MemoryError()
        try:
            for k in range(n):
                values[k] = raw[k]
            loss_only = loss_multinomial_log_loss(values, n, y)
            loss = loss_grad_multinomial_log_loss(values, n, y, target)
            return loss_only, loss, [target[k] for k in range(n)]
        finally:
            free(values)
            free(gradient)


    def multinomial_float(list raw, Py_ssize_t y):
        cdef Py_ssize_t k, n = len(raw)
        cdef float* values = <float*>malloc(n * sizeof(float))
        cdef float* gradient = <float*>malloc(n * sizeof(float))
        cdef float loss
        if values == NULL or gradient == NULL:
            free(values)
            free(gradient)
            raise MemoryError()
        try:
            for k in range(n):
                values[k] = raw[k]
            loss = loss_grad_multinomial_log_loss(values, n, y, gradient)
            return loss, [gradient[k] for k in range(n)]
        finally:
            free(values)
            free(gradient)
    """
)

SETUP_SOURCE = textwrap.dedent(
    f"""
    import os

    from Cython.Build import cythonize
    from setuptools import Extension, setup

    import sklloss  # the installed package: its get_include() locates the .pxd files

    libraries = ["m"] if os.name == "posix" else []
    setup(
        name="{MODULE_NAME}",
        ext_modules=cythonize(
            [Extension("{MODULE_NAME}", ["{MODULE_NAME}.pyx"], libraries=libraries)],
            include_path=[sklloss.get_include()],
            compiler_directives={{"language_level": 3}},
        ),
    )
    """
)

RTOL = 1e-12
RTOL_FLOAT32 = 1e-6  # closed forms in float64 vs kernels computing in float32


def _has_c_compiler():
    return shutil.which("cc") is not None or shutil.which("gcc") is not None


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """Build the third-party extension against the installed sklloss and import it."""
    if not _has_c_compiler():
        pytest.skip("no C compiler found (neither `cc` nor `gcc` is on PATH)")
    # The .pxd the probe cimports must come from the installed package's include dir.
    pxd = os.path.join(sklloss.get_include(), "sklloss", "losses", "_kernels.pxd")
    assert os.path.isfile(pxd), f"sklloss.get_include() has no {pxd}"

    tmp_path = tmp_path_factory.mktemp("cimport_probe")
    (tmp_path / f"{MODULE_NAME}.pyx").write_text(PYX_SOURCE)
    (tmp_path / "setup.py").write_text(SETUP_SOURCE)
    try:
        result = subprocess.run(
            [sys.executable, "setup.py", "build_ext", "--inplace"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"building the cimport probe timed out:\n{exc.stdout}\n{exc.stderr}")
    assert result.returncode == 0, (
        f"building the cimport probe failed (exit {result.returncode}):\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
    built = sorted(p for p in tmp_path.iterdir()
                   if p.name.startswith(MODULE_NAME + ".") and p.suffix in (".so", ".pyd"))
    assert built, f"no extension module was built in {tmp_path}:\n{result.stdout}"
    spec = importlib.util.spec_from_file_location(MODULE_NAME, built[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- closed forms, written independently of the kernels ------------------------------
def hinge_ref(y, p):
    return max(0.0, 1.0 - y * p), (-y if y * p <= 1.0 else 0.0)


def log_loss_ref(y, p):
    return float(np.logaddexp(0.0, -y * p)), -y / (1.0 + math.exp(y * p))


def huber_ref(y, p, eps):
    r = y - p
    if abs(r) <= eps:
        loss = 0.5 * r * r
    else:
        loss = eps * abs(r) - 0.5 * eps * eps
    return loss, min(max(p - y, -eps), eps)


def multinomial_ref(raw, y):
    raw = np.asarray(raw, dtype=np.float64)
    m = raw.max()
    lse = m + math.log(math.fsum(np.exp(raw - m)))
    gradient = np.exp(raw - lse)
    gradient[y] -= 1.0
    return lse - raw[y], gradient


def _as_float32(x):
    return float(np.float32(x))


def _is_float32(x):
    """True when x is exactly representable in float32: it came from a float kernel."""
    return float(np.float32(x)) == x


HINGE_CASES = [(1.0, 0.3), (-1.0, 0.3), (1.0, 1.0), (-1.0, -1.0), (1.0, 2.5),
               (-1.0, 2.5), (1.0, -7.25), (-1.0, 1.0 + 2.0 ** -40)]
LOGISTIC_CASES = [(1.0, 0.0), (1.0, 0.3), (-1.0, 0.3), (1.0, -2.5), (-1.0, -4.0),
                  (1.0, 17.0), (-1.0, 25.0), (1.0, -30.0), (1.0, 40.0), (-1.0, 300.0)]
HUBER_CASES = [(0.0, 0.5, 1.0), (0.0, 3.0, 1.0), (2.0, -1.5, 0.75), (-1.0, -1.2, 0.1),
               (5.0, 5.0, 0.3), (1.5, 0.0, 1.5), (-3.0, 4.0, 2.0)]
MULTINOMIAL_CASES = [([0.0, 0.0], 0), ([0.5, -1.25, 2.0, 0.1], 1),
                     ([0.5, -1.25, 2.0, 0.1], 2), ([3.0, -2.0, 1.0], 0),
                     ([-40.0, 10.0, 12.5, 11.0, -3.0], 4), ([700.0, 701.0, 699.5], 1)]


@pytest.mark.parametrize("y, raw", HINGE_CASES)
def test_cimported_hinge(probe, y, raw):
    loss, gradient = probe.hinge_double(y, raw)
    want_loss, want_gradient = hinge_ref(y, raw)
    np.testing.assert_allclose(loss, want_loss, rtol=RTOL, atol=0)
    assert gradient == want_gradient

    y32, raw32 = _as_float32(y), _as_float32(raw)
    loss32, gradient32 = probe.hinge_float(y32, raw32)
    want_loss, want_gradient = hinge_ref(y32, raw32)
    assert _is_float32(loss32)
    np.testing.assert_allclose(loss32, want_loss, rtol=RTOL_FLOAT32, atol=0)
    assert gradient32 == want_gradient


@pytest.mark.parametrize("y, raw", LOGISTIC_CASES)
def test_cimported_log_loss(probe, y, raw):
    want_loss, want_gradient = log_loss_ref(y, raw)
    for loss, gradient in (probe.log_loss_double(y, raw),
                           probe.loss_grad_log_loss_double(y, raw)):
        np.testing.assert_allclose(loss, want_loss, rtol=RTOL, atol=0)
        np.testing.assert_allclose(gradient, want_gradient, rtol=RTOL, atol=0)

    y32, raw32 = _as_float32(y), _as_float32(raw)
    loss32, gradient32 = probe.log_loss_float(y32, raw32)
    want_loss, want_gradient = log_loss_ref(y32, raw32)
    assert _is_float32(loss32) and _is_float32(gradient32)
    np.testing.assert_allclose(loss32, want_loss, rtol=RTOL_FLOAT32, atol=0)
    np.testing.assert_allclose(gradient32, want_gradient, rtol=RTOL_FLOAT32, atol=0)


@pytest.mark.parametrize("y, raw, epsilon", HUBER_CASES)
def test_cimported_huber(probe, y, raw, epsilon):
    loss, gradient = probe.huber_double(y, raw, epsilon)
    want_loss, want_gradient = huber_ref(y, raw, epsilon)
    np.testing.assert_allclose(loss, want_loss, rtol=RTOL, atol=0)
    np.testing.assert_allclose(gradient, want_gradient, rtol=RTOL, atol=0)

    # The float kernel rounds epsilon to float32 once; so does the reference here.
    y32, raw32, eps32 = _as_float32(y), _as_float32(raw), _as_float32(epsilon)
    loss32, gradient32 = probe.huber_float(y32, raw32, epsilon)
    want_loss, want_gradient = huber_ref(y32, raw32, eps32)
    assert _is_float32(loss32) and _is_float32(gradient32)
    np.testing.assert_allclose(loss32, want_loss, rtol=RTOL_FLOAT32, atol=1e-7)
    np.testing.assert_allclose(gradient32, want_gradient, rtol=RTOL_FLOAT32, atol=1e-7)


@pytest.mark.parametrize("raw, y", MULTINOMIAL_CASES)
@pytest.mark.parametrize("in_place", [False, True])
def test_cimported_multinomial(probe, raw, y, in_place):
    want_loss, want_gradient = multinomial_ref(raw, y)
    loss_only, loss, gradient = probe.multinomial_double(list(raw), y, in_place)
    np.testing.assert_allclose(loss_only, want_loss, rtol=RTOL, atol=0)
    np.testing.assert_allclose(loss, want_loss, rtol=RTOL, atol=0)
    np.testing.assert_allclose(gradient, want_gradient, rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("raw, y", MULTINOMIAL_CASES[:5])
def test_cimported_multinomial_float(probe, raw, y):
    raw32 = [_as_float32(v) for v in raw]
    want_loss, want_gradient = multinomial_ref(raw32, y)
    loss32, gradient32 = probe.multinomial_float(raw32, y)
    assert _is_float32(loss32) and all(_is_float32(g) for g in gradient32)
    np.testing.assert_allclose(loss32, want_loss, rtol=RTOL_FLOAT32, atol=1e-7)
    np.testing.assert_allclose(gradient32, want_gradient, rtol=RTOL_FLOAT32, atol=1e-7)


GLM_CASES = [(1.0, 0.0, 1.5), (3.0, 1.2, 1.3), (0.5, -2.0, 1.8), (7.0, 2.5, 3.0),
             (2.0, -0.7, -1.0)]


def glm_ref(y, raw, power):
    """Poisson, Gamma and Tweedie(power) losses and derivatives, from their formulas."""
    mu = math.exp(raw)
    tweedie = (mu ** (2 - power) / (2 - power) - y * mu ** (1 - power) / (1 - power))
    return (mu - y * raw, mu - y, raw + y / mu, 1 - y / mu, tweedie,
            mu ** (2 - power) - y * mu ** (1 - power))


@pytest.mark.parametrize("y, raw, power", GLM_CASES)
def test_cimported_glm_losses(probe, y, raw, power):
    np.testing.assert_allclose(probe.glm_double(y, raw, power), glm_ref(y, raw, power),
                               rtol=RTOL, atol=1e-15)
    y32, raw32 = _as_float32(y), _as_float32(raw)
    got = probe.glm_float(y32, raw32, power)
    assert all(_is_float32(value) for value in got)
    np.testing.assert_allclose(got, glm_ref(y32, raw32, power), rtol=RTOL_FLOAT32,
                               atol=1e-6)


@pytest.mark.parametrize("y, raw, q", [(1.0, 0.0, 0.3), (0.0, 1.0, 0.3), (2.0, 2.0, 0.9)])
def test_cimported_quantile(probe, y, raw, q):
    want = (q * (y - raw), -q) if y >= raw else ((1 - q) * (raw - y), 1 - q)
    np.testing.assert_allclose(probe.quantile_double(y, raw, q), want, rtol=RTOL, atol=0)
