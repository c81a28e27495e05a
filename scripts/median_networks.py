"""Generate the median selection networks compiled into cvcore/_ext/_rank.pyx.

Run ``python scripts/median_networks.py`` and paste its output over the block
between ``BEGIN GENERATED NETWORKS`` and ``END GENERATED NETWORKS`` in
``_rank.pyx`` (tests/test_filters.py checks that the two agree).

Method (the separable idea of Adams, "Fast median filters using separable
sorting networks", 2021): the kernel first sorts every horizontal run of k
padded pixels (row ``r``, rank ``i`` is input ``r * k + i``), once per padded
row; a k x k window is then k sorted rows, and two vertically adjacent
windows share k - 1 of them. The networks below merge sorted rows with
Batcher's odd-even merge; the shared rows are merged once for both outputs.

Every value is tracked as a min/max expression of the inputs together with its
truth table on all 0/1 inputs whose rows are sorted. By the 0-1 principle two
such expressions are equal for all inputs exactly when their tables agree, so
a comparison whose order is already known costs nothing, equal expressions
are computed once, and only the expressions the outputs depend on are kept.
Each output is checked against the true median on every 0/1 input, which (by
the same principle) proves the network for all inputs.

3x3 windows take their inputs unsorted instead (``CVR_MED3_RAW<n>``: n output
rows from the 3 x (n + 2) pixels around them, row ``r``, column offset ``s``
is input ``3 * r + s``): sorting a row of three costs only six operations, so
the kernel sorts in registers and reads the image directly, with no sorted
rows stored between passes. Rows go two at a time, sharing their two middle
rows; four rows are two such pairs sharing the sorts of their common rows.
Every output of a four-row network is the very same min/max expression as in
the two-row one (checked here), so results do not depend on how rows are
grouped, even where a comparison is not a total order (NaN, -0.0 and 0.0).
"""
import itertools
import re
import sys

import numpy as np


def odd_even_merge(a, b):
    """Comparators merging sorted position lists ``a`` and ``b``; returns (pairs, merged order)."""
    if not a or not b:
        return [], a + b
    if len(a) == 1 and len(b) == 1:
        return [(a[0], b[0])], [a[0], b[0]]
    p_even, even = odd_even_merge(a[0::2], b[0::2])
    p_odd, odd = odd_even_merge(a[1::2], b[1::2])
    pairs, merged = p_even + p_odd, [even[0]]
    rest = even[1:]
    for i in range(max(len(rest), len(odd))):
        if i < len(odd) and i < len(rest):
            pairs.append((odd[i], rest[i]))
            merged += [odd[i], rest[i]]
        else:
            merged.append(odd[i] if i < len(odd) else rest[i])
    return pairs, merged


class Network:
    """A min/max expression DAG over inputs with 0/1 truth tables (see the module notes)."""

    def __init__(self, tables):
        self.tables = list(tables)
        self.nodes = [("in", i, None) for i in range(len(self.tables))]
        self.known = {t.tobytes(): i for i, t in enumerate(self.tables)}

    def _node(self, op, a, b, table):
        key = table.tobytes()
        if key not in self.known:
            self.nodes.append((op, a, b))
            self.tables.append(table)
            self.known[key] = len(self.tables) - 1
        return self.known[key]

    def exchange(self, a, b):
        ta, tb = self.tables[a], self.tables[b]
        return self._node("MN", a, b, np.minimum(ta, tb)), self._node("MX", a, b, np.maximum(ta, tb))

    def merge(self, x, y):
        pairs, order = odd_even_merge(list(range(len(x))), list(range(len(x), len(x) + len(y))))
        w = list(x) + list(y)
        for i, j in pairs:
            w[i], w[j] = self.exchange(w[i], w[j])
        return [w[i] for i in order]

    def merge_all(self, rows):
        """Balanced merge tree of sorted lists."""
        rows = list(rows)
        while len(rows) > 1:
            nxt = [self.merge(rows[i], rows[i + 1]) for i in range(0, len(rows) - 1, 2)]
            rows = nxt + ([rows[-1]] if len(rows) % 2 else [])
        return rows[0]

    def live(self, outputs):
        """Computed nodes the outputs depend on, in order."""
        need, stack = set(), list(outputs)
        while stack:
            v = stack.pop()
            if v not in need:
                need.add(v)
                if self.nodes[v][0] != "in":
                    stack += self.nodes[v][1:]
        return sorted(need)


def sorted_row_tables(nrows, k):
    """Truth tables of ``nrows`` sorted rows of k inputs: every 0/1 input with sorted rows."""
    cases = list(itertools.product(range(k + 1), repeat=nrows))
    t = np.zeros((nrows * k, len(cases)), np.uint8)
    for c, ones in enumerate(cases):
        for r, m in enumerate(ones):
            t[r * k + k - m:r * k + k, c] = 1
    return t


def _mn(net, a, b):
    return net.exchange(a, b)[0]


def _mx(net, a, b):
    return net.exchange(a, b)[1]


def _med3(net, a, b, c):
    """Median of three in four operations: max(min(a, b), min(max(a, b), c))."""
    lo, hi = net.exchange(a, b)
    return _mx(net, lo, _mn(net, hi, c))


def _med3x3(net, rows):
    """3x3 median from three sorted rows (Paeth's rule): the median of the largest
    minimum, the median of the middles and the smallest maximum. For four rows
    (two windows) the two shared rows are combined once."""
    lo, mid, hi = ([r[i] for r in rows] for i in range(3))
    lo12, hi12 = _mx(net, lo[1], lo[2]), _mn(net, hi[1], hi[2])
    m_lo, m_hi = net.exchange(mid[1], mid[2])
    out = []
    for e in ([0] if len(rows) == 3 else [0, 3]):
        m = _mx(net, m_lo, _mn(net, m_hi, mid[e]))
        out.append(_med3(net, _mx(net, lo12, lo[e]), m, _mn(net, hi12, hi[e])))
    return out


def median_network(k, pair):
    """(Network, outputs) for one k x k window, or (``pair``) two sharing k - 1 rows.

    Batcher merges of the sorted rows, or for 3x3 the median-of-three rule when
    that needs fewer operations."""
    nrows = k + 1 if pair else k
    tables = sorted_row_tables(nrows, k)
    net = Network(tables)
    rows = [list(range(r * k, r * k + k)) for r in range(nrows)]
    mid = k * k // 2
    if pair:
        shared = net.merge_all(rows[1:k])
        outputs = [net.merge(shared, rows[0])[mid], net.merge(shared, rows[k])[mid]]
        windows = [range(0, k), range(1, k + 1)]
    else:
        outputs, windows = [net.merge_all(rows)[mid]], [range(k)]
    if k == 3:
        alt = Network(tables)
        alt_out = _med3x3(alt, rows)
        if len(alt.live(alt_out)) < len(net.live(outputs)):
            net, outputs = alt, alt_out
    for out, win in zip(outputs, windows):
        idx = [r * k + i for r in win for i in range(k)]
        truth = np.sort(tables[idx], axis=0)[mid]
        assert (net.tables[out] == truth).all(), "median network is wrong"
    return net, outputs


def sort_network(k):
    """(Network, outputs) sorting k inputs (any order): the per-row sort."""
    cases = np.array(list(itertools.product((0, 1), repeat=k)), np.uint8).T
    net = Network(cases)
    outs = net.merge_all([[i] for i in range(k)])
    truth = np.sort(cases, axis=0)
    for i, o in enumerate(outs):
        assert (net.tables[o] == truth[i]).all(), "sort network is wrong"
    return net, outs


def raw_median3_network(nout):
    """(Network, outputs) for ``nout`` vertically adjacent 3x3 medians from raw pixels:
    every row of three sorted in the network, then pairs of outputs by the
    median-of-three rule (:func:`_med3x3`), an odd last output alone."""
    nrows = nout + 2
    tables = np.array(list(itertools.product((0, 1), repeat=3 * nrows)), np.uint8).T
    net = Network(tables)
    rows = [net.merge_all([[3 * r], [3 * r + 1], [3 * r + 2]]) for r in range(nrows)]
    outputs, j = [], 0
    while j < nout:
        step = 2 if j + 1 < nout else 1
        outputs += _med3x3(net, rows[j:j + step + 2])
        j += step
    for j, out in enumerate(outputs):
        truth = np.sort(tables[3 * j:3 * j + 9], axis=0)[4]
        assert (net.tables[out] == truth).all(), "median network is wrong"
    return net, outputs


def expression(net, v, memo=None):
    """The min/max expression of node ``v`` as text (structure, not value)."""
    memo = {} if memo is None else memo
    if v not in memo:
        op, a, b = net.nodes[v]
        memo[v] = f"in{a}" if op == "in" else f"{op}({expression(net, a, memo)},{expression(net, b, memo)})"
    return memo[v]


def raw_median3_networks():
    """Networks for 1, 2 and 4 output rows; the outputs of the 4-row one, shifted
    to rows 0 and 1, must be the expressions of the 2-row one."""
    nets = {n: raw_median3_network(n) for n in (1, 2, 4)}
    pair, pair_out = nets[2]
    quad, quad_out = nets[4]
    want = [expression(pair, o) for o in pair_out]
    for first in (0, 2):
        shift = {f"in{i}": f"in{i - 3 * first}" for i in range(3 * first, 3 * (first + 4))}
        got = [re.sub(r"in\d+", lambda m: shift[m.group(0)], expression(quad, o)) for o in quad_out[first:first + 2]]
        assert got == want, "the 4-row network computes a row differently from the 2-row one"
    single, single_out = nets[1]
    assert expression(single, single_out[0]) == want[0], "a lone row differs from a pair's first"
    return nets


def c_macro(name, net, outputs):
    """The network as C macros: ``name`` is the loop body over ``x``, ``name_IN`` and
    ``name_OUT`` declare its input and output pointers (``cvr_in<i>[x]`` is input i,
    ``cvr_out<j>[x]`` output j, taken from the arrays ``cvr_src``/``cvr_dst``);
    ``CVR_T`` is the value type, ``CVR_MN``/``CVR_MX`` min and max, ``CVR_LD`` wraps
    every input read (see _rank.pyx)."""
    live = net.live(outputs)
    inputs = [v for v in live if net.nodes[v][0] == "in"]
    lines = []
    for v in live:
        op, a, b = net.nodes[v]
        lines.append(f"CVR_T v{v} = CVR_LD(cvr_in{a}[x]);" if op == "in" else f"CVR_T v{v} = CVR_{op}(v{a}, v{b});")
    lines += [f"cvr_out{j}[x] = v{o};" for j, o in enumerate(outputs)]

    def wrap(items):
        rows, row = [], ""
        for s in items:
            if len(row) + len(s) > 100:
                rows.append(row)
                row = ""
            row += (" " if row else "") + s
        return rows + [row]

    decl_in = [f"const CVR_T *restrict cvr_in{i} = cvr_src[{i}];" for i in inputs]
    decl_out = [f"CVR_T *restrict cvr_out{j} = cvr_dst[{j}];" for j in range(len(outputs))]
    ops = len(live) - len(inputs)
    text = [f"/* {name}: {len(inputs)} inputs, {len(outputs)} outputs, {ops} min/max operations */"]
    for suffix, items in (("_IN", decl_in), ("_OUT", decl_out), ("", ["{"] + lines + ["}"])):
        text.append(f"#define {name}{suffix} " + " \\\n    ".join(wrap(items)))
    return "\n".join(text)


def generate():
    parts = [c_macro(f"CVR_MED3_RAW{n}", *net) for n, net in raw_median3_networks().items()]
    parts.append(c_macro("CVR_SORT5", *sort_network(5)))
    parts.append(c_macro("CVR_MED5", *median_network(5, False)))
    parts.append(c_macro("CVR_MED5_PAIR", *median_network(5, True)))
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(generate())
