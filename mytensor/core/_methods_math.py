"""The math, linear algebra, comparison and random-fill methods of PyTorch (mm, bmm, addmm, norm, fmod, allclose, uniform_, normal_, ...), as a mixin of `Tensor`.

The methods are written in the class body so that type checkers, IDEs and `help()`
see them. The op modules import `Tensor`, so each method imports its op module when
called rather than at the top of this file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mytensor.core.tensor import Tensor  # noqa: F401


class MathMethods:
    __slots__ = ()
