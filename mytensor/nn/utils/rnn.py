"""Variable-length sequences for the recurrent layers, as `torch.nn.utils.rnn`.

A `PackedSequence` stores a batch of sequences of different lengths without padding: the
sequences are sorted by decreasing length, and `data` holds their time steps interleaved,
step 0 of every sequence, then step 1 of those that have one, and so on; ``batch_sizes[t]``
counts the sequences that are still running at step t. RNN, LSTM and GRU take one and run
each sequence only over its true steps.

>>> import mytensor as mt
>>> from mytensor.nn.utils.rnn import pack_sequence, pad_packed_sequence
>>> packed = pack_sequence([mt.tensor([1.0, 2.0, 3.0]), mt.tensor([4.0, 5.0])])
>>> packed.data.tolist(), packed.batch_sizes.tolist()
([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
>>> padded, lengths = pad_packed_sequence(packed, batch_first=True)
>>> padded.tolist(), lengths.tolist()
([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]], [3, 2])
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

from mytensor.core.creation import full, tensor
from mytensor.core.dtypes import int64
from mytensor.core.ops.shape import cat, stack
from mytensor.core.tensor import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


class PackedSequence(NamedTuple):
    """A packed batch of variable-length sequences (see the module docstring): `data`
    (sum of lengths, *), `batch_sizes` (int64, one per time step), and the permutation
    `sorted_indices` that sorted the batch by length with its inverse `unsorted_indices`
    (both None when the batch came sorted).

    >>> import mytensor as mt
    >>> from mytensor.nn.utils.rnn import pack_sequence
    >>> p = pack_sequence([mt.ones(1, 2), mt.ones(3, 2)], enforce_sorted=False)
    >>> p.data.shape, p.batch_sizes.tolist(), p.sorted_indices.tolist()
    ((4, 2), [2, 1, 1], [1, 0])
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same packing with `data` converted by ``data.to(*args, **kwargs)``.

        >>> import mytensor as mt
        >>> from mytensor.nn.utils.rnn import pack_sequence
        >>> pack_sequence([mt.ones(2)]).to(mt.float64).data.dtype
        mytensor.float64
        """
        return self._replace(data=self.data.to(*args, **kwargs))

    @property
    def is_cuda(self) -> bool:
        return str(self.data.device).startswith("cuda")


def _int_list(op: str, values: Any) -> list[int]:
    if isinstance(values, Tensor) or hasattr(values, "tolist"):
        values = values.tolist()
    try:
        return [operator.index(v) for v in values]
    except TypeError:
        raise TypeError(f"{op}: lengths must be integers, got {values!r}") from None


def _indices(values: list[int], like: Tensor) -> Tensor:
    return tensor(values, dtype=int64, backend=like.backend)


def _padding(x: Tensor, shape: tuple[int, ...], value: float) -> Tensor:
    return full(shape, value, dtype=x.dtype, backend=x.backend)


def pack_padded_sequence(
    input: Tensor, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with `batch_first`) whose sequence b
    has ``lengths[b]`` true steps. With `enforce_sorted` the lengths must be decreasing;
    otherwise the batch is sorted here and the permutation kept in the result.

    >>> import mytensor as mt
    >>> from mytensor.nn.utils.rnn import pack_padded_sequence
    >>> x = mt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])
    >>> p = pack_padded_sequence(x, [3, 2], batch_first=True)
    >>> p.data.tolist(), p.batch_sizes.tolist()
    ([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
    """
    op = "pack_padded_sequence"
    lens = _int_list(op, lengths)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dims (T, B, *), got {input.shape}")
    x = input.transpose(0, 1) if batch_first else input
    steps, batch = x.shape[0], x.shape[1]
    if len(lens) != batch:
        raise ValueError(
            f"{op}: got {len(lens)} lengths for a batch of {batch} sequences (input shape "
            f"{input.shape}, batch_first={batch_first}); give one length per sequence"
        )
    if any(n <= 0 for n in lens):
        raise RuntimeError(
            f"{op}: Length of all samples has to be greater than 0, but found an element in "
            f"'lengths' that is <= 0 (lengths {lens})"
        )
    if max(lens) > steps:
        raise ValueError(
            f"{op}: a length {max(lens)} exceeds the sequence length {steps} of the input "
            f"(shape {input.shape}, batch_first={batch_first}); lengths must be <= {steps}"
        )
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in itertools.pairwise(lens)):
            raise RuntimeError(
                f"{op}: `lengths` array must be sorted in decreasing order when "
                f"`enforce_sorted` is True (got {lens}). You can pass `enforce_sorted=False` "
                "to pack_padded_sequence and/or pack_sequence to sidestep this requirement."
            )
    else:
        order = sorted(range(batch), key=lambda i: -lens[i])
        inverse = [0] * batch
        for pos, i in enumerate(order):
            inverse[i] = pos
        sorted_indices, unsorted_indices = _indices(order, x), _indices(inverse, x)
        x = x.index_select(1, sorted_indices)
        lens = [lens[i] for i in order]
    batch_sizes = [sum(1 for n in lens if n > t) for t in range(lens[0])]
    data = cat([x[t, :b] for t, b in enumerate(batch_sizes)], 0)
    return PackedSequence(data, _indices(batch_sizes, x), sorted_indices, unsorted_indices)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """The inverse of `pack_padded_sequence`: ``(padded, lengths)`` with padded (T, B, *)
    (or (B, T, *) with `batch_first`) in the batch's original order, T the longest length
    or `total_length`, and the padding filled with `padding_value`.

    >>> import mytensor as mt
    >>> from mytensor.nn.utils.rnn import pack_sequence, pad_packed_sequence
    >>> p = pack_sequence([mt.tensor([1.0]), mt.tensor([2.0, 3.0])], enforce_sorted=False)
    >>> padded, lengths = pad_packed_sequence(p, padding_value=-1.0, total_length=3)
    >>> padded.tolist(), lengths.tolist()
    ([[1.0, 2.0], [-1.0, 3.0], [-1.0, -1.0]], [1, 2])
    """
    data, sizes = sequence.data, _int_list("pad_packed_sequence", sequence.batch_sizes)
    steps, batch, feat = len(sizes), sizes[0], tuple(data.shape[1:])
    if total_length is not None and total_length < steps:
        raise ValueError(
            "pad_packed_sequence: Expected total_length to be at least the length of the "
            f"longest sequence in input, but got total_length={total_length} and max sequence "
            f"length being {steps}"
        )
    rows, offset = [], 0
    for b in sizes:
        step = data[offset : offset + b]
        if b < batch:
            step = cat([step, _padding(data, (batch - b, *feat), padding_value)], 0)
        rows.append(step)
        offset += b
    padded = stack(rows, 0)
    if total_length is not None and total_length > steps:
        extra = _padding(data, (total_length - steps, batch, *feat), padding_value)
        padded = cat([padded, extra], 0)
    lengths = [sum(1 for b in sizes if b > i) for i in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = [lengths[i] for i in _int_list("pad_packed_sequence", sequence.unsorted_indices)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lengths, dtype=int64, backend=data.backend)


def pad_sequence(
    sequences: Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack tensors of shapes (L_i, *) into (T, B, *) (or (B, T, *) with `batch_first`),
    T the longest L_i, padding each on the `padding_side` ("right" or "left").

    >>> import mytensor as mt
    >>> from mytensor.nn.utils.rnn import pad_sequence
    >>> seqs = [mt.tensor([1.0, 2.0]), mt.tensor([3.0])]
    >>> pad_sequence(seqs, batch_first=True).tolist()
    [[1.0, 2.0], [3.0, 0.0]]
    >>> pad_sequence(seqs, batch_first=True, padding_side="left").tolist()
    [[1.0, 2.0], [0.0, 3.0]]
    """
    if padding_side not in ("right", "left"):
        raise ValueError(
            f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}"
        )
    if len(sequences) == 0:
        raise ValueError("pad_sequence: received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for i, s in enumerate(sequences):
        if s.ndim == 0 or tuple(s.shape[1:]) != trailing:
            raise ValueError(
                f"pad_sequence: every sequence must be (L_i, *{trailing}), but sequence {i} "
                f"has shape {s.shape} (sequence 0: {sequences[0].shape})"
            )
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        if s.shape[0] == longest:
            padded.append(s)
            continue
        fill = _padding(s, (longest - s.shape[0], *trailing), padding_value)
        padded.append(cat([s, fill] if padding_side == "right" else [fill, s], 0))
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors: `pad_sequence` then `pack_padded_sequence`.

    >>> import mytensor as mt
    >>> from mytensor.nn.utils.rnn import pack_sequence
    >>> pack_sequence([mt.tensor([1.0, 2.0]), mt.tensor([3.0])]).data.tolist()
    [1.0, 3.0, 2.0]
    """
    lengths = [s.shape[0] if s.ndim else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Any, batch_first: bool = False
) -> list[Tensor]:
    """The inverse of `pad_sequence`: the list of (lengths[b], *) sequences.

    >>> import mytensor as mt
    >>> from mytensor.nn.utils.rnn import unpad_sequence
    >>> [s.tolist() for s in unpad_sequence(mt.tensor([[1.0, 2.0], [3.0, 0.0]]), [2, 1], True)]
    [[1.0, 2.0], [3.0]]
    """
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, :n] for b, n in enumerate(_int_list("unpad_sequence", lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The inverse of `pack_sequence`: the list of sequences, in their original order.

    >>> import mytensor as mt
    >>> from mytensor.nn.utils.rnn import pack_sequence, unpack_sequence
    >>> p = pack_sequence([mt.tensor([1.0]), mt.tensor([2.0, 3.0])], enforce_sorted=False)
    >>> [s.tolist() for s in unpack_sequence(p)]
    [[1.0], [2.0, 3.0]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
