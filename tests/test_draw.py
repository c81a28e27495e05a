"""cvcore.draw: boxes, text and label overlays, through the input policy."""
import numpy as np
import pytest

from cvcore.draw import LABEL_COLOURS, draw_boxes, draw_text, overlay_labels, spread_colours

GREEN = [0, 255, 0]


def test_box_outline_covers_x_to_x_plus_w_minus_1():
    img = draw_boxes(np.zeros((20, 30, 3), np.uint8), [[2, 3, 10, 8]], thickness=1)
    drawn = np.argwhere((img == GREEN).all(axis=2))
    assert drawn[:, 1].min() == 2 and drawn[:, 1].max() == 11      # columns x .. x + w - 1
    assert drawn[:, 0].min() == 3 and drawn[:, 0].max() == 10      # rows y .. y + h - 1
    assert (img[5, 5] == 0).all()                                   # inside stays


def test_input_is_not_modified_and_grey_becomes_rgb():
    grey = np.zeros((10, 10), np.uint8)
    out = draw_boxes(grey, [[1, 1, 5, 5]])
    assert out.shape == (10, 10, 3) and out.dtype == np.uint8 and not grey.any()


def test_sixteen_bit_image_is_scaled_by_its_dtype_not_its_maximum():
    dark = np.full((8, 8), 1000, np.uint16)              # dark grey: 1000 / 65535 of white
    out = draw_boxes(dark, np.zeros((0, 4), int))
    assert (out == round(1000 / 65535 * 255)).all()      # 4, not 255 (the old canvas divided by img.max())


def test_float_image_on_the_unit_scale():
    out = draw_boxes(np.full((4, 4, 3), 0.5), [])
    assert (out == 128).all()


def test_out_draws_in_place():
    canvas = np.zeros((12, 12, 3), np.uint8)
    result = draw_boxes(canvas, [[0, 0, 4, 4]], out=canvas)
    assert result is canvas and (canvas == GREEN).all(axis=2).any()
    with pytest.raises(ValueError, match="out must be"):
        draw_boxes(canvas, [[0, 0, 4, 4]], out=np.zeros((12, 12, 3), np.float32))
    with pytest.raises(ValueError, match="out must be"):
        draw_boxes(canvas, [[0, 0, 4, 4]], out=np.zeros((11, 12, 3), np.uint8))


def test_boxes_outside_or_huge_are_clipped_not_crashing():
    img = np.zeros((10, 10, 3), np.uint8)
    big = 2**31 - 1
    out = draw_boxes(img, [[-5, -5, 8, 8], [big, big, big, big], [-big, -big, big, big], [3, 3, 0, 4]],
                     thickness=1)
    assert (out[2, 0:3] == GREEN).all()          # the visible part of the first box
    assert not (out[:, 9] == GREEN).all(axis=1).any()


def test_per_box_colours_scores_and_labels():
    img = np.zeros((60, 80, 3), np.uint8)
    out = draw_boxes(img, [[10, 30, 20, 20], [50, 30, 20, 20]], scores=[0.5, 2], labels=["a", "b"],
                     colour=[[255, 0, 0], [0, 0, 255]], thickness=1)
    assert (out[30, 10] == [255, 0, 0]).all() and (out[30, 50] == [0, 0, 255]).all()
    assert out[15:29, 10:40].any()               # text above the first box
    plain = draw_boxes(img, [[10, 30, 20, 20], [50, 30, 20, 20]], thickness=1)
    assert not plain[15:29, 10:40].any()


def test_filled_boxes():
    out = draw_boxes(np.zeros((10, 10, 3), np.uint8), [[2, 2, 3, 3]], colour=(9, 9, 9), thickness=-1)
    assert (out[2:5, 2:5] == 9).all() and out.sum() == 9 * 9 * 3


@pytest.mark.parametrize("kwargs, error, match", [
    ({"boxes": [[0, 0, 1]]}, ValueError, "shape"),
    ({"boxes": [[0, 0, -1, 1]]}, ValueError, "widths and heights"),
    ({"scores": [1, 2]}, ValueError, "one value per box"),
    ({"labels": "a"}, ValueError, "one string per box"),
    ({"labels": ["a", "b"]}, ValueError, "one string per box"),
    ({"colour": (0, 300, 0)}, ValueError, "0..255"),
    ({"colour": [[0, 0, 0]] * 2}, ValueError, "one per box"),
    ({"thickness": 0}, ValueError, "thickness"),
    ({"thickness": 1000}, ValueError, "thickness"),
    ({"font_scale": 0}, ValueError, "font_scale"),
])
def test_draw_boxes_validates(kwargs, error, match):
    args = {"boxes": [[0, 0, 2, 2]], **kwargs}
    with pytest.raises(error, match=match):
        draw_boxes(np.zeros((5, 5), np.uint8), **args)


def test_draw_text():
    canvas = np.full((30, 90, 3), 255, np.uint8)
    out = draw_text(canvas, "cvcore", (4, 20), out=canvas)
    assert out is canvas and (canvas < 128).any()
    with pytest.raises(TypeError, match="text"):
        draw_text(canvas, 3, (0, 0))
    with pytest.raises(ValueError, match="origin"):
        draw_text(canvas, "x", (0, 0, 0))


def test_overlay_leaves_unlabelled_pixels_and_blends_classes():
    img = np.full((2, 3), 200, np.uint8)
    labels = np.array([[0, 1, 2], [11, 0, 1]])
    out = overlay_labels(img, labels, alpha=0.5)
    assert out[0, 0].tolist() == [200, 200, 200] and out[1, 1].tolist() == [200, 200, 200]
    expected = np.floor(0.5 * 200 + 0.5 * np.array(LABEL_COLOURS[0]) + 0.5).astype(int).tolist()
    assert out[0, 1].tolist() == expected and out[1, 2].tolist() == expected
    assert out[1, 0].tolist() == out[0, 1].tolist()     # class 11 wraps to the first colour


def test_overlay_uses_the_input_policy_not_the_image_maximum():
    img = np.full((3, 3), 1000, np.uint16)              # the old overlay turned this into white
    out = overlay_labels(img, np.zeros((3, 3), np.uint8))
    assert (out == 4).all()


@pytest.mark.parametrize("labels, alpha, error, match", [
    (np.zeros((3, 4), int), 0.5, ValueError, "shape"),
    (np.full((3, 3), -1), 0.5, ValueError, ">= 0"),
    (np.zeros((3, 3), float), 0.5, TypeError, "labels"),
    (np.zeros((3, 3), int), 1.5, ValueError, "alpha"),
])
def test_overlay_validates(labels, alpha, error, match):
    with pytest.raises(error, match=match):
        overlay_labels(np.zeros((3, 3), np.uint8), labels, alpha=alpha)


def test_spread_colours():
    cols = spread_colours(12)
    assert cols.shape == (12, 3) and cols.dtype == np.uint8
    assert len({tuple(c) for c in cols.tolist()}) == 12
    assert spread_colours(0).shape == (0, 3)
    with pytest.raises(ValueError):
        spread_colours(-1)
