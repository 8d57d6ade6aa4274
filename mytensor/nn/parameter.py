"""`Parameter`: a tensor that a `Module` registers as one of its learnable weights."""

from __future__ import annotations

from mytensor.core.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that is a module's weight: assigning one to a `Module` attribute
    registers it, so `parameters()`, `state_dict()` and optimizers see it.

    It shares `data`'s buffer (no copy) and requires grad unless told otherwise.
    Ops on a Parameter return plain tensors; only the weight itself is a Parameter.

    >>> import mytensor as mt
    >>> from mytensor.nn import Parameter
    >>> w = Parameter(mt.zeros(2))
    >>> w.requires_grad, w.is_leaf, type(w * 2).__name__
    (True, True, 'Tensor')
    >>> w
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            from mytensor.core.creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(): data must be a Tensor, got {type(data).__name__}; "
                "wrap it with mytensor.tensor(...) first"
            )
        p = cls._make(data._storage, data.shape, data._strides, data._offset, data.dtype)
        if requires_grad:
            p.requires_grad_(True)  # refuses non-float dtypes with a clear message
        return p

    def _set_data(self, data: Tensor) -> None:
        """Point this parameter at `data`'s values (what `Module.to` does), keeping the
        object, so optimizers and tied layers that hold it see the change."""
        self._storage, self.shape, self._strides = data._storage, data.shape, data._strides
        self._offset, self.dtype, self._desc = data._offset, data.dtype, None

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self) -> tuple:
        return (Parameter, (self.detach(), self.requires_grad))

    def __deepcopy__(self, memo: dict) -> Parameter:
        copied = Parameter(self.detach().clone(), self.requires_grad)
        if self.grad is not None:
            copied.grad = self.grad.detach().clone()
        memo[id(self)] = copied
        return copied
