# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Vectorised loss kernels over arrays, built on the scalar kernels of _kernels.pxd.

A loss arrives as its kernel code and parameter record (what the loss classes of
sklloss.losses declare) and is dispatched by the one switch of _switch.pxi.

Inputs arrive validated (contiguous, one float dtype, matching lengths) from
sklloss.losses._loss; what is checked here is what can only be seen element by
element, in the same pass that computes the result: labels, NaN raw predictions and
sample weights. A loop only reports whether it saw a bad element (or, for an
element-wise loss, an infinite raw prediction: see _input_check); the caller then
finds which (in numpy: this path is taken only then) and raises.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport copysign, copysignf


# float64 exp over an array, in arithmetic the compiler vectorises, compiled twice:
# for baseline x86-64 (two SSE2 lanes) and for AVX2 + FMA (four lanes), the latter
# chosen at import when the CPU has them (GCC and Clang on x86-64; elsewhere the one
# portable version). glibc's exp is table-driven and scalar; a call to it per element
# keeps the loops around it scalar too (its SIMD versions are used only under
# -ffast-math), and it cost the log-loss gradient 0.73x scikit-learn's speed.
# Same scheme as _exp_float (_kernels.pxd): Cody-Waite reduction x = k ln2 + r,
# |r| <= ln2 / 2 (ln2's head has 21 trailing zero bits: k * LN2_HI is exact for
# |k| < 2^21); exp(r) = 1 + r + r^2 s(r), s the Taylor polynomial of degree 11 (the
# truncation, r^14 / 14!, is below 2^-57 relative) evaluated by Estrin's scheme (a
# shorter dependency chain than Horner's: 1.6 against 1.9 ns per element here), with
# 1 + r summed exactly (Fast2Sum) so that its rounding is not paid twice; 2^k from the
# exponent bits as two factors, so that subnormal results (one rounding) and overflow
# to +inf come out right. Measured against exp in long double over the whole range:
# at most 0.82 ulp in both versions (glibc's: 0.5); NaN in, NaN out; -inf -> 0.
# The two versions may differ in the last bit (FMA), never by more.
cdef extern from "sklloss/losses/_kernels.h":
    void _exp_f64_array "sklloss_exp_f64"(const double* x, double* out,
                                          Py_ssize_t n) noexcept nogil
    void _exp_f64_array_baseline "sklloss_exp_f64_baseline"(const double* x, double* out,
                                                            Py_ssize_t n) noexcept nogil
    void _exp_f64_array_avx2 "sklloss_exp_f64_avx2"(const double* x, double* out,
                                                    Py_ssize_t n) noexcept nogil
    int _cpu_has_avx2_fma "sklloss_cpu_has_avx2_fma"() noexcept nogil
    int _exp_f64_choose "sklloss_exp_f64_choose"() noexcept nogil
    void _exp_f64_use_baseline "sklloss_exp_f64_use_baseline"() noexcept nogil

# The float64 exp version the array kernels use ("avx2" or "baseline").
EXP_F64_VERSION = "avx2" if _exp_f64_choose() else "baseline"


def _has_avx2_fma():
    """Whether this CPU runs the AVX2 + FMA version of the float64 exp."""
    return bool(_cpu_has_avx2_fma())


def _set_exp_f64_version(str version):
    """Make the array kernels use the float64 exp `version` ("baseline", or "avx2" on
    a CPU with AVX2 and FMA); for the tests, which run the kernels with each. Not
    thread-safe: no kernel may run meanwhile."""
    global EXP_F64_VERSION
    if version == "baseline":
        _exp_f64_use_baseline()
    elif version == "avx2":
        if not _exp_f64_choose():
            raise ValueError("This CPU has no AVX2 and FMA.")
    else:
        raise ValueError(f"No exp version {version!r}.")
    EXP_F64_VERSION = version


cdef enum:
    EXP_BLOCK = 512  # elements per call of _exp_block: its buffers stay in L1


# exp of n <= EXP_BLOCK elements: the array version in double; in float32 the
# polynomial of _kernels.pxd, which this loop vectorises.
cdef inline void _exp_block(const floating* x, floating* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    if floating is double:
        _exp_f64_array(x, out, n)
    else:
        for i in range(n):
            out[i] = _exp_float(x[i])

cdef inline floating* _data_or_null(floating[::1] array) noexcept:
    return NULL if array is None else &array[0]


# What a loop computes, as a type: a loop fused over `mode_t` is compiled once per
# mode, so the choice costs nothing per element.
ctypedef struct LossOnly:
    char unused
ctypedef struct GradientOnly:
    char unused
ctypedef struct LossAndGradient:
    char unused

ctypedef fused mode_t:
    LossOnly
    GradientOnly
    LossAndGradient


cdef inline floating _copysign(floating magnitude, floating sign) noexcept nogil:
    if floating is float:
        return copysignf(magnitude, sign)
    else:
        return copysign(magnitude, sign)


cdef extern from "sklloss/losses/_kernels.h":
    ctypedef unsigned long long uint64_t
    ctypedef unsigned int uint32_t
    uint64_t _bits_f64 "sklloss_bits_f64"(double x) noexcept nogil
    uint32_t _bits_f32 "sklloss_bits_f32"(float x) noexcept nogil


cdef inline floating _input_check(loss_t loss, floating y, floating raw) noexcept nogil:
    """+0.0 for good input; for bad input (a NaN raw prediction, a non-finite regression
    target, a binary label outside {-1, 0, +1}) NaN or another nonzero value, and so
    for an infinite raw prediction, which may be good (the caller tells them apart).

    A loop ORs the bits of these values into one integer, nonzero iff some input may be
    bad: an OR reduction, which GCC vectorises (a flag from comparisons takes it a
    narrowing of masks and a blend per vector, a third of the Huber gradient's
    instructions). x - x is +0.0 for finite x, NaN for NaN and +-inf; NaN + anything is
    NaN, and a nonzero finite value plus +0.0 stays nonzero."""
    if is_margin_loss(loss):
        # y^2 - |y| = |y| (|y| - 1) is +0.0 exactly for y in {-1, 0, +1}; NaN for NaN
        # and +-inf (inf - inf), nonzero (or inf) for any other label
        return (y * y - _fabs(y)) + (raw - raw)
    else:
        return (y - y) + (raw - raw)


cdef inline bint _input_is_bad(loss_t loss, floating y, floating raw) noexcept nogil:
    """Whether _input_check says the input may be bad."""
    cdef floating check = _input_check(loss, y, raw)
    return check != 0 or check != check


cdef inline floating _margin_label(floating y) noexcept nogil:
    """{-1, +1} and {0, 1} labels: 0 and -1 both mean the negative class.

    A sign copy, not a select: where the loop is not vectorised (log_loss calls
    exp), GCC turns a select -- or anything it can prove is +-1 -- into a branch that
    random labels mispredict half the time. y - 0.5 is < 0 for -1 and 0."""
    return _copysign(1, y - <floating>0.5)


cdef inline floating _elementwise_one(
    mode_t mode,
    loss_t loss,
    const floating* y_true,
    const floating* raw,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t i,
) noexcept nogil:
    """Store the loss and/or derivative of sample i; returns _input_check of its
    input."""
    cdef floating y = y_true[i]
    cdef floating raw_i = raw[i]
    cdef floating check = _input_check(loss, y, raw_i)
    if is_margin_loss(loss):
        y = _margin_label(y)
    if mode_t is LossOnly:
        loss_out[i] = loss_of(loss, y, raw_i)
    elif mode_t is GradientOnly:
        gradient_out[i] = grad_of(loss, y, raw_i)
    else:
        loss_out[i] = loss_grad_of(loss, y, raw_i, &gradient_out[i])
    return check


cdef bint _log_loss_blocks(
    mode_t mode,
    LogLoss loss,
    const floating* y_true,
    const floating* raw,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t start,
    Py_ssize_t stop,
) noexcept nogil:
    """_elementwise_one's results for log_loss, by blocks: the arguments of the exps
    (and the input checks), their exps in one vectorised call, then the kernel's
    results from them (the kernels of _kernels.pxd, split at their exp)."""
    cdef floating args[EXP_BLOCK]
    cdef floating exps[EXP_BLOCK]
    cdef Py_ssize_t b, block, j, n
    cdef floating y, z
    cdef bint bad = False
    for b in range((stop - start + EXP_BLOCK - 1) // EXP_BLOCK):
        block = start + b * EXP_BLOCK
        n = min(<Py_ssize_t>EXP_BLOCK, stop - block)
        for j in range(n):
            y = y_true[block + j]
            bad = True if _input_is_bad(loss, y, raw[block + j]) else bad
            z = _margin_label(y) * raw[block + j]
            if mode_t is GradientOnly:
                args[j] = _grad_log_loss_exp_arg(z)
            else:
                args[j] = _exp_arg_for_log1pexp(-z)
        _exp_block(args, exps, n)
        for j in range(n):
            y = _margin_label(y_true[block + j])
            z = y * raw[block + j]
            if mode_t is GradientOnly:
                gradient_out[block + j] = _grad_log_loss_from_exp(y, z, exps[j])
            elif mode_t is LossOnly:
                loss_out[block + j] = _log1pexp_from_exp(-z, exps[j])
            else:
                loss_out[block + j] = _loss_grad_log_loss_from_exp(
                    y, -z, exps[j], &gradient_out[block + j])
    return bad


cdef inline bint _weigh_one(mode_t mode, const floating* sample_weight, floating* loss_out,
                            floating* gradient_out, Py_ssize_t i) noexcept nogil:
    """Multiply the outputs of sample i by its weight; True if it is not finite."""
    cdef floating w = sample_weight[i]
    if mode_t is not GradientOnly:
        loss_out[i] = w * loss_out[i]
    if mode_t is not LossOnly:
        gradient_out[i] = w * gradient_out[i]
    return w - w != 0


cdef bint _elementwise_chunk(
    mode_t mode,
    loss_t loss,
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t start,
    Py_ssize_t stop,
) noexcept nogil:
    # A plain loop, the checks ORed as bits (see _input_check; a variable assigned in
    # a prange body becomes lastprivate, which stops vectorisation: hence chunks, with
    # the prange over them).
    cdef Py_ssize_t i
    cdef bint bad = False
    cdef uint64_t bits64 = 0
    cdef uint32_t bits32 = 0
    if loss_t is LogLoss:
        # exp by blocks: in one pass, libm's exp (double) or the loss's log keeps the
        # loop scalar; in float32 even the derivative alone ran 0.6x the speed of
        # blocks (313 against 182 Melem/s here)
        bad = _log_loss_blocks(mode, loss, y_true, raw, loss_out, gradient_out,
                               start, stop)
    else:
        for i in range(start, stop):
            if floating is double:
                bits64 = bits64 | _bits_f64(_elementwise_one(
                    mode, loss, y_true, raw, loss_out, gradient_out, i))
            else:
                bits32 = bits32 | _bits_f32(_elementwise_one(
                    mode, loss, y_true, raw, loss_out, gradient_out, i))
        bad = bits64 != 0 or bits32 != 0
    # Weights in a second pass over the chunk, still in cache: it keeps the loop above
    # identical for the weighted and the unweighted case.
    if sample_weight != NULL:
        for i in range(start, stop):
            bad = True if _weigh_one(mode, sample_weight, loss_out, gradient_out,
                                     i) else bad
    return bad


cdef enum:
    CHUNK = 8192  # samples per task of the parallel loop


cdef Py_ssize_t _elementwise_loop(
    mode_t mode,
    loss_t loss,
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t n_samples,
    int n_threads,
) noexcept nogil:
    cdef Py_ssize_t chunk
    cdef Py_ssize_t n_chunks = (n_samples + CHUNK - 1) // CHUNK
    cdef Py_ssize_t n_bad = 0
    for chunk in prange(n_chunks, num_threads=n_threads, schedule="static"):
        n_bad += _elementwise_chunk(mode, loss, y_true, raw, sample_weight, loss_out,
                                    gradient_out, chunk * CHUNK,
                                    min((chunk + 1) * CHUNK, n_samples))
    return n_bad


cdef Py_ssize_t _dispatch_mode(
    loss_t loss,
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t n_samples,
    int n_threads,
) noexcept nogil:
    cdef LossOnly loss_only
    cdef GradientOnly gradient_only
    cdef LossAndGradient loss_and_gradient
    if gradient_out == NULL:
        return _elementwise_loop(loss_only, loss, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    elif loss_out == NULL:
        return _elementwise_loop(gradient_only, loss, y_true, raw, sample_weight,
                                 loss_out, gradient_out, n_samples, n_threads)
    return _elementwise_loop(loss_and_gradient, loss, y_true, raw, sample_weight,
                             loss_out, gradient_out, n_samples, n_threads)


cdef inline bint _multinomial_finish(
    floating y,
    Py_ssize_t n_classes,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    bint bad,
    floating value,
) noexcept nogil:
    """The weight of one row, and the check of its loss; True if its input is bad."""
    cdef Py_ssize_t k
    cdef floating w
    if value != value:  # a NaN, or inf - inf from an infinite raw prediction
        bad = True
    if sample_weight != NULL:
        w = sample_weight[0]
        if w - w != 0:
            bad = True
        value = w * value
        if gradient_out != NULL:
            for k in range(n_classes):
                gradient_out[k] = w * gradient_out[k]
    if loss_out != NULL:
        loss_out[0] = value
    return bad


cdef inline bint _class_label(floating y, Py_ssize_t n_classes,
                              Py_ssize_t* label) noexcept nogil:
    """The class of y in 0 .. n_classes - 1; True (and class 0, which keeps the
    indexing in bounds: the caller raises) if y is not one."""
    # Compare before casting: casting NaN or an out-of-range float is undefined.
    if not (y >= 0 and y < n_classes) or y != <Py_ssize_t>y:
        label[0] = 0
        return True
    label[0] = <Py_ssize_t>y
    return False


cdef inline bint _multinomial_one(
    floating y,
    const floating* raw,
    Py_ssize_t n_classes,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
) noexcept nogil:
    """Loss and/or derivative of one row; True if its input is bad."""
    cdef Py_ssize_t label
    cdef floating value
    cdef bint bad = _class_label(y, n_classes, &label)
    if gradient_out != NULL:
        value = loss_grad_multinomial_log_loss(raw, n_classes, label, gradient_out)
    else:
        value = loss_multinomial_log_loss(raw, n_classes, label)
    return _multinomial_finish(y, n_classes, sample_weight, loss_out, gradient_out, bad,
                               value)


cdef bint _multinomial_blocks(
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t start,
    Py_ssize_t stop,
    Py_ssize_t n_classes,
) noexcept nogil:
    """_multinomial_one over rows start .. stop - 1 (n_classes <= EXP_BLOCK), by
    blocks of rows: the rows' maxima and the arguments raw_k - m, their exps in one
    vectorised call, then the loss and derivatives from them (the kernel of
    _kernels.pxd, split at its exps)."""
    cdef floating args[EXP_BLOCK]
    cdef floating terms[EXP_BLOCK]
    cdef floating maxima[EXP_BLOCK]
    cdef Py_ssize_t argmaxes[EXP_BLOCK]
    cdef Py_ssize_t rows_per_block = EXP_BLOCK // n_classes
    cdef Py_ssize_t b, first, n_rows, i, row, k, label, argmax
    cdef floating m, rest, value
    cdef const floating* raw_row
    cdef const floating* weight = NULL
    cdef floating* gradient_row
    cdef bint bad = False
    cdef bint bad_row
    for b in range((stop - start + rows_per_block - 1) // rows_per_block):
        first = start + b * rows_per_block
        n_rows = min(rows_per_block, stop - first)
        for i in range(n_rows):
            raw_row = raw + (first + i) * n_classes
            m = _max_of_row(raw_row, n_classes, &argmaxes[i])
            maxima[i] = m
            for k in range(n_classes):
                args[i * n_classes + k] = raw_row[k] - m
        _exp_block(args, terms, n_rows * n_classes)
        for i in range(n_rows):
            row = first + i
            raw_row = raw + row * n_classes
            bad_row = _class_label(y_true[row], n_classes, &label)
            argmax = argmaxes[i]
            rest = _rest_of_terms(&terms[i * n_classes], n_classes, argmax)
            value = _multinomial_loss_of(rest, maxima[i], raw_row[label])  # (raw first:
            # `gradient_out` may be `raw`)
            gradient_row = NULL
            if gradient_out != NULL:
                gradient_row = gradient_out + row * n_classes
                for k in range(n_classes):
                    gradient_row[k] = terms[i * n_classes + k]
                _multinomial_gradient_from_terms(gradient_row, n_classes, label, argmax,
                                                 rest)
            if sample_weight != NULL:
                weight = sample_weight + row
            bad = True if _multinomial_finish(
                y_true[row], n_classes, weight,
                NULL if loss_out == NULL else loss_out + row,
                gradient_row, bad_row, value) else bad
    return bad


cdef Py_ssize_t _multinomial_rows(
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t n_samples,
    Py_ssize_t n_classes,
    int n_threads,
) noexcept nogil:
    cdef Py_ssize_t i, chunk
    cdef Py_ssize_t n_bad = 0
    cdef Py_ssize_t rows_per_chunk = max(1, CHUNK // n_classes)
    cdef Py_ssize_t n_chunks = (n_samples + rows_per_chunk - 1) // rows_per_chunk
    if n_classes <= EXP_BLOCK:
        for chunk in prange(n_chunks, num_threads=n_threads, schedule="static"):
            n_bad += _multinomial_blocks(
                y_true, raw, sample_weight, loss_out, gradient_out,
                chunk * rows_per_chunk, min((chunk + 1) * rows_per_chunk, n_samples),
                n_classes)
        return n_bad
    for i in prange(n_samples, num_threads=n_threads, schedule="static"):
        n_bad += _multinomial_one(
            y_true[i], raw + i * n_classes, n_classes,
            NULL if sample_weight == NULL else sample_weight + i,
            NULL if loss_out == NULL else loss_out + i,
            NULL if gradient_out == NULL else gradient_out + i * n_classes,
        )
    return n_bad


# -- the switch ------------------------------------------------------------------------
ctypedef struct ArrayJob:
    const void* y_true          # (n_samples,)
    const void* raw             # (n_samples, n_outputs), C order
    const void* sample_weight   # (n_samples,) or NULL
    void* loss_out              # (n_samples,) or NULL
    void* gradient_out          # like raw, or NULL
    Py_ssize_t n_samples
    Py_ssize_t n_outputs        # K for a multi-class loss, else 1
    int n_threads

ctypedef ArrayJob Job

ctypedef fused precision_t:  # the arrays' float type
    float
    double

cdef enum:
    WRONG_OUTPUTS = -2  # an element-wise loss given K > 1 raw predictions per sample


cdef Py_ssize_t with_loss(loss_t loss, const precision_t* precision,
                          ArrayJob* job) noexcept nogil:
    """The per-sample results of `loss` over the job's arrays; the number of bad
    samples seen (or WRONG_OUTPUTS)."""
    cdef const precision_t* y_true = <const precision_t*>job.y_true
    cdef const precision_t* raw = <const precision_t*>job.raw
    cdef const precision_t* sample_weight = <const precision_t*>job.sample_weight
    cdef precision_t* loss_out = <precision_t*>job.loss_out
    cdef precision_t* gradient_out = <precision_t*>job.gradient_out
    if loss_t is MultinomialLogLoss:
        return _multinomial_rows(y_true, raw, sample_weight, loss_out, gradient_out,
                                 job.n_samples, job.n_outputs, job.n_threads)
    else:
        if job.n_outputs != 1:
            return WRONG_OUTPUTS
        return _dispatch_mode(loss, y_true, raw, sample_weight, loss_out, gradient_out,
                              job.n_samples, job.n_threads)


include "_switch.pxi"


cdef int grad_by_code(int code, const LossParams* params, double y, double raw,
                      double* gradient) noexcept nogil:
    """The derivative of the element-wise loss `code` at one point, in float64;
    UNKNOWN_LOSS (or WRONG_OUTPUTS for a multi-class loss) when it has none."""
    cdef ArrayJob job
    job.y_true = &y
    job.raw = &raw
    job.sample_weight = NULL
    job.loss_out = NULL
    job.gradient_out = gradient
    job.n_samples = 1
    job.n_outputs = 1
    job.n_threads = 1
    cdef Py_ssize_t status = switch_loss(code, params, <double*>NULL, &job)
    return <int>status if status < 0 else 0


def compute(
    int code,
    double epsilon,
    double quantile,
    double power,
    const floating[::1] y_true,
    const floating[::1] raw_prediction,
    Py_ssize_t n_outputs,
    const floating[::1] sample_weight,
    floating[::1] loss_out,
    floating[::1] gradient_out,
    int n_threads,
):
    """Per-sample loss and/or derivative of the loss with kernel `code` and parameter
    record (epsilon, quantile, power), weighted if asked.

    `raw_prediction` (and `gradient_out`) hold n_outputs values per sample, in C
    order. `loss_out` or `gradient_out` (or both) receive the results; the other may
    be None. Returns True when some input may be bad (a NaN raw prediction, a
    non-finite target, a label the loss does not take, a non-finite weight, an
    infinite raw prediction of the multinomial loss; and, for an element-wise loss,
    an infinite raw prediction, which is good): the caller must then find which and
    raise, the outputs are not to be used unless it finds none.
    """
    cdef ArrayJob job
    cdef LossParams params
    cdef Py_ssize_t n_bad
    params.epsilon = epsilon
    params.quantile = quantile
    params.power = power
    job.n_samples = y_true.shape[0]
    job.n_outputs = n_outputs
    if job.n_samples == 0 or n_outputs == 0:
        return False
    job.y_true = &y_true[0]
    job.raw = &raw_prediction[0]
    job.sample_weight = NULL if sample_weight is None else &sample_weight[0]
    job.loss_out = _data_or_null(loss_out)
    job.gradient_out = _data_or_null(gradient_out)
    job.n_threads = n_threads
    with nogil:
        n_bad = switch_loss(code, &params, &y_true[0], &job)
    if n_bad == UNKNOWN_LOSS:
        raise ValueError(f"No loss kernel has the code {code}.")
    if n_bad == WRONG_OUTPUTS:
        raise ValueError(f"The loss kernel {LossCode(code).name} takes one raw "
                         f"prediction per sample; got {n_outputs}.")
    return n_bad != 0


def _exp_array(const floating[::1] x, floating[::1] out, str version="kernels"):
    """exp of every element as the kernels compute it (exposed for its accuracy tests).

    version: "kernels", the exp of the array kernels (the polynomial in float32, the
    version EXP_F64_VERSION in float64); in float64 also "baseline" and "avx2" (on a
    CPU with AVX2 and FMA), its two compiled versions, and "scalar", the exp of the
    scalar kernels (libm's).
    """
    cdef Py_ssize_t i
    cdef Py_ssize_t n = x.shape[0]
    cdef int choice = {"kernels": 0, "baseline": 1, "avx2": 2, "scalar": 3}.get(version, -1)
    if choice < 0 or (floating is float and choice != 0):
        raise ValueError(f"No exp version {version!r} for this dtype.")
    if choice == 2 and not _cpu_has_avx2_fma():
        raise ValueError("This CPU has no AVX2 and FMA.")
    if out.shape[0] != n:
        raise ValueError("x and out must have the same length.")
    if n == 0:
        return
    with nogil:
        if floating is float:
            for i in range(n):
                out[i] = _exp(x[i])
        elif choice == 0:
            _exp_f64_array(&x[0], &out[0], n)
        elif choice == 1:
            _exp_f64_array_baseline(&x[0], &out[0], n)
        elif choice == 2:
            _exp_f64_array_avx2(&x[0], &out[0], n)
        else:
            for i in range(n):
                out[i] = _exp(x[i])
