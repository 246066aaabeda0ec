"""Build of the compiled kernels; everything else about the package is in pyproject.toml."""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

OPT = [] if sys.platform == "win32" else ["-O3"]

setup(
    ext_modules=cythonize(
        [Extension("zkphoto._kernels", ["src/zkphoto/_kernels.pyx"], extra_compile_args=OPT)],
        compiler_directives={"language_level": "3"},
    ),
)
