/* _kernels.h: the C of _kernels.pyx (declared there for Cython). */
#ifndef SKLLOSS_LOSSES__KERNELS_H
#define SKLLOSS_LOSSES__KERNELS_H

#include <Python.h>

#include <stdint.h>
#include <string.h>
#include <stddef.h>

/* t = j + 0x1.8p52 (|j| < 2^51): returns 2^j for -1022 <= j <= 1023. */
static inline double sklloss_pow2_shifted(double t) {
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits - UINT64_C(0x4338000000000000) + 1023U) << 52;
    memcpy(&t, &bits, sizeof t);
    return t;
}

static inline double sklloss_exp_f64_one(double x) {
    const double shift = 0x1.8p52;
    double k, r, r2, r4, s, head, half_k;
    /* exp(-746) rounds to 0 and exp(710) to +inf; NaN passes (comparisons false) */
    x = x < -746.0 ? -746.0 : (x > 710.0 ? 710.0 : x);
    k = (x * 0x1.71547652b82fep0 + shift) - shift;             /* round(x / ln2) */
    r = (x - k * 0x1.62e42feep-1) - k * 0x1.a39ef35793c76p-33;  /* ln2 head, tail */
    r2 = r * r;
    r4 = r2 * r2;
    s = ((1.0 / 2 + r * (1.0 / 6)) + r2 * (1.0 / 24 + r * (1.0 / 120)))
        + r4 * (((1.0 / 720 + r * (1.0 / 5040))
                 + r2 * (1.0 / 40320 + r * (1.0 / 362880)))
                + r4 * ((1.0 / 3628800 + r * (1.0 / 39916800))
                        + r2 * (1.0 / 479001600 + r * (1.0 / 6227020800.0))));
    head = 1.0 + r;
    s = head + (((1.0 - head) + r) + r2 * s);  /* (1 - head) + r: head's error */
    half_k = (k * 0.5 + shift) - shift;
    return s * sklloss_pow2_shifted(half_k + shift)
             * sklloss_pow2_shifted((k - half_k) + shift);
}

static void sklloss_exp_f64_baseline(const double* x, double* out, ptrdiff_t n) {
    ptrdiff_t i;
    #pragma omp simd
    for (i = 0; i < n; i++) out[i] = sklloss_exp_f64_one(x[i]);
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define SKLLOSS_EXP_F64_HAS_AVX2 1
__attribute__((target("avx2,fma")))
static void sklloss_exp_f64_avx2(const double* x, double* out, ptrdiff_t n) {
    ptrdiff_t i;
    #pragma omp simd
    for (i = 0; i < n; i++) out[i] = sklloss_exp_f64_one(x[i]);
}
#else
#define SKLLOSS_EXP_F64_HAS_AVX2 0
#define sklloss_exp_f64_avx2 sklloss_exp_f64_baseline
#endif

/* Whether this CPU runs the AVX2 + FMA version. */
static int sklloss_cpu_has_avx2_fma(void) {
#if SKLLOSS_EXP_F64_HAS_AVX2
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

typedef void (*sklloss_exp_f64_fn)(const double*, double*, ptrdiff_t);
static sklloss_exp_f64_fn sklloss_exp_f64_chosen = sklloss_exp_f64_baseline;

/* Chooses the version (once, at import); returns 1 for AVX2 + FMA. */
static int sklloss_exp_f64_choose(void) {
    int avx2 = sklloss_cpu_has_avx2_fma();
    sklloss_exp_f64_chosen = avx2 ? sklloss_exp_f64_avx2 : sklloss_exp_f64_baseline;
    return avx2;
}

static void sklloss_exp_f64_use_baseline(void) {
    sklloss_exp_f64_chosen = sklloss_exp_f64_baseline;
}

static inline void sklloss_exp_f64(const double* x, double* out, ptrdiff_t n) {
    sklloss_exp_f64_chosen(x, out, n);
}

#include <stdint.h>
#include <string.h>
static inline uint64_t sklloss_bits_f64(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}
static inline uint32_t sklloss_bits_f32(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

#endif  /* SKLLOSS_LOSSES__KERNELS_H */
