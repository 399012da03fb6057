/* _epoch.h: the C of _epoch.pxd (declared there for Cython). */
#ifndef SKLLOSS_LINEAR_MODEL__EPOCH_H
#define SKLLOSS_LINEAR_MODEL__EPOCH_H

#include <Python.h>

/* The two threads of one output's epoch (Pipeline): acquire/release atomics
   order a block's gathered rows before its "ready" mark, and the epoch's use of
   a slot before the slot's next block. Without GCC's or clang's atomics the
   pipeline is not used (SKLLOSS_HAVE_ATOMICS). */
#if defined(__GNUC__) || defined(__clang__)
#define SKLLOSS_HAVE_ATOMICS 1
#define SKLLOSS_LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define SKLLOSS_STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#else
#define SKLLOSS_HAVE_ATOMICS 0
#define SKLLOSS_LOAD_ACQUIRE(p) (*(p))
#define SKLLOSS_STORE_RELEASE(p, v) (*(p) = (v))
#endif
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define SKLLOSS_PAUSE() __builtin_ia32_pause()
#else
#define SKLLOSS_PAUSE() ((void)0)
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <time.h>
static void sklloss_nap(void) {
    struct timespec nap = {0, 20000};  /* 20 microseconds */
    nanosleep(&nap, NULL);
}
#else
static void sklloss_nap(void) {}
#endif
#ifdef _OPENMP
#include <omp.h>
#define SKLLOSS_TEAM_SIZE() omp_get_num_threads()
#else
#define SKLLOSS_TEAM_SIZE() 1
#endif

#endif  /* SKLLOSS_LINEAR_MODEL__EPOCH_H */
