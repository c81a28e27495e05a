"""Build script: compiles every Cython kernel in cvcore/_ext.

Cython runs lazily, inside ``build_ext``, never when this file is imported:
pip and ``python -m build`` import it for every hook (build requirements,
metadata, wheel), and generating C there would redo the work each time. The
generated C goes to the build folder with a stamp of the options it was made
with, so a second ``pip install .`` (or ``build_ext --inplace``) regenerates and
recompiles only kernels whose ``.pyx``/``.pxd`` changed, even though pip's
isolated build environment is new each time (Cython's own check would see its
freshly installed ``libc/*.pxd`` as changed and redo everything).

OpenMP is probed, never assumed: a tiny OpenMP program is compiled and linked
with the compiler in use (``-fopenmp``; ``/openmp`` on MSVC; on macOS
``-Xpreprocessor -fopenmp -lomp`` with Homebrew's libomp when present). When
that fails the kernels build serially (``prange`` runs as a plain loop) and a
note says so. ``CVCORE_OPENMP=0`` skips the probe and builds serially.

Compiler directives are set once here, not per file. Set ``CVCORE_DEBUG=1`` in
the environment to build with bounds/wraparound checks on and without
optimisation (useful under a debugger or when writing a new kernel); changing
it rebuilds every kernel.
"""
import contextlib
import json
import os
import shutil
import sys
import tempfile
from glob import glob

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext as _build_ext

DEBUG = os.environ.get("CVCORE_DEBUG", "0") not in ("", "0")
KERNEL_DIR = os.path.join("cvcore", "_ext")

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "nonecheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

OPENMP_PROBE = r"""
#include <omp.h>
int main(void) {
    int n = 0;
    #pragma omp parallel for reduction(+:n)
    for (int i = 0; i < 64; i++) n += omp_get_num_threads() > 0;
    return n == 64 ? 0 : 1;
}
"""


def _openmp_candidates(compiler_type):
    """(compile args, link args) to try in order, for this compiler."""
    if compiler_type == "msvc":
        return [(["/openmp"], [])]
    if sys.platform == "darwin":
        # Apple clang has no OpenMP runtime of its own; Homebrew's libomp provides one.
        found = [(["-fopenmp"], ["-fopenmp"])]
        for prefix in ("/opt/homebrew/opt/libomp", "/usr/local/opt/libomp"):
            if os.path.isdir(prefix):
                found.append((["-Xpreprocessor", "-fopenmp", f"-I{prefix}/include"],
                              [f"-L{prefix}/lib", "-lomp", f"-Wl,-rpath,{prefix}/lib"]))
        return found
    return [(["-fopenmp"], ["-fopenmp"])]


@contextlib.contextmanager
def _silenced():
    """Hide the compiler's own output while probing (a failed probe is expected)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def probe_openmp(compiler):
    """Flags with which ``compiler`` compiles and links an OpenMP program, or None."""
    if os.environ.get("CVCORE_OPENMP", "1") in ("0", ""):
        return None
    for cflags, lflags in _openmp_candidates(compiler.compiler_type):
        tmp = tempfile.mkdtemp(prefix="cvcore-openmp-")
        try:
            src = os.path.join(tmp, "probe.c")
            with open(src, "w") as fh:
                fh.write(OPENMP_PROBE)
            with _silenced():
                objects = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
                compiler.link_executable(objects, "probe", output_dir=tmp, extra_postargs=lflags)
            return cflags, lflags
        except Exception:  # CompileError / LinkError: try the next candidate
            continue
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return None


class build_ext(_build_ext):
    """Probe OpenMP, cythonize only stale kernels, then compile (in parallel)."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        import Cython
        import numpy as np
        from Cython.Build import cythonize

        if self.compiler.compiler_type == "msvc":
            cflags, lflags = ["/Od", "/Zi"] if DEBUG else ["/O2"], []
        else:
            # -g0: Python's own CFLAGS carry -g, which would triple the wheel's size.
            # -fno-math-errno: no kernel reads errno, and gcc vectorises sqrt loops only without it
            # (shi_tomasi's response: 1.6x); results are unchanged.
            cflags, lflags = ["-O0", "-g"] if DEBUG else ["-O3", "-g0", "-fno-math-errno"], []
        openmp = probe_openmp(self.compiler)
        if openmp is None:
            print("cvcore: the C compiler has no usable OpenMP; building the kernels serially "
                  "(results are the same, multi-threaded kernels run on one core)")
        else:
            cflags, lflags = cflags + openmp[0], lflags + openmp[1]
            print(f"cvcore: building with OpenMP ({' '.join(openmp[0])})")
        for ext in self.extensions:
            ext.include_dirs.append(np.get_include())
            ext.extra_compile_args = cflags
            ext.extra_link_args = lflags

        out_dir = os.path.join(self.build_temp, "cython")
        stamp_path = os.path.join(out_dir, "stamp.json")
        options = {"directives": DIRECTIVES, "cython": Cython.__version__, "numpy": np.__version__,
                   "python": sys.version, "cflags": cflags, "lflags": lflags}
        stamp = {}
        if os.path.exists(stamp_path):
            with open(stamp_path) as fh:
                stamp = json.load(fh)
        if stamp.get("options") != options:
            stamp, self.force = {}, True  # other directives or flags: rebuild everything
        made = stamp.get("made", {})
        shared = [os.path.getmtime(p) for p in glob(os.path.join(KERNEL_DIR, "*.pxd"))]

        def fresh(ext):
            rec = made.get(ext.name)
            if self.force or rec is None or not all(os.path.exists(s) for s in rec["sources"]):
                return False
            newest_input = max([os.path.getmtime(ext.sources[0]), *shared])
            return min(os.path.getmtime(s) for s in rec["sources"]) >= newest_input

        stale = [ext for ext in self.extensions if not fresh(ext)]
        if stale:
            generated = cythonize(stale, compiler_directives=DIRECTIVES, build_dir=out_dir, force=True,
                                  nthreads=min(len(stale), self.parallel))
            for ext in generated:
                made[ext.name] = {"sources": ext.sources, "language": ext.language}
        for ext in self.extensions:
            ext.sources, ext.language = list(made[ext.name]["sources"]), made[ext.name]["language"]
        super().build_extensions()
        os.makedirs(out_dir, exist_ok=True)
        with open(stamp_path, "w") as fh:
            json.dump({"options": options, "made": made}, fh, indent=1)


extensions = [
    Extension(
        "cvcore._ext." + os.path.splitext(os.path.basename(path))[0],
        [path],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for path in sorted(glob(os.path.join(KERNEL_DIR, "*.pyx")))
]

setup(
    packages=find_packages(include=["cvcore", "cvcore.*"]) + ["cvcore._benchmarks"],
    # The benchmark cases live in benchmarks/ and install as cvcore._benchmarks so that
    # `cvcore bench` works from an installed wheel.
    package_dir={"cvcore._benchmarks": "benchmarks"},
    package_data={"cvcore.data": ["*.json", "*.npz"]},
    # The kernels' sources are needed only to build: the sdist carries them (MANIFEST.in),
    # the wheel does not.
    exclude_package_data={"cvcore._ext": ["*.pyx", "*.pxd", "*.c", "*.cpp"]},
    ext_modules=extensions,
    cmdclass={"build_ext": build_ext},
    zip_safe=False,
)
