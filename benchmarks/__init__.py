"""cvcore's benchmark suite: ours vs a peer, same process, same input.

Installed as ``cvcore._benchmarks`` (see setup.py) so that ``cvcore bench``
works from a wheel. Each ``bench_*.py`` module defines ``cases(quick)``
returning a list of :class:`~cvcore._benchmarks._harness.Case`.
"""
