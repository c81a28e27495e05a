"""Build script: compiles every Cython kernel in cvcore/_ext.

Compiler directives are set once here, not per file. Set ``CVCORE_DEBUG=1`` in
the environment to build with bounds/wraparound checks on and without
optimisation (useful under a debugger or when writing a new kernel).
"""
import os
import sys
from glob import glob

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

DEBUG = os.environ.get("CVCORE_DEBUG", "0") not in ("", "0")

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "nonecheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

if sys.platform == "win32":
    compile_args = ["/Od" if DEBUG else "/O2", "/openmp"]
    link_args = []
elif sys.platform == "darwin":
    # Apple clang ships without OpenMP; prange then runs serially.
    compile_args = ["-O0" if DEBUG else "-O3"]
    link_args = []
else:
    compile_args = ["-O0" if DEBUG else "-O3", "-fopenmp"]
    link_args = ["-fopenmp"]
if DEBUG:
    compile_args.append("-g" if sys.platform != "win32" else "/Zi")

extensions = [
    Extension(
        "cvcore._ext." + os.path.splitext(os.path.basename(path))[0],
        [path],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    for path in sorted(glob(os.path.join("cvcore", "_ext", "*.pyx")))
]

setup(
    packages=find_packages(include=["cvcore", "cvcore.*"]) + ["cvcore._benchmarks"],
    # The benchmark cases live in benchmarks/ and install as cvcore._benchmarks so that
    # `cvcore bench` works from an installed wheel.
    package_dir={"cvcore._benchmarks": "benchmarks"},
    package_data={"cvcore._ext": ["*.pxd"], "cvcore.data": ["*.json", "*.npz"]},
    exclude_package_data={"cvcore._ext": ["*.c", "*.cpp"]},
    ext_modules=cythonize(extensions, compiler_directives=directives, nthreads=0),
    zip_safe=False,
)
