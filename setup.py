"""Build of the compiled kernels; everything else about the package is in pyproject.toml."""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# -ffp-contract=off: no fused multiply-adds, so the kernels round exactly as numpy and OpenCV do
OPT = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off"]

setup(
    ext_modules=cythonize(
        [Extension("zkphoto._kernels", ["src/zkphoto/_kernels.pyx"], extra_compile_args=OPT,
                   define_macros=[("_USE_MATH_DEFINES", None)])],  # (M_PI on MSVC)
        compiler_directives={"language_level": "3"},
    ),
)
