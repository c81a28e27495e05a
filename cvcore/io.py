"""Image, label-map, video and box-file input/output in cvcore's conventions.

OpenCV reads and writes BGR; everything here converts so that every array in
cvcore is RGB (or RGBA / grey). Paths are checked before any work: a folder
where a file is expected raises ``IsADirectoryError``, a missing file
``FileNotFoundError``, an output extension OpenCV cannot write ``ValueError``
(at once, not after the work that produces the output).

* :func:`imread`, :func:`imwrite`, :func:`check_image_path`: images;
* :func:`imread_labels`: label maps (one channel, lossless: 0 = unlabelled,
  1..K = class), refusing JPEG and colour images;
* :class:`VideoReader`, :class:`VideoWriter`, :func:`check_video_path`: RGB
  frames from a video file or a camera, and to a video file;
* :func:`write_boxes`, :func:`read_boxes`: ``(x, y, w, h)`` boxes (proposals,
  detections) with optional scores as a versioned JSON file.
"""
from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import _validate
from ._validate import modelfile

__all__ = ["imread", "imwrite", "check_image_path", "imread_labels", "VideoReader", "VideoWriter", "check_video_path",
           "BoxFile", "write_boxes", "read_boxes", "VIDEO_CODECS"]

#: Extensions whose encoders keep 16-bit values (others would silently drop to 8 bits).
_SIXTEEN_BIT = (".png", ".tif", ".tiff", ".pgm", ".ppm", ".pnm", ".jp2")

#: Video file extension -> FourCC of the codec :class:`VideoWriter` uses for it.
VIDEO_CODECS = {".avi": "MJPG", ".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v"}

#: Largest camera index: OpenCV reads ``index // 100 * 100`` as a capture backend id.
_MAX_CAMERA = 99


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------


def _decode(path, flag, what):
    data = np.fromfile(path, dtype=np.uint8)  # np.fromfile copes with non-ASCII paths, cv2.imread does not
    try:
        img = cv2.imdecode(data, flag) if data.size else None
    except cv2.error:
        img = None
    if img is None:
        kind = "an empty file" if not data.size else "unsupported or corrupt file"
        raise ValueError(f"cannot read {path} as {what} ({kind})")
    return img


def imread(path, *, grey=False):
    """Read an image file as an RGB, RGBA or grey array.

    Parameters
    ----------
    path : str or os.PathLike
        File to read (any format OpenCV reads: PNG, JPEG, PGM, TIFF, ...).
    grey : bool
        Return a single-channel ``(H, W)`` image (colour converted with
        OpenCV's BT.601 weights, the input policy's).

    Returns
    -------
    ndarray
        ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA, in the file's
        depth (uint8, or uint16 for 16-bit PNG/TIFF).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a folder.
    ValueError
        If the file exists but is not a readable image.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> imwrite(path, np.full((2, 3, 3), (255, 0, 0), np.uint8))
    >>> imread(path)[0, 0].tolist()
    [255, 0, 0]
    >>> imread(path, grey=True).shape
    (2, 3)
    """
    path = modelfile.readable_file(path, "image file")
    grey = _validate.boolean(grey, "grey")
    img = _decode(path, cv2.IMREAD_UNCHANGED, "an image")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3:
        four = img.shape[2] == 4
        if grey:  # cvtColor, not the decoder's own conversion: the input policy's grey, bit for bit
            return cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY if four else cv2.COLOR_BGR2GRAY)
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA if four else cv2.COLOR_BGR2RGB)
    return img


def check_image_path(path, name="path"):
    """Check, before any work, that an image can be written to ``path``.

    Refuses a folder, a missing parent folder, an unwritable location and an
    extension OpenCV has no encoder for (``cv2.haveImageWriter``).

    Returns
    -------
    str
        ``os.fspath(path)``.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> check_image_path(os.path.join(folder, "out.png")).endswith("out.png")
    True
    >>> check_image_path(os.path.join(folder, "out.txt"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: path: cannot write an image as '.txt' (...out.txt); use .png, .jpg, .tif, .bmp, ...
    """
    path = modelfile.writable_file(path, name)
    ext = os.path.splitext(path)[1].lower()
    if not ext:
        raise ValueError(f"{name}: {path} has no extension; name the image format, e.g. {path}.png")
    if not cv2.haveImageWriter("x" + ext):
        raise ValueError(f"{name}: cannot write an image as {ext!r} ({path}); use .png, .jpg, .tif, .bmp, ...")
    return path


def _encodable(image, ext):
    """``image`` as an array OpenCV encodes to ``ext`` without changing its values."""
    if getattr(image, "dtype", None) == np.bool_:
        image = np.asarray(image, np.float64)  # True is white (1.0 on the unit scale), not 1 of 255
    arr = _validate.image(image, "image", ndim=(2, 3), contiguous=False)
    if arr.ndim == 3:
        if arr.shape[2] == 1:
            arr = arr[:, :, 0]
        elif arr.shape[2] not in (3, 4):
            raise ValueError(f"image must be grey (H, W), RGB (H, W, 3) or RGBA (H, W, 4); got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"image must not be empty, got shape {arr.shape}")
    if arr.dtype == np.uint16:
        if ext not in _SIXTEEN_BIT:
            raise ValueError(f"{ext} files cannot hold 16-bit values; write {', '.join(_SIXTEEN_BIT[:3])} "
                             "or convert the image to uint8")
    elif arr.dtype.kind == "f":
        arr = _validate.uint8_image(arr, "image", colour=False)  # the input policy's 8 bits
    elif arr.dtype != np.uint8:
        raise TypeError(f"image of dtype {arr.dtype} cannot be written: convert it to uint8 or uint16 "
                        "(integer label maps: check their values fit)")
    if arr.ndim == 3:
        code = cv2.COLOR_RGBA2BGRA if arr.shape[2] == 4 else cv2.COLOR_RGB2BGR
        arr = cv2.cvtColor(np.ascontiguousarray(arr), code)
    return np.ascontiguousarray(arr)


def imwrite(path, image):
    """Write an RGB, RGBA or grey array to an image file (format from the extension).

    uint8 and uint16 images are written as they are (uint16 only to formats
    that keep 16 bits: PNG, TIFF, PNM, JPEG 2000); float and bool images are
    converted to 8 bits by the input policy (``[0, 1]`` to ``0..255``,
    clipped). Path, extension and dtype are checked before encoding.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; its extension picks the format.
    image : (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array_like
        Grey, RGB or RGBA image.

    Raises
    ------
    IsADirectoryError, FileNotFoundError, PermissionError
        ``path`` is a folder, its folder does not exist, or it is not writable.
    ValueError
        OpenCV cannot write this extension, or it cannot hold the image.
    TypeError
        The image dtype has no file representation (signed or wide integers).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "grey.png")
    >>> imwrite(path, np.linspace(0, 1, 12).reshape(3, 4))
    >>> imread(path)[2].tolist()
    [185, 209, 232, 255]
    """
    path = check_image_path(path, "path")
    ext = os.path.splitext(path)[1].lower()
    arr = _encodable(image, ext)
    try:
        ok, buf = cv2.imencode(ext, arr)
    except cv2.error:
        ok = False
    if not ok:
        raise ValueError(f"cannot encode an image of shape {arr.shape} and dtype {arr.dtype} as {ext}")
    with open(path, "wb") as fh:
        fh.write(buf.tobytes())


def _lossy_format(head):
    """Name of a lossy image format recognised from a file's first bytes, else None."""
    if head[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:16] == b"VP8 ":
        return "lossy WebP"
    return None


def imread_labels(path):
    """Read a label map: one channel, lossless, integer classes (0 = unlabelled).

    A label image holds class numbers, not intensities: 0 marks unlabelled
    pixels and 1..K the classes. Files whose format is lossy (JPEG, lossy
    WebP; recognised from the file's content, not its name) are refused,
    because compression changes the numbers at every region border; so are
    colour images, whose colours are not class numbers (convert a colour-coded
    or paletted mask to class indices first).

    Parameters
    ----------
    path : str or os.PathLike
        A grey PNG, TIFF, PGM or BMP file, 8 or 16 bits.

    Returns
    -------
    (H, W) uint8 or uint16 ndarray

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        Missing file, or a folder.
    ValueError
        Not an image, lossy, colour, or not an integer image.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.png")
    >>> imwrite(path, np.array([[0, 1], [2, 2]], np.uint8))
    >>> imread_labels(path).tolist()
    [[0, 1], [2, 2]]
    """
    path = modelfile.readable_file(path, "label image")
    with open(path, "rb") as fh:
        lossy = _lossy_format(fh.read(16))
    if lossy is not None:
        raise ValueError(f"{path} is a {lossy} file: lossy compression changes label values at region borders; "
                         "save label images as PNG (0 = unlabelled, 1..K = class)")
    lab = _decode(path, cv2.IMREAD_UNCHANGED, "a label image")
    if lab.ndim == 3 and lab.shape[2] == 1:
        lab = lab[:, :, 0]
    if lab.ndim == 3:
        same = all(np.array_equal(lab[:, :, 0], lab[:, :, c]) for c in range(1, min(lab.shape[2], 3)))
        hint = ("its colour channels are equal: save it as a single-channel (grey) PNG" if same else
                "colours are not class numbers: convert a colour-coded or paletted mask to class indices")
        raise ValueError(f"{path} has {lab.shape[2]} channels, but a label image has one channel "
                         f"(0 = unlabelled, 1..K = class); {hint}")
    if lab.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"{path}: a label image must be 8- or 16-bit integers, got {lab.dtype}")
    return lab


# --------------------------------------------------------------------------
# video
# --------------------------------------------------------------------------


def _fps(value, default=25.0):
    """A capture's reported frame rate, or ``default`` when it reports none or nonsense."""
    return float(value) if math.isfinite(value) and 0 < value <= 1000 else default


class _Released:
    """An OpenCV capture or writer in ``self._handle``, released by :meth:`close` or a ``with`` block."""

    _handle = None

    def close(self):
        """Release the file or camera (also done on leaving a ``with`` block); safe to call twice."""
        if self._handle is not None:
            self._handle.release()
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class VideoReader(_Released):
    """RGB frames from a video file or a camera.

    Parameters
    ----------
    source : str, os.PathLike or int
        A video file (any format OpenCV's backends read), or a camera index
        0..99 (OpenCV reads larger indices as a backend id plus a camera).

    Attributes
    ----------
    source : str or int
        The file path or camera index.
    fps : float
        Frame rate reported by the source (25 when it reports none).

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        The file is missing, or is a folder.
    ValueError
        The file is not a video OpenCV can open, the camera index is out of
        range, or no camera answers at that index.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.avi")
    >>> with VideoWriter(path, fps=10) as out:
    ...     for k in range(3):
    ...         out.write(np.full((32, 48, 3), 80 * k, np.uint8))
    >>> with VideoReader(path) as video:
    ...     frames = list(video)
    >>> len(frames), frames[0].shape, video.fps
    (3, (32, 48, 3), 10.0)
    """

    def __init__(self, source):
        if isinstance(source, (int, np.integer)) and not isinstance(source, (bool, np.bool_)):
            self.source = _validate.integer(source, "camera index", low=0, high=_MAX_CAMERA)
            cap = cv2.VideoCapture(self.source)
            if not cap.isOpened():
                cap.release()
                raise ValueError(f"no camera found at index {self.source} (is one connected and free?)")
        else:
            self.source = modelfile.readable_file(source, "video file")
            cap = cv2.VideoCapture(self.source)
            if not cap.isOpened():
                cap.release()
                raise ValueError(f"cannot open {self.source} as a video (unsupported or corrupt file)")
        self._handle = cap
        self.fps = _fps(cap.get(cv2.CAP_PROP_FPS))

    def read(self):
        """The next frame as an ``(H, W, 3)`` uint8 RGB array, or None at the end."""
        if self._handle is None:
            return None
        try:
            ok, bgr = self._handle.read()
        except cv2.error:  # a corrupt frame the backend cannot decode ends the video
            ok = False
        if not ok or bgr is None:
            return None
        if bgr.ndim == 2:
            return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
        return cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB if bgr.shape[2] == 4 else cv2.COLOR_BGR2RGB)

    def __iter__(self):
        while True:
            frame = self.read()
            if frame is None:
                return
            yield frame



_CODEC_WORKS = {}


def _codec_available(ext):
    """Whether this OpenCV build can write ``ext`` videos (probed once on a tiny file)."""
    if ext not in _CODEC_WORKS:
        with tempfile.TemporaryDirectory() as folder:
            probe = cv2.VideoWriter(os.path.join(folder, "probe" + ext), cv2.VideoWriter_fourcc(*VIDEO_CODECS[ext]),
                                    25.0, (16, 16))
            _CODEC_WORKS[ext] = bool(probe.isOpened())
            probe.release()
    return _CODEC_WORKS[ext]


def check_video_path(path, name="path"):
    """Check, before any work, that :class:`VideoWriter` can write ``path``.

    Refuses a folder, a missing parent folder, an unwritable location, an
    extension outside :data:`VIDEO_CODECS` and one whose codec this OpenCV
    build lacks (probed once per extension on a tiny temporary file).

    Returns
    -------
    str
        ``os.fspath(path)``.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> check_video_path(os.path.join(folder, "clip.avi")).endswith("clip.avi")
    True
    >>> check_video_path(os.path.join(folder, "clip.gif"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: path: cannot write a video as '.gif' (...clip.gif); use .avi, .mp4, .m4v, .mov or .mkv
    """
    path = modelfile.writable_file(path, name)
    ext = os.path.splitext(path)[1].lower()
    if ext not in VIDEO_CODECS:
        names = list(VIDEO_CODECS)
        raise ValueError(f"{name}: cannot write a video as {ext or 'no extension'!r} ({path}); "
                         f"use {', '.join(names[:-1])} or {names[-1]}")
    if not _codec_available(ext):
        raise ValueError(f"{name}: this OpenCV build cannot write {ext} videos ({VIDEO_CODECS[ext]}); try .avi")
    return path


class VideoWriter(_Released):
    """Write RGB frames to a video file; the path and codec are checked at construction.

    The file is created with the first frame, whose size every later frame
    must share. The codec follows the extension (:data:`VIDEO_CODECS`:
    Motion-JPEG for ``.avi``, MPEG-4 part 2 for ``.mp4``, ``.m4v``, ``.mov``,
    ``.mkv``).

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    fps : float
        Frame rate written in the file, in (0, 1000].

    Attributes
    ----------
    path : str
    fps : float
    frames_written : int

    Raises
    ------
    IsADirectoryError, FileNotFoundError, PermissionError
        ``path`` is a folder, its folder is missing, or it is not writable.
    ValueError
        The extension is not a video format listed above, or this OpenCV
        build has no encoder for it (see :func:`check_video_path`).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.mp4")
    >>> with VideoWriter(path, fps=5) as out:
    ...     out.write(np.zeros((24, 32, 3), np.uint8))
    >>> out.frames_written
    1
    >>> VideoWriter(path[:-4] + ".txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: path: cannot write a video as '.txt' (...clip.txt); use .avi, .mp4, .m4v, .mov or .mkv
    """

    def __init__(self, path, fps=25.0):
        path = check_video_path(path, "path")
        self.path = path
        self.fps = _validate.real(fps, "fps", low=0.0, high=1000.0, low_inclusive=False)
        self.frames_written = 0
        self._size = None
        self._handle = None

    def write(self, frame):
        """Append one frame: ``(H, W)`` grey or ``(H, W, 3|4)`` RGB(A), any dtype (input policy)."""
        arr = _validate.uint8_image(frame, "frame")
        if arr.ndim == 2:
            bgr = cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
        else:
            bgr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
        size = (bgr.shape[1], bgr.shape[0])
        if self._handle is None:
            if self.frames_written:
                raise ValueError(f"{self.path} is closed")
            fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[os.path.splitext(self.path)[1].lower()])
            writer = cv2.VideoWriter(self.path, fourcc, self.fps, size)
            if not writer.isOpened():
                writer.release()
                raise OSError(f"cannot open {self.path} for writing a {size[0]}x{size[1]} video")
            self._handle, self._size = writer, size
        elif size != self._size:
            raise ValueError(f"frame is {size[0]}x{size[1]}, but this video is {self._size[0]}x{self._size[1]}")
        self._handle.write(bgr)
        self.frames_written += 1



# --------------------------------------------------------------------------
# box files
# --------------------------------------------------------------------------

_BOX_FORMATS = ("cvcore-boxes", "cvcore-proposals")  # the second: files written by cvcore propose 0.x
_RESERVED = {"format", "version", "box_format", "boxes", "scores", "image_size", "info"}
_MAX_BOXES = 10_000_000


@dataclass(frozen=True)
class BoxFile:
    """The content of a box file (see :func:`write_boxes`).

    Attributes
    ----------
    boxes : (N, 4) int32 ndarray
        ``(x, y, w, h)`` rows.
    scores : (N,) float64 ndarray or None
    image_size : (int, int) or None
        ``(width, height)`` of the image the boxes belong to.
    info : dict
        Free JSON metadata (how the boxes were made).
    """

    boxes: np.ndarray
    scores: np.ndarray | None = None
    image_size: tuple | None = None
    info: dict = field(default_factory=dict)


def write_boxes(path, boxes, *, scores=None, image_size=None, info=None):
    """Write ``(x, y, w, h)`` boxes (and optional scores) to a JSON box file.

    The file is ``{"format": "cvcore-boxes", "version": 1, "box_format":
    "x y w h", "boxes": [[x, y, w, h], ...], "scores": [...], "image_size":
    [width, height], "info": {...}}`` (``scores``, ``image_size`` and ``info``
    only when given), written atomically; read it back with
    :func:`read_boxes`.

    Parameters
    ----------
    path : str or os.PathLike
        Output file, ending in ``.json``.
    boxes : (N, 4) array_like of int
        Integer ``(x, y, w, h)`` rows with ``w, h >= 0`` (int32 range).
    scores : (N,) array_like, optional
        One finite score per box.
    image_size : (int, int), optional
        ``(width, height)`` of the image.
    info : dict, optional
        JSON-serialisable metadata (for example the settings that made the boxes).

    Returns
    -------
    str
        The path written.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "boxes.json")
    >>> _ = write_boxes(path, [[1, 2, 30, 40]], scores=[0.5], image_size=(64, 48), info={"mode": "fast"})
    >>> back = read_boxes(path)
    >>> back.boxes.tolist(), back.scores.tolist(), back.image_size, back.info
    ([[1, 2, 30, 40]], [0.5], (64, 48), {'mode': 'fast'})
    """
    path = modelfile.writable_file(path, "path", suffixes=(".json",))
    arr = _validate.int_boxes(boxes, "boxes")
    payload = {"box_format": "x y w h", "boxes": arr.tolist()}
    if scores is not None:
        payload["scores"] = _validate.box_scores(scores, len(arr), "scores").tolist()
    if image_size is not None:
        payload["image_size"] = list(_validate.image_size(image_size, "image_size"))
    if info is not None:
        if not isinstance(info, dict):
            raise TypeError(f"info must be a dict, got {type(info).__name__}")
        payload["info"] = info
    try:
        return modelfile.write_json(path, payload, kind="cvcore-boxes", version=1)
    except (TypeError, ValueError) as exc:  # json refuses NaN and unknown types in info
        if "info" in payload:
            raise ValueError(f"info must hold JSON values only (no NaN): {exc}") from None
        raise


def read_boxes(path):
    """Read a box file written by :func:`write_boxes` (or by ``cvcore propose --out``).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    BoxFile

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        Missing file, or a folder.
    ValueError
        Not a box file, or a malformed one (the message names the field).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "b.json")
    >>> _ = write_boxes(path, [])
    >>> read_boxes(path).boxes.shape
    (0, 4)
    """
    data = modelfile.read_bytes(path, max_bytes=1 << 30, name="path")
    where = os.fspath(path)
    fields = modelfile.Fields(modelfile.loads_json(data, where), where)
    kind = fields.raw("format", None)
    if kind not in _BOX_FORMATS:
        raise ValueError(f"{where}: not a cvcore-boxes file (format is {kind!r})")
    modelfile.check_header(fields, kind=kind, versions=(1,))
    fields.str("box_format", choices=("x y w h",), default="x y w h")
    raw = fields.list("boxes", max_len=_MAX_BOXES)
    boxes = (np.zeros((0, 4), np.int32) if not raw else
             fields.array("boxes", dtype=np.int32, shape=(None, 4), max_size=4 * _MAX_BOXES))
    if np.any(boxes[:, 2:] < 0):
        raise ValueError(f"{where}: boxes widths and heights must be >= 0")
    scores = None
    if "scores" in fields:
        raw = fields.list("scores", max_len=_MAX_BOXES)
        scores = (np.zeros(0) if not raw else fields.array("scores", dtype=np.float64, shape=(None,),
                                                              max_size=_MAX_BOXES))
        if len(scores) != len(boxes):
            raise ValueError(f"{where}: {len(scores)} scores for {len(boxes)} boxes")
    image_size = None
    if "image_size" in fields:
        w, h = fields.array("image_size", dtype=np.int64, shape=(2,)).tolist()
        image_size = _validate.image_size((w, h), f"{where}: image_size")
    elif "width" in fields:  # the cvcore-proposals layout
        image_size = (fields.int("width", low=1, high=1 << 20), fields.int("height", low=1, high=1 << 20))
    if "info" in fields:
        info = fields.sub("info").data
    else:  # cvcore-proposals kept its settings at the top level
        info = {k: v for k, v in fields.data.items() if k not in _RESERVED | {"width", "height"}}
    return BoxFile(boxes=boxes, scores=scores, image_size=image_size, info=info)
