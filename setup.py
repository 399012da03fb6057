"""Build the Cython extensions.

The compiled modules go into the wheel and, as with an in-place build, next to their
sources in the tree that was built (see BuildExt.run).

-O3, OpenMP when the compiler has it (the kernels then run serially: `prange` without
OpenMP is a plain loop), no -ffast-math (NaN/inf checks rely on IEEE semantics) and
no -march=native (the wheel must run on any x86-64).

Two of -ffast-math's parts are used, because they change no result:
-fno-trapping-math (no code reads floating-point exception flags, so GCC may compute
both sides of a branch and select, which is what lets it vectorise the piecewise
losses) and -fno-math-errno (no code reads errno after exp/log). NaN, inf, signed
zeros and rounding stay IEEE: the tests check NaN and inf handling on this build.
"""
import os
import sys
import tempfile
import textwrap

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
}

# The C of the kernels is in header files next to their .pyx/.pxd files, included by
# their path from the project's root (e.g. "sklloss/linear_model/_rows.h").
ROOT = os.path.dirname(os.path.abspath(__file__))
EXTENSIONS = [
    Extension(name, [source], include_dirs=[ROOT])
    for name, source in [
        ("sklloss.losses._kernels", "sklloss/losses/_kernels.pyx"),
        ("sklloss.linear_model._engine", "sklloss/linear_model/_engine.pyx"),
        ("sklloss.linear_model._checks", "sklloss/linear_model/_checks.pyx"),
    ]
]


# The engine's epoch loops are aligned on 32 bytes (GCC's default for generic x86-64
# is 16): where a loop starts decides how its instructions fill the CPU's fetch
# windows, and with 16 the one-vs-rest epoch on digits ran 7% slower or not from
# one unrelated change to the next (measured here: 38.4 ms against 41.2 ms, with the
# same instruction count). No effect on any result.
ENGINE_FLAGS = ["-falign-loops=32"]


def _compiler_accepts(compiler, flags):
    """Whether the compiler compiles a tiny C file with `flags`; False on any failure."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "check_flags.c")
        with open(path, "w") as f:
            f.write("int main(void) { return 0; }\n")
        try:
            compiler.compile([path], output_dir=tmp, extra_postargs=flags + ["-Werror"])
        except Exception:  # noqa: BLE001 - any failure means "no"
            return False
    return True


def _compiler_has_openmp(compiler):
    """Compile and link a tiny OpenMP program; False on any failure."""
    source = textwrap.dedent(
        """
        #include <omp.h>
        int main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }
        """
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "check_openmp.c")
        with open(path, "w") as f:
            f.write(source)
        try:
            objects = compiler.compile([path], output_dir=tmp, extra_postargs=["-fopenmp"])
            compiler.link_executable(
                objects, "check_openmp", output_dir=tmp, extra_postargs=["-fopenmp"]
            )
        except Exception:  # noqa: BLE001 - any failure means "no OpenMP"
            return False
    return True


class BuildExt(build_ext):
    def build_extensions(self):
        if self.compiler.compiler_type == "msvc":
            compile_args, link_args = ["/O2", "/openmp"], []
        else:
            # -fopenmp-simd: honour `#pragma omp simd` (vector reductions of the engine's
            # dot products) even where OpenMP itself is missing
            compile_args = ["-O3", "-fno-trapping-math", "-fno-math-errno", "-fopenmp-simd"]
            link_args = []
            if _compiler_has_openmp(self.compiler):
                compile_args.append("-fopenmp")
                link_args.append("-fopenmp")
            else:
                sys.stderr.write("sklloss: no OpenMP; kernels will run on one thread\n")
        engine_flags = (ENGINE_FLAGS if self.compiler.compiler_type != "msvc"
                        and _compiler_accepts(self.compiler, ENGINE_FLAGS) else [])
        for ext in self.extensions:
            ext.extra_compile_args = compile_args + ext.extra_compile_args
            if ext.name == "sklloss.linear_model._engine":
                ext.extra_compile_args = ext.extra_compile_args + engine_flags
            ext.extra_link_args = link_args + ext.extra_link_args
            if self.compiler.compiler_type != "msvc":
                # Link libm explicitly: the kernels call exp/log/log1p, and without it
                # those symbols stay unversioned and bind to glibc's old wrappers.
                ext.libraries = ["m"] + ext.libraries
        super().build_extensions()

    def run(self):
        # Cythonize when the extensions are built, not when setup.py is loaded (nor in
        # finalize_options, which the sdist runs too): the sdist and the metadata steps
        # of a build then generate no C; the sdist ships the .pyx. The generated sources
        # go into the Extension objects that build_ext has finalized.
        generated = {ext.name: ext.sources for ext in cythonize(
            self.extensions, compiler_directives=COMPILER_DIRECTIVES)}
        for ext in self.extensions:
            ext.sources = generated[ext.name]
        super().run()
        if not self.inplace:
            # Place the compiled modules next to their sources too, as an in-place
            # build does. Python started in the clone's root (`python -m sklloss`,
            # `python -c "import sklloss"`, a notebook) puts the root first on
            # sys.path, so the source tree shadows the installed package; with its
            # extensions in place it works like the installed one.
            try:
                self.copy_extensions_to_source()
            except OSError as error:  # (a read-only tree: the installed package works)
                sys.stderr.write(f"sklloss: extensions not copied into the tree: {error}\n")


setup(
    ext_modules=EXTENSIONS,
    cmdclass={"build_ext": BuildExt},
)
