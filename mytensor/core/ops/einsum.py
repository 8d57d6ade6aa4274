"""einsum: Einstein summation, composed from views, `sum` and `matmul`.

The equation is parsed into one list of labels per operand (letters, and integers for
the dims an ellipsis stands for, aligned from the right as broadcasting aligns them).
Each operand first loses its repeated labels (a diagonal view) and the labels no one
else needs (a sum); then the operands are contracted pairwise, left to right, each
pair as one batched `matmul`. Every step is a differentiable op, so the gradient (of
any order) is free and every backend runs it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mytensor.core.ops._base import check_tensor
from mytensor.core.ops.linalg import matmul
from mytensor.core.ops.statistical import sum as sum_
from mytensor.core.tensor import Tensor

__all__ = ["einsum"]

Label = str | int  # a letter, or the position of a dim covered by the ellipsis


def einsum(equation: str, *operands: Tensor | Sequence[Tensor]) -> Tensor:
    """Sum of products of the operands' elements as `equation` says, e.g. ``"ij,jk->ik"``
    (matrix product), ``"bij,bjk->bik"`` (batched), ``"ii->i"`` (diagonal), ``"ii"``
    (trace), ``"...ij->...ji"`` (ellipsis). Without ``->`` the output has the ellipsis
    dims, then the letters used once, alphabetically. Size-1 dims broadcast. The
    operands may also come as one list.

    >>> import mytensor as mt
    >>> a, b = mt.ones(2, 3), mt.ones(3, 4)
    >>> mt.einsum("ij,jk->ik", a, b).shape, mt.einsum("ij,jk", [a, b]).shape
    ((2, 4), (2, 4))
    >>> mt.einsum("ii", mt.tensor([[1.0, 2.0], [3.0, 4.0]])).item()
    5.0
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): equation must be a str, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    tensors = [check_tensor("einsum", t, f"operands[{i}]") for i, t in enumerate(operands)]
    inputs, output = _parse(equation, tensors)
    sizes = _sizes(inputs, tensors)
    pairs = enumerate(zip(tensors, inputs, strict=True))
    terms = [_remove_repeats(t, labels, i) for i, (t, labels) in pairs]
    for i, (t, labels) in enumerate(terms):
        elsewhere = {lb for j, (_, other) in enumerate(terms) if j != i for lb in other}
        terms[i] = _sum_out(t, labels, elsewhere | set(output))
    result, labels = terms[0]
    for k in range(1, len(terms)):
        later = {lb for _, other in terms[k + 1 :] for lb in other} | set(output)
        result, labels = _contract(result, labels, *terms[k], later, sizes)
    result, labels = _sum_out(result, labels, set(output))
    return result.permute(*(labels.index(lb) for lb in output))


# -- parsing ------------------------------------------------------------------------------
def _letters(op_term: str, where: str) -> list[str]:
    for ch in op_term.replace("...", ""):
        if not ch.isascii() or not ch.isalpha():
            raise ValueError(
                f"einsum(): invalid subscript {ch!r} in {where}; subscripts are the letters "
                "a-z and A-Z, with at most one '...'"
            )
    if op_term.count("...") > 1 or op_term.replace("...", "").count(".") > 0:
        raise ValueError(f"einsum(): {where} may hold one '...' (three dots) at most")
    return list(op_term.replace("...", ""))


def _parse(equation: str, tensors: list[Tensor]) -> tuple[list[list[Label]], list[Label]]:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(tensors):
        raise ValueError(
            f"einsum(): the equation {equation!r} has {len(terms)} operand(s) but "
            f"{len(tensors)} were given"
        )
    extents = []
    for i, (term, t) in enumerate(zip(terms, tensors, strict=True)):
        letters = _letters(term, f"operand {i}'s subscripts {term!r}")
        covered = t.ndim - len(letters)
        if ("..." not in term and covered != 0) or covered < 0:
            raise ValueError(
                f"einsum(): the subscripts {term!r} of operand {i} name {len(letters)} "
                f"dimension(s) but the operand has shape {t.shape}"
                + ("" if "..." in term else " (add '...' to stand for the others)")
            )
        extents.append(covered)
    width = max(extents, default=0)
    inputs: list[list[Label]] = []
    for term, covered in zip(terms, extents, strict=True):
        head, _, tail = term.partition("...")
        dots: list[Label] = list(range(width - covered, width)) if "..." in term else []
        inputs.append([*head, *dots, *tail])
    if not arrow:
        counts = [lb for labels in inputs for lb in labels if isinstance(lb, str)]
        once = sorted(lb for lb in set(counts) if counts.count(lb) == 1)
        return inputs, [*range(width), *once]
    letters = _letters(rhs, f"the output subscripts {rhs!r}")
    used = {lb for labels in inputs for lb in labels}
    for lb in letters:
        if letters.count(lb) > 1:
            raise ValueError(f"einsum(): output subscript {lb!r} appears more than once")
        if lb not in used:
            raise ValueError(
                f"einsum(): output subscript {lb!r} does not appear in the subscripts of any "
                "operand"
            )
    head, _, tail = rhs.partition("...")
    dots = list(range(width)) if "..." in rhs else []
    return inputs, [*head, *dots, *tail]


def _sizes(inputs: list[list[Label]], tensors: list[Tensor]) -> dict[Label, int]:
    """Each label's size after broadcasting (size-1 dims stretch); clashes are errors."""
    sizes: dict[Label, int] = {}
    for i, (labels, t) in enumerate(zip(inputs, tensors, strict=True)):
        _check_repeats(labels, t.shape, i)
        for lb, size in zip(labels, t.shape, strict=True):
            seen = sizes.get(lb, 1)
            if size != seen and 1 not in (size, seen):
                what = f"subscript {lb!r}" if isinstance(lb, str) else "an ellipsis dimension"
                raise ValueError(
                    f"einsum(): {what} has size {size} in operand {i}, which does not "
                    f"broadcast with the size {seen} seen before"
                )
            sizes[lb] = size if seen == 1 else seen
    return sizes


def _check_repeats(labels: list[Label], shape: tuple[int, ...], i: int) -> None:
    """A label repeated within one operand takes a diagonal: its sizes must be equal."""
    first: dict[Label, int] = {}
    for lb, size in zip(labels, shape, strict=True):
        if first.setdefault(lb, size) != size:
            raise ValueError(
                f"einsum(): subscript {lb!r} is repeated for operand {i} but the sizes don't "
                f"match, {first[lb]} != {size}"
            )


# -- steps --------------------------------------------------------------------------------
def _remove_repeats(t: Tensor, labels: list[Label], i: int) -> tuple[Tensor, list[Label]]:
    """Diagonal views for a label repeated within one operand (``"ii->i"``)."""
    labels = list(labels)
    while len(set(labels)) < len(labels):
        lb = next(lb for lb in labels if labels.count(lb) > 1)
        p = labels.index(lb)
        q = labels.index(lb, p + 1)
        n = t.shape[p]
        rest = [d for d in range(t.ndim) if d not in (p, q)]
        square = t.permute(*rest, p, q).reshape(*(t.shape[d] for d in rest), n * n)
        t = square[..., :: n + 1] if n else square
        labels = [labels[d] for d in rest] + [lb]
    return t, labels


def _sum_out(t: Tensor, labels: list[Label], keep: set[Label]) -> tuple[Tensor, list[Label]]:
    dims = tuple(d for d, lb in enumerate(labels) if lb not in keep)
    if not dims:
        return t, labels
    return sum_(t, axis=dims, dtype=t.dtype), [lb for lb in labels if lb in keep]


def _contract(a: Tensor, la: list[Label], b: Tensor, lb: list[Label], keep: set[Label],
              sizes: dict[Label, int]) -> tuple[Tensor, list[Label]]:  # fmt: skip
    """One pairwise step: ``(batch, left, summed) @ (batch, summed, right)``."""
    a, la = _sum_out(a, la, keep | set(lb))
    b, lb = _sum_out(b, lb, keep | set(la))
    batch = [x for x in la if x in lb and x in keep]
    summed = [x for x in la if x in lb and x not in keep]
    left = [x for x in la if x not in lb]
    right = [x for x in lb if x not in la]
    a = _arranged(a, la, batch, left + summed, sizes, summed)
    b = _arranged(b, lb, batch, summed + right, sizes, summed)
    nb = len(batch)
    k = math.prod(sizes[x] for x in summed)
    left_sizes = a.shape[nb : nb + len(left)]
    right_sizes = b.shape[b.ndim - len(right) :]
    a = a.reshape(*a.shape[:nb], math.prod(left_sizes), k)
    b = b.reshape(*b.shape[:nb], k, math.prod(right_sizes))
    out = matmul(a, b)
    out = out.reshape(*out.shape[:nb], *left_sizes, *right_sizes)
    return out, batch + left + right


def _arranged(t: Tensor, labels: list[Label], batch: list[Label], rest: list[Label],
              sizes: dict[Label, int], stretch: list[Label]) -> Tensor:  # fmt: skip
    """`t` permuted to (batch..., rest...), with the `stretch` dims broadcast to full size
    (the summed dims must agree for the matmul; the batch dims broadcast in it)."""
    t = t.permute(*(labels.index(x) for x in batch + rest))
    target = tuple(
        sizes[x] if x in stretch else s for x, s in zip(batch + rest, t.shape, strict=True)
    )
    return t if target == t.shape else t.expand(*target)
