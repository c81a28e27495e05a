"""cvcore.batch and `cvcore batch` on a real LocalCluster of 2 worker processes."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

def _workers_can_import_this_module():
    """Pickled test functions name their module ("tests.test_batch" in pytest's importlib mode). Put a
    folder holding only a link to tests/ on the path workers get (multiprocessing hands spawned workers the
    parent's sys.path), so they import this module but still the installed cvcore, never the checkout."""
    import tempfile

    here = os.path.dirname(os.path.abspath(__file__))
    name = __name__.split(".")[0] if "." in __name__ else None
    if name is None:
        return
    folder = tempfile.mkdtemp(prefix="cvcore-test-path-")
    os.symlink(here, os.path.join(folder, name))
    sys.path.append(folder)  # spawned workers take the parent's sys.path; appended, so cvcore stays the installed one


_workers_can_import_this_module()

from cvcore import batch, io  # noqa: E402
from cvcore.cli import main  # noqa: E402
from cvcore.segmentation import PixelSegmenter  # noqa: E402

# the helper functions below travel to the workers by value (this test module is not importable there)
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def grey_mean(image):
    return float(np.mean(image))


def slow_grey_mean(image):
    time.sleep(0.4)
    return float(np.mean(image))


def die_on_wide_images(image):
    if image.shape[1] > 100:
        os._exit(3)  # the worker process dies, every time it gets this image
    return 0


def kernel_threads(image):
    import cvcore

    return cvcore.get_num_threads()


def _board(shift):
    board = np.kron(np.indices((7, 10)).sum(axis=0) % 2, np.ones((16, 16))) * 200 + 30
    return np.pad(board, 30 + shift, constant_values=230).astype(np.uint8)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(3)
    for i in range(5):
        io.imwrite(str(d / f"noise{i}.png"), rng.integers(0, 256, (60 + i, 80), dtype=np.uint8))
    (d / "sub").mkdir()
    io.imwrite(str(d / "sub" / "board0.png"), _board(0))
    io.imwrite(str(d / "sub" / "board1.png"), np.dstack([_board(5)] * 3))
    (d / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (d / "notes.txt").write_text("not an image, and not collected from a folder")
    return d


def _inputs(folder):
    return batch.find_images(str(folder))


def _child_env():
    """Environment for ``python -m cvcore``: the cvcore this process imported comes first."""
    import cvcore

    parent = os.path.dirname(os.path.dirname(os.path.abspath(cvcore.__file__)))
    return dict(os.environ, PYTHONPATH=parent + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _table(out):
    records = batch.read_records(out)
    paths = [r["path"] for r in records]
    assert len(paths) == len(set(paths)), "a path has two records"
    return {r["path"]: r for r in records}


def test_find_images_walks_folders_globs_and_keeps_explicit_missing_files(folder):
    found = _inputs(folder)
    assert len(found) == 8 and not any(p.endswith(".txt") for p in found)
    assert found[-2:] == [os.path.join(str(folder), "sub", "board0.png"), os.path.join(str(folder), "sub", "board1.png")]
    assert batch.find_images(str(folder / "**" / "board*.png")) == found[-2:]
    assert batch.find_images(["missing.png", "missing.png"]) == ["missing.png"]
    with pytest.raises(FileNotFoundError, match="no file matches"):
        batch.find_images(str(folder / "*.gif"))
    with pytest.raises(ValueError, match="at least one"):
        batch.find_images([])
    with pytest.raises(TypeError, match="inputs"):
        batch.find_images([3])


@pytest.mark.parametrize("op", [batch.Detect(min_neighbors=0), batch.FelzenszwalbCount(), batch.Corners((9, 6))],
                         ids=["detect", "felzenszwalb", "corners"])
def test_builtin_operations_match_a_plain_loop(client, folder, tmp_path, op):
    out = tmp_path / "r.jsonl"
    summary = batch.map_images(op, str(folder), out=str(out), client=client, progress=False)
    table = _table(out)
    inputs = _inputs(folder)
    assert set(table) == set(inputs)
    assert summary["done"] == 7 and summary["failed"] == 1 and summary["skipped"] == 0
    for path in inputs:
        rec = table[path]
        if path.endswith("corrupt.png"):
            assert rec["status"] == "error" and "ValueError" in rec["error"] and "\n" not in rec["error"]
            continue
        assert rec["status"] == "ok" and rec["time"] >= 0, rec
        assert rec["result"] == json.loads(json.dumps(op.run(io.imread(path, grey=op.grey), path)))
    if isinstance(op, batch.Corners):
        assert [table[p]["result"]["found"] for p in inputs[-2:]] == [True, True]
        assert table[inputs[1]]["result"] == {"found": False,
                                              "reason": "no complete, unambiguous 9x6 inner-corner board"}


def test_segment_writes_masks_beside_the_table(client, folder, tmp_path):
    img = io.imread(os.path.join(str(folder), "sub", "board0.png"))
    labels = np.zeros(img.shape, np.uint8)
    labels[30:35, 30:40], labels[50:53, 50:56] = 1, 2  # light border, a dark square
    seg = PixelSegmenter("knn", sigmas=(1.0,)).fit(img, labels)
    model = tmp_path / "seg.npz"
    seg.save(str(model))
    masks = tmp_path / "masks"
    batch.map_images(batch.Segment(str(model), str(masks)), str(folder / "sub"), out=str(tmp_path / "r.jsonl"),
                     client=client, progress=False)
    table = _table(tmp_path / "r.jsonl")
    for path, rec in table.items():
        expected = seg.predict(io.imread(path, grey=True))
        np.testing.assert_array_equal(io.imread(rec["result"]["mask"]), expected)
        assert rec["result"]["counts"] == {str(v): int(c) for v, c in zip(*np.unique(expected, return_counts=True))}
        assert os.path.dirname(rec["result"]["mask"]) == str(masks)


def test_resume_processes_only_what_is_missing_and_drops_a_cut_line(client, folder, tmp_path):
    out = tmp_path / "r.jsonl"
    batch.map_images(grey_mean, str(folder), out=str(out), client=client, progress=False)
    lines = out.read_bytes().split(b"\n")
    out.write_bytes(b"\n".join(lines[:3]) + b"\n" + lines[3][:10])  # three records and a line cut by a crash
    summary = batch.map_images(grey_mean, str(folder), out=str(out), client=client, progress=False)
    assert summary["skipped"] == 3 and summary["done"] + summary["failed"] == 5
    table = _table(out)
    assert set(table) == set(_inputs(folder))
    again = batch.map_images(grey_mean, str(folder), out=str(out), client=client, progress=False)
    assert again["skipped"] == 8 and again["done"] == 0
    fresh = batch.map_images(grey_mean, str(folder), out=str(out), client=client, progress=False, resume=False)
    assert fresh["skipped"] == 0 and len(_table(out)) == 8


def test_a_killed_worker_has_its_tasks_rerun_and_nothing_is_recorded_twice(client, folder, tmp_path):
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one(done, total, description):
        if done >= 1 and not killed:  # both workers are busy with a 0.4 s task now
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    out = tmp_path / "r.jsonl"
    inputs = _inputs(folder)
    summary = batch.map_images(slow_grey_mean, inputs, out=str(out), client=client, progress=kill_one, per_task=1)
    assert killed
    table = _table(out)
    assert set(table) == set(inputs) and summary["done"] == 7 and summary["failed"] == 1
    for path in inputs:
        if not path.endswith("corrupt.png"):
            assert table[path]["result"] == grey_mean(io.imread(path))
    client.wait_for_workers(2, timeout=30)  # the nanny restarted the killed worker
    assert pids[0] not in client.run(os.getpid).values()


def test_workers_use_one_kernel_thread_by_default(client, folder, tmp_path):
    out = tmp_path / "r.jsonl"
    batch.map_images(kernel_threads, str(folder / "sub"), out=str(out), client=client, progress=False)
    assert {r["result"] for r in _table(out).values()} == {1}
    batch.map_images(kernel_threads, str(folder / "sub"), out=str(out), client=client, progress=False,
                     resume=False, threads=2)
    assert {r["result"] for r in _table(out).values()} == {2}


def test_large_images_are_refused_with_a_message(client, folder, tmp_path):
    out = tmp_path / "r.jsonl"
    summary = batch.map_images(grey_mean, str(folder / "sub"), out=str(out), client=client, progress=False,
                               max_pixels=1000)
    assert summary["failed"] == 2
    assert all("max_pixels=1000" in r["error"] for r in _table(out).values())


def test_a_function_the_workers_cannot_import_is_a_clear_error_not_a_hang(client, folder, tmp_path, monkeypatch):
    # a module importable here only: the workers started before its folder joined sys.path
    (tmp_path / "only_on_the_client.py").write_text("def mean(image):\n    return 0.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import only_on_the_client  # pickled by reference: it is in sys.modules here

    out = tmp_path / "r.jsonl"
    t0 = time.perf_counter()
    try:
        with pytest.raises(batch.ClusterError, match="cannot load the operation.*No module named "
                                                     "'only_on_the_client'"):
            batch.map_images(only_on_the_client.mean, str(folder / "sub"), out=str(out), client=client,
                             progress=False)
    finally:
        del sys.modules["only_on_the_client"]
    assert time.perf_counter() - t0 < 30 and batch.read_records(out) == []
    # the workers are fine afterwards
    assert batch.map_images(grey_mean, str(folder / "sub"), out=str(out), client=client, progress=False)["done"] == 2


def test_a_cluster_without_workers_is_a_clear_error_not_a_hang(folder, tmp_path):
    with distributed.LocalCluster(n_workers=0, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        with pytest.raises(batch.ClusterError, match=r"within start_timeout=0.5 s \(the cluster has 0 workers\)"):
            batch.map_images(grey_mean, str(folder / "sub"), out=str(tmp_path / "r.jsonl"), client=c,
                             progress=False, start_timeout=0.5)
        proc = subprocess.run([sys.executable, "-m", "cvcore", "batch", "detect", str(folder / "sub"), "--out",
                               str(tmp_path / "c.jsonl"), "--scheduler", cluster.scheduler_address,
                               "--start-timeout", "0.5"], capture_output=True, text=True, cwd=tmp_path,
                              env=_child_env(), timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("cvcore batch: error: no worker loaded the operation within start_timeout=0.5 s")


@pytest.mark.parametrize("ext, channels", [(ext, c) for ext in (".png", ".jpg", ".bmp", ".tif", ".webp")
                                           for c in (1, 3)] + [(".pgm", 1), (".ppm", 3)])
def test_header_size_is_the_decoded_size_for_each_container(tmp_path, ext, channels):
    import cv2

    from cvcore._image_header import header_size

    image = np.random.default_rng(0).integers(0, 256, (23, 37) + ((3,) if channels == 3 else ()), dtype=np.uint8)
    path = str(tmp_path / ("x" + ext))
    assert cv2.imwrite(path, image)
    assert header_size(path) == (37, 23) == cv2.imread(path, cv2.IMREAD_UNCHANGED).shape[1::-1]


def test_header_size_is_none_when_unknown(tmp_path):
    from cvcore._image_header import header_size

    (tmp_path / "a.txt").write_text("P6 but not really")
    (tmp_path / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00")
    (tmp_path / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    (tmp_path / "empty.bmp").write_bytes(b"")
    for name in ("a.txt", "cut.png", "cut.jpg", "empty.bmp", "missing.png"):
        assert header_size(str(tmp_path / name)) is None, name


def _png_claiming(width, height):
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
            + b"\x00\x00\x00\x0aIDAT" + zlib.compress(b"\x00" * 64)[:10] + b"\x00" * 4)


def test_a_file_claiming_a_huge_size_is_refused_before_decoding(client, tmp_path):
    d = tmp_path / "huge"
    d.mkdir()
    (d / "huge.png").write_bytes(_png_claiming(100_000, 90_000))
    # a baseline JPEG whose frame header claims 60000 x 50000 (three components), no scan data
    (d / "huge.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                                 b"\xff\xc0\x00\x11\x08\xc3\x50\xea\x60\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01")
    io.imwrite(str(d / "small.png"), np.zeros((20, 30), np.uint8))
    out = tmp_path / "r.jsonl"
    summary = batch.map_images(grey_mean, str(d), out=str(out), client=client, progress=False)
    table = {os.path.basename(p): r for p, r in _table(out).items()}
    assert summary["done"] == 1 and summary["failed"] == 2 and table["small.png"]["result"] == 0.0
    assert table["huge.png"]["error"].startswith("ValueError: image is 100000x90000 (9000.0 Mpx) by its file header, "
                                                 "refused before decoding, above the per-task cap max_pixels=67108864")
    assert table["huge.jpg"]["error"].startswith("ValueError: image is 60000x50000 (3000.0 Mpx) by its file header")


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"func": 3}, TypeError, "func must be"),
    ({"n_workers": 2}, ValueError, "not both"),
    ({"client": None, "n_workers": 0}, ValueError, "n_workers"),
    ({"client": None, "scheduler": 8786}, TypeError, "scheduler"),
    ({"client": "local"}, TypeError, "client"),
    ({"out": "."}, IsADirectoryError, "directory"),
    ({"out": "nodir/r.jsonl"}, FileNotFoundError, "folder does not exist"),
    ({"resume": "yes"}, TypeError, "resume"),
    ({"threads": 0}, ValueError, "threads"),
    ({"progress": "bar"}, TypeError, "progress"),
    ({"per_task": 0}, ValueError, "per_task"),
    ({"start_timeout": 0}, ValueError, "start_timeout"),
    ({"func": lambda image, lock=__import__("threading").Lock(): 0}, TypeError, "func cannot be sent to the workers"),
])
def test_bad_arguments_are_refused_before_any_work(client, folder, tmp_path, kwargs, exc, match):
    args = {"func": grey_mean, "inputs": str(folder), "out": str(tmp_path / "r.jsonl"), "client": client,
            "progress": False, **kwargs}
    if args["out"] in (".", "nodir/r.jsonl"):
        args["out"] = str(tmp_path / args["out"])
    with pytest.raises(exc, match=match):
        batch.map_images(**args)
    assert not (tmp_path / "r.jsonl").exists()


def test_cli_batch_on_a_scheduler_address(client, folder, tmp_path):
    out = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "cvcore", "batch", "corners", str(folder), "--out", str(out), "--pattern", "9x6",
           "--scheduler", client.scheduler.address]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=_child_env(), timeout=120)
    assert proc.returncode == 1, proc.stderr  # one image failed (the corrupt one)
    assert "7 done, 1 failed, 0 skipped" in proc.stdout and "images/s" in proc.stdout
    assert len(_table(out)) == 8
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=_child_env(), timeout=120)
    assert "0 done, 0 failed, 8 skipped" in proc.stdout and proc.returncode == 0


@pytest.mark.parametrize("argv, match", [
    (["batch", "detect", "img.png"], "--out"),
    (["batch", "segment", "img.png", "--out", "r.jsonl"], "segment needs --model"),
    (["batch", "propose", "img.png", "--out", "r.jsonl", "--model", "m.npz"], "--model is for detect and segment"),
    (["batch", "detect", "img.png", "--out", "r.jsonl", "--workers", "0"], "--workers must be"),
    (["batch", "detect", "img.png", "--out", "r.jsonl", "--workers", "2", "--scheduler", "tcp://x:1"], "not both"),
    (["batch", "detect", "img.png", "--out", "sub"], "is a directory"),
    (["batch", "corners", "img.png", "--out", "r.jsonl", "--pattern", "2x6"], "pattern_size"),
    (["batch", "detect", "img.png", "--out", "r.jsonl", "--model", "missing.json"], "not found"),
])
def test_cli_errors_are_one_line_with_status_2(tmp_path, monkeypatch, capsys, argv, match):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err, err


@pytest.mark.slow
def test_embedded_local_cluster_by_default(folder, tmp_path):
    out = tmp_path / "r.jsonl"
    summary = batch.map_images(grey_mean, str(folder / "sub"), out=str(out), n_workers=1, progress=False)
    assert summary["done"] == 2 and len(_table(out)) == 2


@pytest.fixture
def fragile_client():
    """A cluster of its own for tests whose images kill workers: a task fails after two deaths (not four),
    and a nanny that gives up restarting after many quick deaths cannot leave the shared cluster empty."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.mark.slow
def test_an_image_that_kills_every_worker_becomes_an_error_record(fragile_client, folder, tmp_path):
    out = tmp_path / "r.jsonl"
    summary = batch.map_images(die_on_wide_images, str(folder / "sub"), out=str(out), client=fragile_client,
                               progress=False)
    table = _table(out)
    assert summary["failed"] == 2 and len(table) == 2
    assert all("KilledWorker" in r["error"] for r in table.values()), table


@pytest.mark.slow
def test_only_the_image_that_kills_workers_fails_not_the_others_of_its_task(fragile_client, folder, tmp_path):
    out = tmp_path / "r.jsonl"
    summary = batch.map_images(die_on_wide_images, str(folder), out=str(out), client=fragile_client,
                               progress=False, per_task=8)  # one task for all 8 images: two of them kill workers
    table = _table(out)
    assert len(table) == 8 and summary["done"] == 5 and summary["failed"] == 3
    for path, rec in table.items():
        if "board" in path:
            assert "KilledWorker" in rec["error"], rec
        elif path.endswith("corrupt.png"):
            assert "ValueError" in rec["error"], rec
        else:
            assert rec["status"] == "ok" and rec["result"] == 0, rec


def test_ctrl_c_stops_a_batch_and_the_table_stays_resumable(interrupt_check, folder, tmp_path):
    out = tmp_path / "r.jsonl"
    code = f"""
import sys, time, cloudpickle, distributed
from cvcore import batch
def slow(image):
    time.sleep(1.0)
    return 1
with distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster, \\
        distributed.Client(cluster) as client:
    batch.map_images(slow, {str(folder / "sub")!r}, out={str(out)!r}, client=client, progress=False, per_task=1)
    print("READY", flush=True)
    batch.map_images(slow, {str(folder)!r}, out={str(out)!r}, client=client, progress=False, per_task=1)
"""
    interrupt_check(code, within=5.0)
    table = _table(out)  # whole records only, each path once
    assert 2 <= len(table) < 8
    assert all(r["status"] == "ok" for p, r in table.items() if not p.endswith("corrupt.png"))


def test_default_tasks_shrink_towards_the_end_and_keep_every_image_once_in_order():
    from cvcore.batch import _groups

    todo = [f"img{i}.png" for i in range(200)]
    groups = _groups(todo, None, 2)
    assert [p for g in groups for p in g] == todo
    sizes = [len(g) for g in groups]
    assert max(sizes) == 12 and sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
    assert [len(g) for g in _groups(todo[:10], 3, 2)] == [3, 3, 3, 1]  # an explicit per_task is kept
    assert [len(g) for g in _groups(todo[:7], None, 2)] == [1] * 7


def test_local_cluster_workers_keep_the_default_allocator_and_run_batches(tmp_path):
    from distributed import Client

    def trim_setting():
        return os.environ.get("MALLOC_TRIM_THRESHOLD_")

    with batch.local_cluster(1) as cluster, Client(cluster) as client:
        assert list(client.run(trim_setting).values()) == [os.environ.get("MALLOC_TRIM_THRESHOLD_")]
        path = tmp_path / "a.png"
        io.imwrite(path, np.zeros((40, 40), np.uint8))
        summary = batch.map_images(batch.FelzenszwalbCount(), [str(path)], out=tmp_path / "r.jsonl",
                                   client=client, progress=False)
        assert summary["done"] == 1
