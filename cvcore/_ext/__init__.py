"""Compiled kernels. Private: only cvcore's public modules import from here.

Kernels assume their inputs were validated by :mod:`cvcore._validate` (dtype,
shape, contiguity, ranges) and never check anything themselves.
"""
