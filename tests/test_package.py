import importlib
import importlib.machinery
import importlib.metadata
import pathlib
import pkgutil
import re
import subprocess
import sys

import numpy as np
import pytest

import cvcore
from cvcore import _validate
from cvcore.cli import main


def test_version_is_the_package_metadata_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", cvcore.__version__)
    try:
        installed = importlib.metadata.version("cvcore")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("cvcore runs from a source tree here, not from an installed distribution")
    if pathlib.Path(importlib.metadata.distribution("cvcore").locate_file("")).resolve() \
            not in pathlib.Path(cvcore.__file__).resolve().parents:
        pytest.skip("the installed cvcore is not the one imported (PYTHONPATH points at a tree)")
    assert installed == cvcore.__version__


def test_every_kernel_is_a_compiled_extension_and_no_test_only_kernel_ships():
    import cvcore._ext as ext

    names = {m.name for m in pkgutil.iter_modules(ext.__path__)}
    assert {"_convolve", "_integral", "_nms", "_haar", "_cascade", "_edges", "_knn", "_forest"} <= names
    assert "_sanity" not in names
    for name in sorted(names):
        module = importlib.import_module(f"cvcore._ext.{name}")
        assert module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), module.__file__


def _read_only(arr):
    arr = np.ascontiguousarray(arr)
    arr.setflags(write=False)
    return arr


def test_kernels_take_read_only_input_through_the_public_api(rng):
    # const typed memoryviews: a read-only, already C-contiguous input reaches the
    # kernel as it is (a non-const memoryview would raise "buffer source array is read-only").
    from cvcore import boxes, filters, integral

    grey = rng.integers(0, 256, (17, 23), dtype=np.uint8)
    table = integral.integral_image(_read_only(grey))
    np.testing.assert_array_equal(table, integral.integral_image(grey.copy()))
    assert table[-1, -1] == grey.sum(dtype=np.int64)
    image = rng.random((9, 8))
    np.testing.assert_array_equal(filters.gaussian(_read_only(image), 1.5), filters.gaussian(image.copy(), 1.5))
    b = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [30, 30, 5, 5]], np.float64)
    s = np.array([0.9, 0.8, 0.7])
    np.testing.assert_array_equal(boxes.nms(_read_only(b), _read_only(s), 0.5), [0, 2])


def test_cli_help_and_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert cvcore.__version__ in capsys.readouterr().out
    assert main([]) == 0
    assert "bench" in capsys.readouterr().out


def test_cli_entry_point_runs(tmp_path):
    out = subprocess.run([sys.executable, "-m", "cvcore", "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and "usage: cvcore" in out.stdout


def test_import_is_cheap_and_submodules_load_on_first_use(tmp_path):
    code = ("import sys, cvcore; heavy = ['numpy', 'cv2', 'dask', 'tqdm', 'defusedxml', 'scipy', 'skimage']; "
            "print([m for m in heavy if m in sys.modules], sorted(m for m in sys.modules if m.startswith('cvcore.'))); "
            "cvcore.boxes; print('cvcore.boxes' in sys.modules, 'cv2' in sys.modules)")
    # run outside the checkout: `python -c` puts the working folder first on sys.path
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.split("\n")[:2] == ["[] ['cvcore._threads', 'cvcore._version']", "True False"], out.stdout
    assert {"filters", "io", "draw", "segmentation"} <= set(dir(cvcore))


def test_unknown_submodule_attribute():
    with pytest.raises(AttributeError):
        cvcore.does_not_exist


@pytest.mark.parametrize(
    "value, exc, match",
    [
        (None, TypeError, "img must be an array"),
        ("abc", TypeError, "img must be a numeric array"),
        (np.zeros((2, 2), complex), TypeError, "img must be a real numeric"),
        (np.zeros((2, 2), object), TypeError, "img must be a real numeric"),
        (np.zeros(4), ValueError, "img must be 2-D or 3-D"),
        (np.zeros((0, 3)), ValueError, "img must not be empty"),
    ],
)
def test_validate_image_errors(value, exc, match):
    with pytest.raises(exc, match=match):
        _validate.image(value, "img")


def test_validate_output_dtype_rule():
    f = _validate.output_float_dtype
    assert f(np.uint8) == np.float32 and f(np.int16) == np.float32 and f(np.float16) == np.float32
    assert f(np.float64) == np.float64 and f(np.int32) == np.float64 and f(np.uint64) == np.float64


def test_validate_scalars_and_modes():
    assert _validate.border_mode("REFLECT_101") == "mirror"
    with pytest.raises(ValueError, match="mode must be one of"):
        _validate.border_mode("bogus")
    with pytest.raises(TypeError, match="sigma must be a real number"):
        _validate.positive("1", "sigma")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        _validate.positive(0, "sigma")
    with pytest.raises(ValueError, match="sigma must be finite"):
        _validate.positive(float("inf"), "sigma")
    with pytest.raises(TypeError, match="size must be an integer"):
        _validate.integer(2.5, "size")
    assert _validate.integer(np.int64(3), "size", low=1) == 3
    b = _validate.boxes([1, 2, 3, 4])
    assert b.shape == (1, 4) and b.dtype == np.float64
    with pytest.raises(ValueError, match="must be >= 0"):
        _validate.boxes([[0, 0, -1, 2]])
