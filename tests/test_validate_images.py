"""The input policy in cvcore._validate.images: dtype scaling, channels, grey, 8 bits."""
import cv2
import numpy as np
import pytest

from cvcore import _validate

DTYPES = [np.uint8, np.uint16, np.int16, np.int32, np.uint32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_unit_image_divides_integers_by_their_dtype_maximum(dtype):
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "ui" else None
    top = info.max if info else 1.0
    img = np.array([[0, top // 2 if info else 0.5, top]], dtype=dtype)
    unit = _validate.unit_image(img, dtype=np.float64)
    np.testing.assert_allclose(unit, [[0.0, (top // 2 if info else 0.5) / top, 1.0]], rtol=1e-12)
    # the same image with a smaller maximum keeps its scale (nothing depends on the image's own max)
    assert _validate.unit_image(img[:, :2], dtype=np.float64)[0, 1] == unit[0, 1]


def test_bool_is_zero_one_everywhere():
    # bool arrays used to be read as uint8 0/1 and divided by 255
    mask = np.array([[True, False], [False, True]])
    assert _validate.unit_image(mask).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert _validate.uint8_image(mask).tolist() == [[255, 0], [0, 255]]
    assert _validate.grey_uint8(mask).tolist() == [[255, 0], [0, 255]]
    assert _validate.grey_image(np.dstack([mask] * 3)).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert _validate.scaled_image(mask.tolist())[1] == 1.0
    assert _validate.scaled_image(mask.astype(np.uint8))[1] == 1 / 255


def test_channels_alpha_and_peak():
    rgba = np.random.default_rng(0).integers(0, 256, (4, 5, 4), dtype=np.uint8)
    assert np.array_equal(_validate.uint8_image(rgba), rgba[:, :, :3])
    assert np.array_equal(_validate.unit_image(rgba, peak=255.0), rgba[:, :, :3].astype(np.float32))
    assert _validate.unit_image(rgba[:, :, :1]).shape == (4, 5)
    assert np.array_equal(_validate.grey_uint8(rgba), cv2.cvtColor(rgba[:, :, :3], cv2.COLOR_RGB2GRAY))
    with pytest.raises(ValueError, match="image must be grey"):
        _validate.unit_image(rgba[:, :, :2])


def test_results_are_c_contiguous_for_any_layout():
    img = np.asfortranarray(np.random.default_rng(1).random((6, 7, 3)))
    for out in (_validate.unit_image(img), _validate.unit_image(img, peak=255.0), _validate.uint8_image(img),
                _validate.grey_image(img), _validate.unit_image(img[:, ::2])):
        assert out.flags.c_contiguous


def test_eight_bits_round_and_clip_and_pixel_limit():
    img = np.array([[-0.5, 0.0, 0.5 / 255, 1.5 / 255, 1.0, 2.0]])
    assert _validate.uint8_image(img).tolist() == [[0, 0, 1, 2, 255, 255]]
    with pytest.raises(ValueError, match="finite"):
        _validate.uint8_image(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="too large"):
        _validate.unit_image(np.broadcast_to(np.uint8(0), (5000, 5000)), max_pixels=10**6)
