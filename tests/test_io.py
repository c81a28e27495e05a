"""cvcore.io: images, label maps, videos and box files; paths checked before work."""
import json

import cv2
import numpy as np
import pytest

from cvcore.io import (BoxFile, VideoReader, VideoWriter, check_image_path, check_video_path, imread,
                       imread_labels, imwrite, read_boxes, write_boxes)


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, (12, 17, 3), dtype=np.uint8)


# --------------------------------------------------------------------------- imread


def test_imread_is_rgb_and_matches_opencv(tmp_path, rgb):
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    np.testing.assert_array_equal(imread(path), rgb)
    np.testing.assert_array_equal(imread(path, grey=True), cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def test_imread_keeps_16_bits(tmp_path):
    img = np.arange(12 * 7, dtype=np.uint16).reshape(12, 7) * 700
    path = tmp_path / "deep.png"
    imwrite(path, img)
    np.testing.assert_array_equal(imread(path), img)
    np.testing.assert_array_equal(imread(path, grey=True), img)


def test_imread_directory_says_so(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        imread(tmp_path)


def test_imread_missing_and_unreadable(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        imread(tmp_path / "nope.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match="empty file"):
        imread(tmp_path / "empty.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="cannot read .*text.png as an image"):
        imread(tmp_path / "text.png")
    ok, buf = cv2.imencode(".png", np.zeros((40, 40), np.uint8))
    (tmp_path / "cut.png").write_bytes(buf.tobytes()[: len(buf) // 2])
    with pytest.raises(ValueError, match="corrupt"):
        imread(tmp_path / "cut.png")


def test_imread_grey_must_be_a_bool(tmp_path, rgb):
    imwrite(tmp_path / "a.png", rgb)
    with pytest.raises(TypeError, match="grey"):
        imread(tmp_path / "a.png", grey="yes")


# --------------------------------------------------------------------------- imwrite


@pytest.mark.parametrize("channels", [3, 4])
def test_imwrite_round_trips_rgb_and_rgba(tmp_path, channels):
    img = np.random.default_rng(1).integers(0, 256, (9, 11, channels), dtype=np.uint8)
    imwrite(tmp_path / "x.png", img)
    np.testing.assert_array_equal(imread(tmp_path / "x.png"), img)


def test_imwrite_checks_the_path_before_encoding(tmp_path, rgb):
    with pytest.raises(ValueError, match="cannot write an image as '.txt'"):
        imwrite(tmp_path / "x.txt", rgb)
    with pytest.raises(ValueError, match="no extension"):
        imwrite(tmp_path / "x", rgb)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        imwrite(tmp_path, rgb)
    with pytest.raises(FileNotFoundError, match="folder does not exist"):
        imwrite(tmp_path / "no" / "x.png", rgb)
    assert list(tmp_path.iterdir()) == []


def test_imwrite_refuses_to_drop_16_bits_silently(tmp_path):
    with pytest.raises(ValueError, match="cannot hold 16-bit"):
        imwrite(tmp_path / "x.jpg", np.full((4, 4), 60000, np.uint16))
    assert not (tmp_path / "x.jpg").exists()


def test_imwrite_float_and_bool_follow_the_input_policy(tmp_path):
    imwrite(tmp_path / "f.png", np.array([[0.0, 0.5, 1.0, 2.0, -1.0]]))
    assert imread(tmp_path / "f.png").tolist() == [[0, 128, 255, 255, 0]]
    imwrite(tmp_path / "b.png", np.array([[True, False]]))
    assert imread(tmp_path / "b.png").tolist() == [[255, 0]]


def test_imwrite_refuses_ambiguous_dtypes_and_shapes(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        imwrite(tmp_path / "x.png", np.ones((3, 3), np.int64))
    with pytest.raises(ValueError, match="shape"):
        imwrite(tmp_path / "x.png", np.zeros((3, 3, 2), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        imwrite(tmp_path / "x.png", np.zeros((0, 3), np.uint8))


def test_check_image_path_names_the_option(tmp_path):
    with pytest.raises(ValueError, match=r"^--draw: cannot write an image as '.pdf'"):
        check_image_path(tmp_path / "x.pdf", "--draw")
    assert check_image_path(tmp_path / "x.jpg") == str(tmp_path / "x.jpg")


# --------------------------------------------------------------------------- label maps


def test_imread_labels_reads_8_and_16_bit_grey(tmp_path):
    lab = np.array([[0, 1, 2], [300, 2, 1]], np.uint16)
    imwrite(tmp_path / "l.png", lab)
    np.testing.assert_array_equal(imread_labels(tmp_path / "l.png"), lab)
    imwrite(tmp_path / "l8.png", lab.astype(np.uint8) % 3)
    assert imread_labels(tmp_path / "l8.png").dtype == np.uint8


def test_imread_labels_refuses_jpeg_whatever_its_name(tmp_path):
    ok, buf = cv2.imencode(".jpg", np.ones((8, 8), np.uint8))
    (tmp_path / "l.png").write_bytes(buf.tobytes())
    with pytest.raises(ValueError, match="JPEG file: lossy"):
        imread_labels(tmp_path / "l.png")


def test_imread_labels_refuses_lossy_webp(tmp_path):
    ok, buf = cv2.imencode(".webp", np.ones((8, 8, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 50])
    (tmp_path / "l.webp").write_bytes(buf.tobytes())
    with pytest.raises(ValueError, match="lossy WebP"):
        imread_labels(tmp_path / "l.webp")


def test_imread_labels_refuses_colour_with_a_hint(tmp_path):
    grey3 = np.dstack([np.eye(4, dtype=np.uint8)] * 3)
    imwrite(tmp_path / "g.png", grey3)
    with pytest.raises(ValueError, match="3 channels.*channels are equal"):
        imread_labels(tmp_path / "g.png")
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[0, 0] = (255, 0, 0)
    imwrite(tmp_path / "c.png", colour)
    with pytest.raises(ValueError, match="colours are not class numbers"):
        imread_labels(tmp_path / "c.png")


def test_imread_labels_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        imread_labels(tmp_path)


# --------------------------------------------------------------------------- video


def _frames(n=4, shape=(32, 48)):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return [np.dstack([(xx * 5 + 20 * k) % 256, yy * 6, np.full(shape, 128)]).astype(np.uint8) for k in range(n)]


@pytest.mark.parametrize("ext", [".avi", ".mp4"])
def test_video_round_trip(tmp_path, ext):
    path = tmp_path / f"clip{ext}"
    frames = _frames()
    with VideoWriter(path, fps=12) as out:
        assert not path.exists()  # the file appears with the first frame
        for f in frames:
            out.write(f)
    assert out.frames_written == 4
    with VideoReader(path) as video:
        back = list(video)
        assert video.fps == pytest.approx(12)
    assert len(back) == 4 and back[0].shape == (32, 48, 3) and back[0].dtype == np.uint8
    # lossy codecs: compare the mean colour (RGB order kept)
    np.testing.assert_allclose(back[2].mean(axis=(0, 1)), frames[2].mean(axis=(0, 1)), atol=6)


def test_video_writer_takes_grey_and_float_frames(tmp_path):
    with VideoWriter(tmp_path / "g.avi") as out:
        out.write(np.full((16, 16), 0.5))
        out.write(np.full((16, 16), 128, np.uint8))
    with VideoReader(tmp_path / "g.avi") as video:
        frames = list(video)
    assert len(frames) == 2 and abs(float(frames[0].mean()) - 128) < 4


def test_video_writer_checks_up_front(tmp_path):
    with pytest.raises(ValueError, match="cannot write a video as '.png'"):
        VideoWriter(tmp_path / "x.png")
    with pytest.raises(ValueError, match="no extension"):
        VideoWriter(tmp_path / "x")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        VideoWriter(tmp_path)
    with pytest.raises(FileNotFoundError, match="folder does not exist"):
        VideoWriter(tmp_path / "no" / "x.avi")
    with pytest.raises(ValueError, match="fps"):
        VideoWriter(tmp_path / "x.avi", fps=0)
    with pytest.raises(ValueError, match=r"^--out: cannot write a video"):
        check_video_path(tmp_path / "x.gif", "--out")


def test_video_writer_refuses_a_frame_of_another_size(tmp_path):
    with VideoWriter(tmp_path / "x.avi") as out:
        out.write(np.zeros((16, 16, 3), np.uint8))
        with pytest.raises(ValueError, match="16x8.*16x16"):
            out.write(np.zeros((8, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="closed"):
        out.write(np.zeros((16, 16, 3), np.uint8))


@pytest.mark.parametrize("index", [-1, 100, 200, 2**40])
def test_video_reader_camera_index_is_checked_before_opencv(index):
    with pytest.raises(ValueError, match="camera index"):  # VideoCapture(-1) crashed the interpreter
        VideoReader(index)


def test_video_reader_refuses_bool_directory_and_corrupt_file(tmp_path):
    with pytest.raises(TypeError):
        VideoReader(True)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        VideoReader(tmp_path)
    (tmp_path / "bad.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 500)
    with pytest.raises(ValueError, match="cannot open .*bad.mp4 as a video"):
        VideoReader(tmp_path / "bad.mp4")


# --------------------------------------------------------------------------- box files


def test_boxes_round_trip(tmp_path):
    boxes = np.array([[0, 0, 10, 20], [5, 6, 1, 1]], np.int64)
    path = write_boxes(tmp_path / "b.json", boxes, scores=[0.25, 3], image_size=(64, 48), info={"mode": "fast"})
    back = read_boxes(path)
    assert isinstance(back, BoxFile)
    assert back.boxes.dtype == np.int32 and back.boxes.tolist() == boxes.tolist()
    assert back.scores.tolist() == [0.25, 3.0] and back.image_size == (64, 48) and back.info == {"mode": "fast"}
    doc = json.loads((tmp_path / "b.json").read_text())
    assert doc["format"] == "cvcore-boxes" and doc["version"] == 1 and doc["box_format"] == "x y w h"


def test_write_boxes_validates(tmp_path):
    p = tmp_path / "b.json"
    with pytest.raises(ValueError, match="must end in .json"):
        write_boxes(tmp_path / "b.txt", [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="integer"):
        write_boxes(p, [[0.5, 0, 1, 1]])
    with pytest.raises(ValueError, match="widths and heights"):
        write_boxes(p, [[0, 0, -1, 1]])
    with pytest.raises(ValueError, match="one value per box"):
        write_boxes(p, [[0, 0, 1, 1]], scores=[1, 2])
    with pytest.raises(ValueError, match="info"):
        write_boxes(p, [[0, 0, 1, 1]], info={"x": float("nan")})
    with pytest.raises(TypeError, match="info"):
        write_boxes(p, [[0, 0, 1, 1]], info=["mode"])
    assert not p.exists()


def test_read_boxes_reads_the_old_proposals_layout(tmp_path):
    doc = {"format": "cvcore-proposals", "version": 1, "image": "/x.png", "width": 160, "height": 120,
           "mode": "fast", "seed": 0, "box_format": "x y w h", "boxes": [[1, 2, 3, 4]]}
    (tmp_path / "p.json").write_text(json.dumps(doc))
    back = read_boxes(tmp_path / "p.json")
    assert back.boxes.tolist() == [[1, 2, 3, 4]] and back.image_size == (160, 120)
    assert back.info == {"image": "/x.png", "mode": "fast", "seed": 0} and back.scores is None


@pytest.mark.parametrize("doc, match", [
    ({"format": "cvcore-cascade", "version": 1}, "not a cvcore-boxes file"),
    ({"format": "cvcore-boxes", "version": 7, "boxes": []}, "version 7"),
    ({"format": "cvcore-boxes", "version": 1}, "missing field 'boxes'"),
    ({"format": "cvcore-boxes", "version": 1, "boxes": [[1, 2, 3]]}, "shape"),
    ({"format": "cvcore-boxes", "version": 1, "boxes": [[1, 2, 3, True]]}, "numbers only"),
    ({"format": "cvcore-boxes", "version": 1, "boxes": [[1, 2, 3, 2**40]]}, "int32"),
    ({"format": "cvcore-boxes", "version": 1, "boxes": [[1, 2, -3, 4]]}, "widths and heights"),
    ({"format": "cvcore-boxes", "version": 1, "boxes": [[1, 2, 3, 4]], "scores": [1, 2]}, "2 scores for 1 boxes"),
    ({"format": "cvcore-boxes", "version": 1, "boxes": [], "image_size": [0, 5]}, "width"),
])
def test_read_boxes_refuses_malformed_files(tmp_path, doc, match):
    (tmp_path / "b.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=match):
        read_boxes(tmp_path / "b.json")


def test_read_boxes_missing_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_boxes(tmp_path / "nope.json")
    with pytest.raises(IsADirectoryError):
        read_boxes(tmp_path)


# --------------------------------------------------------------------------- hostile files

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=5),
    max_leaves=30)
_good_boxes = st.lists(st.lists(st.integers(-5, 100), min_size=4, max_size=4), max_size=4)
_box_docs = st.fixed_dictionaries(
    {"format": st.sampled_from(["cvcore-boxes", "cvcore-boxes", "cvcore-proposals", "other"]),
     "version": st.sampled_from([1, 1, 1, 2, "1", 1.0])},
    optional={"boxes": st.one_of(_good_boxes, _good_boxes, _json_values,
                                 st.lists(st.lists(st.integers(-2**40, 2**40), min_size=3, max_size=5), max_size=4)),
              "scores": st.one_of(st.lists(st.floats(-10, 10), max_size=4), _json_values),
              "image_size": st.one_of(st.lists(st.integers(-1, 5000), min_size=2, max_size=2), _json_values),
              "width": st.one_of(st.integers(-1, 5000), _json_values), "height": st.integers(-1, 5000),
              "info": _json_values, "box_format": st.sampled_from(["x y w h", "x1 y1 x2 y2", 4])})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_box_docs)
def test_read_boxes_fuzz_returns_a_valid_result_or_value_error(tmp_path, doc):
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(doc))
    try:
        back = read_boxes(path)
    except ValueError:
        return
    assert back.boxes.dtype == np.int32 and back.boxes.ndim == 2 and back.boxes.shape[1] == 4
    assert (back.boxes[:, 2:] >= 0).all()
    assert back.scores is None or back.scores.shape == (len(back.boxes),)
    assert back.image_size is None or (len(back.image_size) == 2 and min(back.image_size) >= 1)
    assert isinstance(back.info, dict)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), prefix=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff",
                                                               b"BM", b"P5\n4 4\n255\n", b"RIFF\x00\x00\x00\x00WEBP"]))
def test_image_readers_fuzz_only_raise_value_error(tmp_path, data, prefix):
    path = tmp_path / "fuzz.png"
    path.write_bytes(prefix + data)
    for reader in (imread, imread_labels):
        try:
            out = reader(path)
        except ValueError:
            continue
        assert isinstance(out, np.ndarray) and out.ndim in (2, 3)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(boxes=st.lists(st.tuples(st.integers(-2**31 + 1, 2**31 - 1), st.integers(-2**31 + 1, 2**31 - 1),
                                st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)), max_size=6),
       with_scores=st.booleans(), size=st.none() | st.tuples(st.integers(1, 5000), st.integers(1, 5000)))
def test_write_then_read_boxes_round_trips(tmp_path, boxes, with_scores, size):
    scores = [float(i) / 3 for i in range(len(boxes))] if with_scores else None
    back = read_boxes(write_boxes(tmp_path / "r.json", np.array(boxes, np.int64).reshape(-1, 4), scores=scores,
                                  image_size=size))
    assert back.boxes.tolist() == [list(b) for b in boxes]
    assert (back.scores is None) == (scores is None) and (scores is None or back.scores.tolist() == scores)
    assert back.image_size == size and back.info == {}
