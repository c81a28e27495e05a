"""Image collections on ``dask.distributed``: one JSON-Lines record per image.

:func:`map_images` applies an operation to every image of a collection (files,
globs, folders walked recursively) on a Dask cluster: a given ``Client``, the
scheduler at an address (a real cluster), or by default a ``LocalCluster``
of worker processes started for the batch and closed after it. Records are
appended to ``out`` as results arrive, one line per image::

    {"path": "faces/a.jpg", "status": "ok", "result": {"boxes": [[...]], "scores": [...]}, "time": 0.031}
    {"path": "faces/b.jpg", "status": "error", "error": "ValueError: ... not a readable image", "time": 0.002}

Nothing lost, nothing twice:

* an unreadable, corrupt or too large image (see ``max_pixels``) becomes an
  error record and the batch goes on; the size is read from the file's
  header (PNG, JPEG, BMP, TIFF, PNM, WebP) so that a huge image is refused
  before decoding allocates it;
* a worker that dies mid-task has its tasks rerun elsewhere by the scheduler;
  a task that fails all the same (workers died several times while it ran
  or waited) is retried, one image per task, and at last alone on the
  cluster, so that only an image that kills workers by itself becomes an
  error record;
  only the client writes ``out``, once per image, so the table never holds
  duplicates;
* with ``resume=True`` an interrupted batch (Ctrl-C, a crash, a lost node)
  reads ``out`` and processes only the images without a record; a last line
  cut short by a crash is dropped and redone.

Built-in operations (picklable, configured once, sent to each worker once):
:class:`Detect` (Viola-Jones boxes and scores), :class:`Propose` (selective
search, top ``k`` boxes), :class:`Corners` (chessboard corners or the reason
none were found), :class:`Segment` (pixel-segmenter masks written beside
the table, class pixel counts in the record) and :class:`FelzenszwalbCount`
(number of segments). Any picklable ``func(image) -> JSON-able`` works too,
if the workers can import its module (otherwise :class:`ClusterError` says
so at once, before any record is written).

Choosing workers and threads
----------------------------
Per-image work is independent, so processes scale best: one worker process
per core (``n_workers``, default: the cores this process may use), one
task at a time per worker, and one cvcore kernel thread per task
(``threads=1``, set once per worker by a worker plugin, OpenCV's pool too),
so a 2-core machine runs two images at once without oversubscription. For few, very large images
use fewer workers and more ``threads`` instead. Each task costs the client,
the scheduler and a worker several milliseconds of CPU, so small images
travel several to a task (``per_task``); start the cluster once and pass
``client=`` when running many batches (a local cluster takes seconds to
start, longer than a small batch itself). On a real cluster, start
``dask scheduler`` and ``dask worker --nthreads 1`` on each node and pass
``scheduler="tcp://host:8786"``; the paths must be readable from every worker
(a shared file system).

Requires the optional extra ``pip install "cvcore[dask]"``.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import time

import numpy as np

from . import _progress, _threads, _validate
from ._validate import modelfile

__all__ = ["map_images", "local_cluster", "find_images", "read_records", "Detect", "Propose", "Corners", "Segment",
           "FelzenszwalbCount", "OPERATIONS", "DEFAULT_MAX_PIXELS", "ClusterError"]

#: Image extensions collected from folders (globs and explicit paths take any file).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm", ".webp", ".jp2")

#: Largest image (pixels) a task accepts by default: 64 Mpx (an 8000x8000 RGB photo is ~190 MB decoded).
DEFAULT_MAX_PIXELS = 1 << 26


# --------------------------------------------------------------------------
# inputs and the output table
# --------------------------------------------------------------------------


def find_images(inputs):
    """The image paths of ``inputs``: files, glob patterns and folders (walked recursively, sorted).

    Explicit file paths are kept even when missing or unreadable, so they get
    an error record; duplicates are dropped, first occurrence kept.

    Examples
    --------
    >>> find_images(["b.png", "a.png", "b.png"])
    ['b.png', 'a.png']
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    try:
        items = list(inputs)
    except TypeError:
        raise TypeError(f"inputs must be a path, a glob, a folder or a list of them, got {type(inputs).__name__}") \
            from None
    if not items:
        raise ValueError("inputs must name at least one image, glob or folder")
    found = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"inputs must hold paths (str or os.PathLike), got {type(item).__name__}")
        path = os.fspath(item)
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found.extend(os.path.join(root, f) for f in sorted(files)
                             if f.lower().endswith(IMAGE_EXTENSIONS))
        elif glob.has_magic(path):
            matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not matches:
                raise FileNotFoundError(f"inputs: no file matches {path!r}")
            found.extend(matches)
        else:
            found.append(path)
    return list(dict.fromkeys(os.path.normpath(p) for p in found))


def read_records(out):
    """The records of a JSON-Lines table written by :func:`map_images` (a cut-short last line is skipped)."""
    records = []
    with open(out, "rb") as fh:
        data = fh.read()
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            if not data.endswith(b"\n") and line == data.rsplit(b"\n", 1)[-1]:
                break  # the line a crash cut short: redone on resume
            raise ValueError(f"out: line {number} of {out} is not a JSON record; is it a cvcore batch table?") \
                from None
        if not isinstance(rec, dict) or not isinstance(rec.get("path"), str) or "status" not in rec:
            raise ValueError(f"out: line {number} of {out} is not a cvcore batch record")
        records.append(rec)
    return records


def _open_table(out, resume):
    """Open ``out`` for appending; return (file, paths already recorded)."""
    out = modelfile.writable_file(out, "out")
    done = set()
    if resume and os.path.exists(out):
        done = {rec["path"] for rec in read_records(out)}
        with open(out, "rb+") as fh:  # drop a last line cut short by a crash
            data = fh.read()
            if data and not data.endswith(b"\n"):
                fh.truncate(data.rfind(b"\n") + 1)
    return open(out, "a" if resume else "w", encoding="utf-8"), done


# --------------------------------------------------------------------------
# what runs on a worker
# --------------------------------------------------------------------------


def _one_line(exc):
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _too_large(width, height, max_pixels, how):
    pixels = width * height
    if pixels > max_pixels:
        raise ValueError(f"image is {width}x{height} ({pixels / 1e6:.1f} Mpx) {how}, above the per-task cap "
                         f"max_pixels={max_pixels}; raise max_pixels if the workers have the memory, or process "
                         "it in chunks with cvcore.dask")


def _read(path, grey, max_pixels):
    from . import io
    from ._image_header import header_size

    # the header first: a file claiming a huge size is refused before decoding allocates it
    size = header_size(path)
    if size is not None:
        _too_large(*size, max_pixels, "by its file header, refused before decoding")
    image = io.imread(path, grey=grey)
    _too_large(image.shape[1], image.shape[0], max_pixels, "decoded")  # formats without a known header
    return image


def _run_group(func, paths, max_pixels):
    """Records of a few images: one task for several small images keeps the scheduler's share small."""
    return [_run_task(func, path, max_pixels) for path in paths]


def _run_task(func, path, max_pixels):
    """One image -> its record (never raises for a bad image or a failing operation)."""
    t0 = time.perf_counter()
    try:
        if isinstance(func, _Operation):
            result = func.run(_read(path, func.grey, max_pixels), path)
        else:
            result = func(_read(path, False, max_pixels))
        json.dumps(result)  # a result that cannot go into the table is the operation's error
        rec = {"path": path, "status": "ok", "result": result}
    except Exception as exc:  # noqa: BLE001 - every failure of one image is that image's record
        rec = {"path": path, "status": "error", "error": _one_line(exc)}
    rec["time"] = round(time.perf_counter() - t0, 6)
    return rec


#: Models loaded from files, per process (client and each worker): a worker loads a model once and keeps
#: it warm across tasks and batches; a file changed on disk is loaded again.
_MODELS = {}


def _model(kind, path, load):
    st = os.stat(path)
    key = (kind, os.path.abspath(path), st.st_mtime_ns, st.st_size)
    if key not in _MODELS:
        _MODELS[key] = load(path)
    return _MODELS[key]


class _Operation:
    """A built-in operation: configured (and checked) on the client, run on workers."""

    grey = False

    def run(self, image, path):
        raise NotImplementedError


class Detect(_Operation):
    """Viola-Jones detection: ``{"boxes": [[x, y, w, h], ...], "scores": [...]}``.

    Parameters
    ----------
    cascade : str, os.PathLike or Cascade, optional
        Cascade file (cvcore JSON or OpenCV XML) or object; default the shipped face cascade.
    scale_factor, min_neighbors, min_size
        As :meth:`cvcore.cascade.Cascade.detect`.
    """

    def __init__(self, cascade=None, scale_factor=1.1, min_neighbors=3, min_size=None):
        from .cascade import Cascade

        # a file (or the shipped cascade) travels as its name and is loaded once per worker
        self.source = cascade if cascade is None or isinstance(cascade, Cascade) else os.fspath(cascade)
        self.kwargs = {"scale_factor": scale_factor, "min_neighbors": min_neighbors, "min_size": min_size}
        self.cascade().detect(np.zeros((8, 8), np.uint8), **self.kwargs)  # checks the file and options now

    def cascade(self):
        from .cascade import Cascade, default_face_cascade

        if self.source is None:
            return default_face_cascade()
        if isinstance(self.source, Cascade):
            return self.source
        return _model("cascade", self.source, Cascade.load)

    def run(self, image, path):
        boxes, scores = self.cascade().detect(image, **self.kwargs)
        return {"boxes": boxes.tolist(), "scores": scores.tolist()}


class Propose(_Operation):
    """Selective-search proposals: ``{"boxes": top_k boxes, "count": all proposals}``."""

    def __init__(self, top_k=200, mode="fast"):
        self.top_k = _validate.integer(top_k, "top_k", low=1)
        self.mode = _validate.choice(mode, "mode", ("fast", "quality", "single"))

    def run(self, image, path):
        from .proposals import selective_search

        boxes = selective_search(image, self.mode)
        return {"boxes": boxes[:self.top_k].tolist(), "count": int(boxes.shape[0])}


class Corners(_Operation):
    """Chessboard corners: ``{"found": true, "corners": [[x, y], ...]}`` or ``{"found": false, "reason": ...}``."""

    def __init__(self, pattern_size, subpixel=True):
        self.pattern_size = _validate.pattern_size(pattern_size, low=3)
        self.subpixel = _validate.boolean(subpixel, "subpixel")

    def run(self, image, path):
        from .calibration.chessboard import find_chessboard_corners

        corners = find_chessboard_corners(image, self.pattern_size, subpixel=self.subpixel)
        if corners is None:
            cols, rows = self.pattern_size
            return {"found": False, "reason": f"no complete, unambiguous {cols}x{rows} inner-corner board"}
        return {"found": True, "corners": corners.tolist()}


class Segment(_Operation):
    """Pixel-segmenter prediction: the label mask is written to ``mask_dir`` as a PNG.

    The record holds ``{"mask": png path, "counts": {label: pixels}}``; mask
    names are the image's name plus a hash of its full path, so images of the
    same name in different folders never collide.
    """

    def __init__(self, segmenter, mask_dir):
        from .segmentation import PixelSegmenter

        self.source = segmenter if isinstance(segmenter, PixelSegmenter) else os.fspath(segmenter)
        segmenter = self.segmenter()
        segmenter.predict(np.zeros((16, 16) + ((segmenter.n_channels_,) if segmenter.n_channels_ > 1 else ()),
                                   np.uint8))  # fitted, usable
        if int(segmenter.classes_.max()) > 65535:
            raise ValueError("segmenter: class labels above 65535 do not fit a PNG mask")
        self.grey = segmenter.n_channels_ == 1
        self.mask_dir = os.fspath(mask_dir)
        os.makedirs(self.mask_dir, exist_ok=True)

    def segmenter(self):
        from .segmentation import PixelSegmenter

        if isinstance(self.source, PixelSegmenter):
            return self.source
        return _model("segmenter", self.source, PixelSegmenter.load)

    def run(self, image, path):
        from . import io

        labels = self.segmenter().predict(image)
        stem = os.path.splitext(os.path.basename(path))[0]
        digest = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:10]
        mask = os.path.join(self.mask_dir, f"{stem}-{digest}.png")
        io.imwrite(mask, labels)
        values, counts = np.unique(labels, return_counts=True)
        return {"mask": mask, "counts": {str(v): int(c) for v, c in zip(values, counts)}}


class FelzenszwalbCount(_Operation):
    """Number of Felzenszwalb segments: ``{"segments": n}``."""

    def __init__(self, scale=100.0, sigma=0.8, min_size=20):
        from .proposals import felzenszwalb

        self.kwargs = {"scale": scale, "sigma": sigma, "min_size": min_size}
        felzenszwalb(np.zeros((4, 4), np.uint8), **self.kwargs)

    def run(self, image, path):
        from .proposals import felzenszwalb

        return {"segments": int(felzenszwalb(image, **self.kwargs).max()) + 1}


#: Built-in operations by the name ``cvcore batch`` uses.
OPERATIONS = {"detect": Detect, "propose": Propose, "corners": Corners, "segment": Segment,
              "felzenszwalb": FelzenszwalbCount}


# --------------------------------------------------------------------------
# the client side
# --------------------------------------------------------------------------


class ClusterError(RuntimeError):
    """The cluster cannot run the batch: its workers cannot load the operation, or none started it in time."""


def _pickled_runner(func):
    """``func`` bound to the group runner, pickled here on the client.

    The workers unpickle it inside a task (``pickle.loads`` is the task's
    function, importable everywhere), so a function from a module the workers
    cannot import, or a worker without cvcore, fails that task with the
    import error. Sent as ordinary task arguments, the same failure happens in
    the worker's message handling and the batch would wait forever.
    """
    import functools

    import cloudpickle

    try:
        return cloudpickle.dumps(functools.partial(_run_group, func))
    except Exception as exc:  # noqa: BLE001 - whatever pickling raises, the cause is the function
        raise TypeError(f"func cannot be sent to the workers: {_one_line(exc)}") from None


def _thread_plugin(threads):
    from distributed import WorkerPlugin

    class CvcoreThreads(WorkerPlugin):
        """Sets cvcore's (and OpenCV's) threads once per worker, and again on a restarted worker."""

        name = "cvcore-threads"

        def setup(self, worker):
            import cv2

            _threads.set_num_threads(threads)
            cv2.setNumThreads(threads)  # decoding and colour conversion: no pool per worker either

    return CvcoreThreads()


def _check_cluster(client, scheduler, n_workers):
    """Validated ``(client, scheduler, n_workers)``: one way to reach a cluster."""
    from distributed import Client

    if client is not None:
        if scheduler is not None or n_workers is not None:
            raise ValueError("give client, or scheduler / n_workers, not both")
        if not isinstance(client, Client):
            raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    elif scheduler is not None:
        if n_workers is not None:
            raise ValueError("n_workers starts a local cluster; with scheduler= the cluster's workers are used")
        if not isinstance(scheduler, str):
            raise TypeError(f"scheduler must be an address string like 'tcp://host:8786', got "
                            f"{type(scheduler).__name__}")
    elif n_workers is not None:
        n_workers = _validate.integer(n_workers, "n_workers", low=1, high=1024)
    return client, scheduler, n_workers


def _connect(client, scheduler, n_workers):
    """(client, things to close afterwards) for arguments checked by :func:`_check_cluster`."""
    from distributed import Client

    if client is not None:
        return client, []
    if scheduler is not None:
        c = Client(scheduler, timeout="20s")
        return c, [c]
    cluster = local_cluster(n_workers)
    c = Client(cluster)
    return c, [c, cluster]


def local_cluster(n_workers=None):
    """A ``distributed.LocalCluster`` set up for image batches, as :func:`map_images` starts its own.

    Start one to run many batches without starting workers each time, and pass
    ``Client(cluster)`` as ``client=``. Worker processes with one thread each;
    no dashboard and no worker profiler (nobody watches them, and the profiler
    samples every worker's stack 100 times a second); and the workers keep
    glibc's default allocator settings: Dask sets ``MALLOC_TRIM_THRESHOLD_``,
    which turns off glibc's adaptive mmap threshold, so every image-sized
    array is mapped and unmapped afresh and its pages faulted in again
    (measured: 20-25 % more CPU per detected image than the same loop in one
    process). Image tasks free what they allocate.

    Parameters
    ----------
    n_workers : int, optional
        Worker processes (default: the cores available to this process).

    Examples
    --------
    >>> from distributed import Client
    >>> from cvcore import batch
    >>> with batch.local_cluster(2) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     batch.map_images(batch.Detect(), "photos/", out="faces.jsonl", client=client)
    >>> batch.local_cluster(0)
    Traceback (most recent call last):
    ...
    ValueError: n_workers must be >= 1, got 0
    """
    import dask
    from distributed import LocalCluster

    n = _threads.available_cores() if n_workers is None else _validate.integer(n_workers, "n_workers", low=1,
                                                                                 high=1024)
    with dask.config.set({"distributed.worker.profile.enabled": False,
                          "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)


def map_images(func, inputs, *, out, client=None, scheduler=None, n_workers=None, resume=True, progress=None,
               threads=1, max_pixels=DEFAULT_MAX_PIXELS, per_task=None, start_timeout=120):
    """Apply ``func`` to every image of ``inputs`` on a Dask cluster, streaming records to ``out``.

    Parameters
    ----------
    func : operation or callable
        A built-in operation (:class:`Detect`, :class:`Propose`, :class:`Corners`,
        :class:`Segment`, :class:`FelzenszwalbCount`) or a picklable
        ``func(image) -> JSON-able``; ``image`` is :func:`cvcore.io.imread` of the file.
    inputs : path, glob, folder, or a list of them
        See :func:`find_images`.
    out : str or os.PathLike
        JSON-Lines table, appended to as results arrive.
    client : dask.distributed.Client, optional
        Run on this client's cluster (left open).
    scheduler : str, optional
        Address of a running scheduler (``"tcp://host:8786"``); a client is opened and closed.
    n_workers : int, optional
        Without ``client`` or ``scheduler``: worker processes of the embedded
        ``LocalCluster`` (default: the cores available), closed at the end.
    resume : bool
        True (default): keep ``out`` and process only images without a
        record. False: start ``out`` afresh.
    progress : None, bool or callable
        The :mod:`cvcore._progress` convention (a bar on a terminal).
    threads : int
        cvcore kernel threads per worker task (default 1: no oversubscription).
    max_pixels : int
        Images with more pixels become error records instead of being
        processed; PNG, JPEG, BMP, TIFF, PNM and WebP files are measured by
        their header, before decoding, other formats once decoded.
    per_task : int, optional
        Images per Dask task. A task costs the client, the scheduler and the
        worker several milliseconds of CPU, which the images of a task share;
        the default gives each worker about 8 tasks, of at most 16 images,
        shrinking to one image at the end of the batch so that the workers
        finish together (1 image per task for small batches). Use 1 for
        images that take seconds each.
    start_timeout : float
        Seconds the cluster has to load ``func`` on a worker (default 120)
        before :class:`ClusterError` is raised: a cluster without workers
        would otherwise wait for ever.

    Returns
    -------
    dict
        ``done``, ``failed``, ``skipped`` (already in ``out``), ``total``,
        ``seconds`` and ``images_per_second`` (of the images processed now).

    Raises
    ------
    ClusterError
        If the workers cannot load ``func`` (the message names the cause, e.g.
        ``ModuleNotFoundError: No module named 'mymodule'``: define ``func``
        in a module every worker can import, or register that module with
        ``cloudpickle.register_pickle_by_value``), or no worker loaded it
        within ``start_timeout`` seconds. No record is written then.

    Examples
    --------
    >>> import os, tempfile
    >>> from cvcore import datasets, io
    >>> folder = tempfile.mkdtemp()
    >>> io.imwrite(os.path.join(folder, "a.png"), np.zeros((40, 40), np.uint8))
    >>> summary = map_images(FelzenszwalbCount(), folder, out=os.path.join(folder, "r.jsonl"),
    ...                      n_workers=1, progress=False)   # doctest: +SKIP
    >>> summary["done"], read_records(os.path.join(folder, "r.jsonl"))[0]["result"]  # doctest: +SKIP
    (1, {'segments': 1})
    """
    if not (isinstance(func, _Operation) or callable(func)):
        raise TypeError(f"func must be a built-in operation or a callable, got {type(func).__name__}")
    paths = find_images(inputs)
    resume = _validate.boolean(resume, "resume")
    threads = _validate.integer(threads, "threads", low=1, high=1024)
    max_pixels = _validate.integer(max_pixels, "max_pixels", low=1)
    if per_task is not None:
        per_task = _validate.integer(per_task, "per_task", low=1, high=10_000)
    start_timeout = _validate.positive(start_timeout, "start_timeout")
    _progress.check_progress(progress)
    client, scheduler, n_workers = _check_cluster(client, scheduler, n_workers)
    runner = _pickled_runner(func)
    table, done = _open_table(out, resume)
    todo = [p for p in paths if p not in done]
    summary = {"done": 0, "failed": 0, "skipped": len(paths) - len(todo), "total": len(paths)}
    t0 = time.perf_counter()
    with table:
        if todo:
            _run(runner, todo, per_task, table, summary, client, scheduler, n_workers, progress, threads,
                 max_pixels, start_timeout)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    processed = summary["done"] + summary["failed"]
    summary["images_per_second"] = round(processed / summary["seconds"], 3) if summary["seconds"] > 0 else 0.0
    return summary


def _load_on_a_worker(client, runner, timeout):
    """The runner unpickled by a task (a future), or :class:`ClusterError` saying why it cannot be."""
    import asyncio
    import pickle

    from distributed import wait

    # a task of its own: sent once, fetched once per worker, and recomputed (unlike scattered data)
    # if every worker holding it dies
    shipped = client.submit(pickle.loads, runner, pure=False)
    try:
        wait([shipped], timeout=timeout)
    except (TimeoutError, asyncio.TimeoutError):  # the same class from Python 3.11 on
        shipped.cancel()
        workers = len(client.nthreads())
        raise ClusterError(f"no worker loaded the operation within start_timeout={timeout:g} s (the cluster has "
                           f"{workers} worker{'s' * (workers != 1)}); start workers or raise start_timeout") \
            from None
    if shipped.status == "error":
        raise ClusterError(f"the workers cannot load the operation ({_one_line(shipped.exception())}); define it "
                           "in a module every worker can import (with cvcore installed there), or send its "
                           "module by value with cloudpickle.register_pickle_by_value")
    return shipped


def _groups(todo, per_task, slots):
    """``todo`` cut into tasks: ``per_task`` images each when given; by default shrinking ones.

    A task costs the client, scheduler and worker a few milliseconds, so tasks hold several images (about 8
    tasks per worker thread, at most 16 images); but equal tasks leave all but one worker idle while the last
    one finishes. As OpenMP's guided schedule does, each default task takes at most a ``2 * slots``-th of
    what remains, so the last tasks hold one image each and the workers finish together.
    """
    if per_task is not None:
        return [todo[i:i + per_task] for i in range(0, len(todo), per_task)]
    largest = max(1, min(16, len(todo) // (8 * slots)))
    groups, i = [], 0
    while i < len(todo):
        size = min(largest, max(1, -(-(len(todo) - i) // (2 * slots))))
        groups.append(todo[i:i + size])
        i += size
    return groups


def _run(runner, todo, per_task, table, summary, client, scheduler, n_workers, progress, threads, max_pixels,
         start_timeout):
    from dask.utils import apply
    from distributed import as_completed

    client, to_close = _connect(client, scheduler, n_workers)
    in_flight = {}  # future -> its group of paths
    try:
        client.register_plugin(_thread_plugin(threads))
        shipped = _load_on_a_worker(client, runner, start_timeout)
        slots = max(1, sum(client.nthreads().values()))
        groups = _groups(todo, per_task, slots)
        # a bounded window of tasks in flight: millions of inputs never sit in the scheduler at once
        window = max(4, 3 * slots)
        pending = iter(groups)

        def submit(group):
            # dask.utils.apply, not a cvcore function: the task itself always deserialises
            fut = client.submit(apply, shipped, (group, max_pixels), pure=False)
            in_flight[fut] = group
            return fut

        def write(records):
            table.write("".join(json.dumps(rec) + "\n" for rec in records))
            table.flush()
            for rec in records:
                summary["done" if rec["status"] == "ok" else "failed"] += 1
            bar.update(len(records), status=f"{summary['failed']} failed")

        # A task that killed its workers fails as a whole, and so may a task that only waited on a worker that
        # another task killed. Its images are retried: several at once, one image per task; a single image,
        # alone on the cluster once the rest is done, so that only an image that kills workers by itself fails.
        suspects = []
        running = as_completed([submit(g) for _, g in zip(range(window), pending)])
        with _progress.progress_reporter(len(todo), "images", progress) as bar:
            for fut in running:
                group = in_flight.pop(fut)
                try:
                    records = fut.result()
                except Exception:  # noqa: BLE001 - the task itself failed (e.g. workers died running it)
                    records = []
                    if len(group) > 1:
                        for path in group:
                            running.add(submit([path]))
                    else:
                        suspects.append(group[0])
                fut.release()
                if records:
                    write(records)
                nxt = next(pending, None) if records or len(group) == 1 else None
                if nxt is not None:
                    running.add(submit(nxt))
            for path in suspects:
                fut = submit([path])
                try:
                    records = fut.result()
                except Exception as exc:  # noqa: BLE001 - alone, it still fails: this image is the cause
                    records = [{"path": path, "status": "error", "error": _one_line(exc), "time": None}]
                in_flight.pop(fut)
                fut.release()
                write(records)
    finally:
        for fut in in_flight:
            fut.cancel()
        for thing in to_close:
            thing.close()
