"""Every public module's docstring examples run, one test per module.

The modules are found on disk (every ``cvcore/**/*.py`` whose dotted name has
no private part, plus the private services whose docstrings teach their use),
so a new public module is covered without editing this file. A module without
any example fails: public functions carry a short runnable example.

Examples run with ``np`` and the module's own names in scope, with ELLIPSIS and
NORMALIZE_WHITESPACE, in a temporary working folder (examples may save files).
"""
import doctest
import importlib
import pathlib

import numpy as np
import pytest

import cvcore

PACKAGE_DIR = pathlib.Path(cvcore.__file__).resolve().parent
# Private modules that are services other modules (and contributors) are taught to use.
PRIVATE_SERVICES = ["cvcore._progress", "cvcore._validate.modelfile"]
# The command line is documented by `cvcore --help` and tested in its own files;
# cvcore.data only holds the shipped model files.
NOT_LIBRARY = {"cvcore.cli", "cvcore.__main__", "cvcore.data"}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# Modules whose examples are still being written by the helper that owns them on
# issue 9; the lead empties this list once their branches are merged.
PENDING = {
}


def public_modules():
    names = set()
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = ("cvcore",) + path.relative_to(PACKAGE_DIR).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts[1:]):
            continue
        names.add(".".join(parts))
    return sorted(names - NOT_LIBRARY) + PRIVATE_SERVICES


def _case(name):
    marks = [pytest.mark.xfail(reason=PENDING[name], strict=False)] if name in PENDING else []
    return pytest.param(name, id=name, marks=marks)


def test_module_list_covers_the_documented_layout():
    names = set(public_modules())
    expected = {"cvcore", "cvcore.filters", "cvcore.edges", "cvcore.integral", "cvcore.haar", "cvcore.boxes",
                "cvcore.boosting", "cvcore.cascade", "cvcore.calibration", "cvcore.calibration.model",
                "cvcore.proposals", "cvcore.segmentation", "cvcore.segmentation.segmenter",
                "cvcore.datasets", "cvcore.io", *PRIVATE_SERVICES}
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith(("cvcore._ext", "cvcore._commands")) for n in names)
    assert set(PENDING) <= names, "PENDING names a module that does not exist"


@pytest.mark.parametrize("name", [_case(n) for n in public_modules()])
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    globs = {**vars(module), "np": np}
    tests = [t for t in finder.find(module, name, globs=globs) if t.examples]
    assert tests, f"{name} has no docstring examples (public functions need a short runnable one)"
    report = []
    for test in sorted(tests, key=lambda t: t.name):
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, "".join(report)
