import subprocess
import sys

import numpy as np
import pytest

import cvcore
from cvcore import _validate
from cvcore.cli import main


def test_version_and_compiled_kernel():
    from cvcore._ext import _sanity

    assert cvcore.__version__.count(".") == 2
    assert _sanity.total(np.arange(5, dtype=np.float64)) == 10.0
    # const memoryviews accept read-only input
    ro = np.ones(3, np.float32)
    ro.setflags(write=False)
    assert _sanity.total(ro) == 3.0


def test_cli_help_and_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert cvcore.__version__ in capsys.readouterr().out
    assert main([]) == 0
    assert "bench" in capsys.readouterr().out


def test_cli_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "cvcore", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "usage: cvcore" in out.stdout


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
