"""cvcore.haar against scikit-image's haar_like_feature (same windows, same coordinates)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from skimage.feature import haar_like_feature, haar_like_feature_coord
from skimage.transform import integral_image

from cvcore.haar import FEATURE_TYPES, FeatureTable, haar_feature_values, haar_features


def test_count_24x24_all_types():
    table = haar_features((24, 24))
    assert len(table) == 162336
    per_type = np.bincount(table.types, minlength=5)
    expected = [haar_like_feature_coord(24, 24, t)[0].shape[0] for t in FEATURE_TYPES.values()]
    assert per_type.tolist() == expected


@pytest.mark.parametrize("kind", list(FEATURE_TYPES))
def test_coordinates_match_skimage(kind):
    """Each feature covers exactly scikit-image's rectangles (same order)."""
    w, h = 9, 7
    table = haar_features((w, h), types=[kind])
    coords, _ = haar_like_feature_coord(w, h, FEATURE_TYPES[kind])
    assert len(table) == len(coords)
    for i in range(0, len(coords), 17):
        rects = np.array(coords[i])            # (n_rects, 2, 2): [(r0, c0), (r1, c1)]
        r0, c0 = rects[:, 0].min(0)
        r1, c1 = rects[:, 1].max(0)
        whole = table.rects[i][0] if kind in ("three_horizontal", "three_vertical", "four") else None
        if whole is not None:   # compact form: first rectangle is the whole feature
            assert whole.tolist() == [c0, r0, c1 - c0 + 1, r1 - r0 + 1]
        else:
            got = sorted(tuple(r) for r in table.rects[i][:2].tolist())
            want = sorted((c[0][1], c[0][0], c[1][1] - c[0][1] + 1, c[1][0] - c[0][0] + 1) for c in coords[i])
            assert got == want


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float64])
def test_values_equal_skimage(rng, dtype):
    windows = (rng.random((2, 24, 24)) * 255).astype(dtype)
    table = haar_features((24, 24))
    ours = haar_feature_values(windows, table)
    assert ours.dtype == np.float32 and ours.shape == (2, 162336)
    for k in range(2):
        ref = haar_like_feature(integral_image(windows[k]), 0, 0, 24, 24)
        if dtype == np.float64:
            assert_allclose(ours[k], ref, rtol=1e-5, atol=1e-3)
        else:
            assert_array_equal(ours[k], ref.astype(np.float32))


def test_integral_input_equals_image_input(rng):
    windows = rng.integers(0, 256, (5, 12, 10)).astype(np.uint8)
    table = haar_features((10, 12))
    ii = np.zeros((5, 13, 11))
    ii[:, 1:, 1:] = windows.cumsum(1).cumsum(2)
    assert_array_equal(haar_feature_values(ii, table), haar_feature_values(windows, table))


def test_chunking_is_invisible(rng):
    windows = rng.integers(0, 256, (600, 8, 8)).astype(np.uint8)   # > one chunk of 256
    table = haar_features((8, 8))
    whole = haar_feature_values(windows, table)
    parts = np.concatenate([haar_feature_values(windows[i:i + 7], table) for i in range(0, 600, 7)])
    assert_array_equal(whole, parts)


def test_normalisation_is_opencvs(rng):
    windows = rng.integers(0, 256, (4, 24, 24)).astype(np.uint8)
    table = haar_features((24, 24))[::997]
    raw = haar_feature_values(windows, table).astype(np.float64)
    inner = windows[:, 1:-1, 1:-1].astype(np.float64)
    area = 22 * 22
    nf = np.sqrt(area * (inner ** 2).sum((1, 2)) - inner.sum((1, 2)) ** 2)
    assert_allclose(haar_feature_values(windows, table, normalize=True), raw / nf[:, None], rtol=1e-5)
    flat = np.full((1, 24, 24), 7, np.uint8)
    assert_array_equal(haar_feature_values(flat, table, normalize=True), haar_feature_values(flat, table))


def test_subset_and_single_window():
    table = haar_features((4, 4), types=["two_horizontal"])
    window = np.tile(np.arange(4), (4, 1))
    assert haar_feature_values(window, table)[0, 0] == 1.0
    sub = table[[0, 3]]
    assert isinstance(sub, FeatureTable) and len(sub) == 2


def test_errors_are_clear():
    table = haar_features((6, 6))
    with pytest.raises(ValueError, match="6x6 windows"):
        haar_feature_values(np.zeros((2, 5, 6)), table)
    with pytest.raises(TypeError, match="FeatureTable"):
        haar_feature_values(np.zeros((2, 6, 6)), "features")
    with pytest.raises(ValueError, match="normalize=True needs"):
        haar_feature_values(np.zeros((2, 7, 7)), table, normalize=True)
    with pytest.raises(ValueError, match="finite"):
        haar_feature_values(np.full((1, 6, 6), np.nan), table)
    with pytest.raises(ValueError, match="types must be one of"):
        haar_features((6, 6), types=["diagonal"])
    with pytest.raises(ValueError, match="window width must be"):
        haar_features((0, 6))
    with pytest.raises(TypeError, match="window"):
        haar_features(24)
    with pytest.raises(ValueError, match="out must be"):
        haar_feature_values(np.zeros((2, 6, 6)), table, out=np.empty((1, 1), np.float32))


# ---------------------------------------------------------------- issue 9: nothing reaches the kernel unchecked

def _two_rect(x_offset):
    rects = np.zeros((1, 3, 4), np.int64)
    rects[0, 0] = [x_offset, 0, 2, 4]
    rects[0, 1] = [2, 0, 2, 4]
    return rects


@pytest.mark.parametrize("offset", [2_000_000_000, 30, -1])
def test_feature_table_rejects_rectangles_outside_the_window(offset):
    """Issue 9 regression: an offset of 2e9 crashed the interpreter, 30 read garbage."""
    with pytest.raises(ValueError, match="rects"):
        table = FeatureTable((4, 4), _two_rect(offset), [[-1, 1, 0]], [0])
        haar_feature_values(np.zeros((1, 4, 4), np.uint8), table)


def test_feature_table_checks_weights_types_and_lengths():
    good = _two_rect(0)
    assert len(FeatureTable((4, 4), good, [[-1, 1, 0]], [0])) == 1
    with pytest.raises(ValueError, match="weights"):
        FeatureTable((4, 4), good, [[np.nan, 1, 0]], [0])
    with pytest.raises(ValueError, match="weights"):
        FeatureTable((4, 4), good, [[0, 1, 0]], [0])        # the kernel always reads rectangles 0 and 1
    with pytest.raises(ValueError, match="types"):
        FeatureTable((4, 4), good, [[-1, 1, 0]], [7])
    with pytest.raises(ValueError, match="types"):
        FeatureTable((4, 4), good, [[-1, 1, 0]], [0, 1])
    with pytest.raises(ValueError, match="rects"):
        FeatureTable((4, 4), good[:, :2], [[-1, 1, 0]], [0])
    with pytest.raises(ValueError, match="rects"):
        FeatureTable((4, 4), good.astype(float) + 0.5, [[-1, 1, 0]], [0])
    with pytest.raises(TypeError, match="window"):
        FeatureTable("24x24", good, [[-1, 1, 0]], [0])
    with pytest.raises(ValueError, match="weights"):
        FeatureTable((4, 4), good, [[-1, 1e39, 0]], [0])     # overflows float32


def test_feature_table_cannot_be_corrupted_after_validation():
    table = haar_features((6, 6), types=["two_horizontal"])
    with pytest.raises(ValueError, match="read-only"):
        table.rects[0, 0, 0] = 2_000_000_000
    with pytest.raises(AttributeError):
        table.rects = np.zeros((len(table), 3, 4), np.int32)
    with pytest.raises(AttributeError):
        table.anything = 1


def test_unused_third_rectangle_is_ignored_and_stored_as_zeros():
    rects = _two_rect(0)
    rects[0, 2] = [99, 99, 5, 5]                      # weight 0: unused
    table = FeatureTable((4, 4), rects, [[-1, 1, 0]], [0])
    assert table.rects[0, 2].tolist() == [0, 0, 0, 0]
    window = np.tile(np.arange(4), (4, 1))
    assert haar_feature_values(window, table)[0, 0] == 4 * (2 + 3) - 4 * (0 + 1)


def test_output_size_is_bounded():
    table = haar_features((24, 24))
    windows = np.broadcast_to(np.zeros((1, 24, 24), np.uint8), (10_000, 24, 24))
    with pytest.raises(ValueError, match="output values"):
        haar_feature_values(windows, table)


def test_normalize_must_be_a_bool():
    with pytest.raises(TypeError, match="normalize"):
        haar_feature_values(np.zeros((1, 6, 6)), haar_features((6, 6)), normalize="no")


def test_feature_table_pickles():
    import pickle

    table = haar_features((6, 6))[::7]
    again = pickle.loads(pickle.dumps(table))
    assert_array_equal(again.rects, table.rects)
    assert again.window == table.window


@pytest.mark.parametrize("dtype", [np.uint64, np.float64, np.int32])
def test_a_window_never_depends_on_its_neighbours(dtype):
    """Found by fuzzing: one huge window must not change the values of the others."""
    table = haar_features((6, 5))
    windows = np.random.default_rng(0).integers(0, 256, (4, 5, 6)).astype(dtype)
    alone = haar_feature_values(windows[1:], table, normalize=True)
    windows[0] = np.iinfo(dtype).max if dtype != np.float64 else 1e300
    assert_array_equal(haar_feature_values(windows, table, normalize=True)[1:], alone)


def test_feature_values_identical_for_any_thread_count():
    import cvcore

    table = haar_features((9, 7))
    windows = np.random.default_rng(5).integers(0, 256, (301, 7, 9)).astype(np.uint8)
    results = []
    for n in (1, 2, 3):
        with cvcore.num_threads(n):
            results.append(haar_feature_values(windows, table, normalize=True))
    assert_array_equal(results[0], results[1])
    assert_array_equal(results[0], results[2])


def test_out_may_be_a_block_of_a_bigger_matrix():
    table = haar_features((6, 6))
    windows = np.random.default_rng(6).random((11, 6, 6))
    whole = haar_feature_values(windows, table)
    big = np.full((11, len(table) + 5), -1, np.float32)
    got = haar_feature_values(windows, table[100:300], out=big[:, 3:203])
    assert got.base is big or got is big[:, 3:203] or np.shares_memory(got, big)
    assert_array_equal(big[:, 3:203], whole[:, 100:300])
    assert np.all(big[:, :3] == -1) and np.all(big[:, 203:] == -1)
    with pytest.raises(ValueError, match="contiguous rows"):
        haar_feature_values(windows, table[:10], out=np.empty((10, 11), np.float32).T)


def test_iter_feature_values_blocks_equal_the_full_matrix():
    from cvcore.haar import iter_haar_feature_values

    table = haar_features((8, 8))
    windows = np.random.default_rng(7).integers(0, 256, (13, 8, 8)).astype(np.uint8)
    whole = haar_feature_values(windows, table, normalize=True)
    starts = []
    for start, values in iter_haar_feature_values(windows, table, chunk_size=333, normalize=True):
        starts.append(start)
        assert values.shape == (13, min(333, len(table) - start))
        assert_array_equal(values, whole[:, start:start + 333])
    assert starts == list(range(0, len(table), 333))
    with pytest.raises(ValueError, match="chunk_size"):
        iter_haar_feature_values(windows, table, chunk_size=0)
    with pytest.raises(TypeError, match="features"):
        iter_haar_feature_values(windows, "all")
