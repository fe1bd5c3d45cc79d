"""The decoder's cross keys/values fed as one row for all beam rows (issue 19).

The exported decoder's inputs ``cross_k`` and ``cross_v`` ``[layers, n, heads, positions, dh]``
share the row dimension ``n`` with the beam's rows, so the encoder's one row had to be repeated
for every beam row, and each step the graph sliced and transposed three copies of the same
numbers. :func:`cross_rows_apart` gives those two inputs a dimension of their own (``c``, the
one byte of the name ``n`` changed in the serialized model: same length, nothing else moves);
one row is then fed and the graph's matrix products broadcast it over the beam rows, each row
computed as before (the same log-probabilities and caches, bit for bit). The page's decoder
(``server/static/local-onnx.js``, ``crossRowsApart``) does the same to the same file.

No ``onnx`` package is needed (it is a training dependency): the few protobuf fields on the
way to the two dimension names are walked here.
"""

from __future__ import annotations

from collections.abc import Iterator

#: ModelProto.graph, GraphProto.input, ValueInfoProto.name/.type, TypeProto.tensor_type,
#: TypeProto.Tensor.shape, TensorShapeProto.dim, Dimension.dim_param
GRAPH, INPUT, NAME, TYPE, TENSOR_TYPE, SHAPE, DIM, DIM_PARAM = 7, 11, 1, 2, 1, 2, 1, 2
CROSS = ("cross_k", "cross_v")


def varint(data: bytes, i: int) -> tuple[int, int]:
    """The varint at ``i`` and the index after it."""
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


def fields(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(field number, start, end) of each length-delimited field of the message in
    ``data[start:end]`` (other wire types skipped)."""
    i = start
    while i < end:
        key, i = varint(data, i)
        wire = key & 7
        if wire == 0:
            _, i = varint(data, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length, i = varint(data, i)
            yield key >> 3, i, i + length
            i += length
        else:
            raise ValueError(f"protobuf wire type {wire} at byte {i}")


def only(data: bytes, span: tuple[int, int], number: int) -> list[tuple[int, int]]:
    return [(s, e) for f, s, e in fields(data, *span) if f == number]


def row_dim_param(data: bytes, value_info: tuple[int, int]) -> tuple[str, int] | None:
    """The name of a ValueInfoProto and the byte offset of its second dimension's one-letter
    ``dim_param`` (None when it has no five dimensions or that name is longer)."""
    names = only(data, value_info, NAME)
    if not names:
        return None
    name = data[names[0][0] : names[0][1]].decode("utf-8", "replace")
    dims = [
        dim
        for kind in only(data, value_info, TYPE)
        for tensor in only(data, kind, TENSOR_TYPE)
        for shape in only(data, tensor, SHAPE)
        for dim in only(data, shape, DIM)
    ]
    if len(dims) != 5:
        return None
    param = only(data, dims[1], DIM_PARAM)
    if not param or param[0][1] - param[0][0] != 1:
        return None
    return name, param[0][0]


def cross_rows_apart(data: bytes) -> bytes | None:
    """The decoder with ``cross_k``/``cross_v`` rows named ``c`` instead of ``n`` (see the
    module docstring); None when the model does not have those inputs as expected."""
    out = bytearray(data)
    renamed = []
    try:
        for graph in only(data, (0, len(data)), GRAPH):
            for value_info in only(data, graph, INPUT):
                found = row_dim_param(data, value_info)
                if found is not None and found[0] in CROSS and data[found[1]] == ord("n"):
                    out[found[1]] = ord("c")
                    renamed.append(found[0])
    except (IndexError, ValueError):  # not a protobuf we can walk
        return None
    return bytes(out) if sorted(renamed) == sorted(CROSS) else None
