"""The generator's byte assembly: rows built from constants and per-row columns equal their plain concatenation."""

from __future__ import annotations

import numpy as np
import pytest

from sample_data import colbytes as cb
from sample_data import pieces
from sample_data.fragments import varint
from sample_data.pieces import Fixed, Left, Part, Pick, Right, Table, Tokens, gather, index_matrix, pick


def _plain(parts: list[Part], i: int) -> bytes:
    """Row i of `parts`, one part at a time."""
    out = b""
    for p in parts:
        if isinstance(p, bytes):
            out += p
        elif isinstance(p, Fixed):
            out += p.mat[i].tobytes()
        elif isinstance(p, Right):
            out += p.mat[i, p.mat.shape[1] - p.lens[i]:].tobytes()
        elif isinstance(p, Left):
            out += p.mat[i, :p.lens[i]].tobytes()
        else:
            out += p.options[p.idx[i]]
    return out


def _groups(g: np.random.Generator, n: int) -> list[list[Part]]:
    """Row shapes that exercise every way parts merge: runs opened by a number, closed by a varint, or both."""
    nums = g.integers(0, 10**6, n)
    dec, dec_len = cb.decimal(nums)
    var, var_len = cb.varint(nums)
    tagged, tagged_len = cb.tagged_varint(0x12, nums)
    ids = cb.hexmat(np.frombuffer(g.bytes(8 * n), dtype=np.uint8).reshape(n, 8))
    choice = pick([b"a", b"bb", b"ccc"], g.integers(0, 3, n))
    return [
        [b'{"id":"', Fixed(ids), b'","n":', Right(dec, dec_len), b",", choice, b"}"],
        [Right(tagged, tagged_len), b"\x0a", Fixed(ids), b"\x10", Left(var, var_len), b"tail", choice],
        [choice, Right(dec, dec_len), b"mid", Left(var, var_len), Left(var, var_len), b"", choice, b"end"],
        [b"only constants ", pick([b"x", b"y"], np.zeros(n, dtype=np.int64)), b" merge"],
    ]


@pytest.mark.parametrize("large", [False, True])
def test_gathered_rows_are_the_parts_concatenated_in_output_order(monkeypatch: pytest.MonkeyPatch, large: bool) -> None:
    if large:  # 64-bit offsets, as for outputs past 2 GiB
        monkeypatch.setattr(pieces, "_LARGE", 0)
    g = np.random.default_rng(4)
    n = 50
    groups = _groups(g, n)
    assert any(isinstance(p, Pick) for p in groups[0])
    table = Table()
    mats = [index_matrix(table.seal(parts, n), n) for parts in groups]
    order = g.permutation(len(groups) * n)  # output position of every row, groups concatenated
    tok_on = g.random((len(order), 2)) < 0.3
    heads = [table.const(b"<" + str(i).encode() + b">") for i in range(2)]
    tok = np.tile(np.array(heads, dtype=np.int64), (len(order), 1))
    tokens = Tokens(tok, tok_on, np.full((len(order), 2), 3, dtype=np.int64), (table.const(b"!"),))
    rows = [(m, order[k * n:(k + 1) * n]) for k, (m, _) in enumerate(mats)]
    nbytes = int(sum(ln.sum() for _, ln in mats) + 3 * tok_on.sum() + 1)
    got = bytes(gather(table, rows, tokens, nbytes))
    want = [b""] * len(order)
    for k, parts in enumerate(groups):
        for i in range(n):
            at = order[k * n + i]
            want[at] = b"".join(b"<%d>" % s for s in range(2) if tok_on[at, s]) + _plain(parts, i)
            assert len(_plain(parts, i)) == mats[k][1][i]
    assert got == b"".join(want) + b"!"


def test_number_columns_match_python_formatting() -> None:
    g = np.random.default_rng(5)
    ints = np.concatenate([[0, 1, 9, 10, 127, 128, 16383, 16384], g.integers(0, 2**40, 200)]).astype(np.int64)
    mat, lens = cb.decimal(ints)
    assert [mat[i, mat.shape[1] - lens[i]:].tobytes() for i in range(len(ints))] == [str(v).encode() for v in ints]
    mat, lens = cb.varint(ints)
    assert [mat[i, :lens[i]].tobytes() for i in range(len(ints))] == [varint(int(v)) for v in ints]
    mat, lens = cb.tagged_varint(0x5A, ints)
    assert [mat[i, mat.shape[1] - lens[i]:].tobytes() for i in range(len(ints))] == \
        [b"\x5a" + varint(int(v)) for v in ints]
    ms = np.concatenate([[0.0, 0.0004, 0.0005, 1.0, 12.3456, 999.9995], g.random(200) * 5000])
    mat, lens = cb.milli(ms)
    assert [mat[i, mat.shape[1] - lens[i]:].tobytes() for i in range(len(ms))] == \
        [f"{int(k) // 1000}.{int(k) % 1000:03d}".encode() for k in np.round(ms * 1000)]
