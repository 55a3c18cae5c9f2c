"""Params, State and Acc as one pointer each in compiled code.

numba passes a named tuple by value: every field, and each array field's 7 words, becomes a scalar
argument of every compiled function, about 1,400 for the kernels' three tuples, and LLVM spends
most of the kernels' compile time splitting them (docs/speed.md). So the kernels take each tuple
*packed*: `pack(t)` copies the fields (the arrays' headers, not their data) into one struct that
numba allocates, and the kernels receive a pointer to it. Reading `P.x` in a kernel is then a load
from that struct, and writing `S.x[i]` writes the same array buffer as the named tuple's: the
tuple stays the Python-side object, and the packed copy only lives as long as the run.

Two numba types:

- `Packed`, a `numba.experimental.structref` type with the tuple's fields: the storage. It is
  built by a compiled, cached function (`pack`), which holds a reference to each array; its Python
  object (`PackedProxy`) frees the struct, and lets go of the arrays, when it is dropped.
- `View`, what the kernels see: a plain pointer to that struct, with read-only attributes. It
  needs no reference counting, so the kernels keep being compiled without it (`jit.py`): a
  `Packed` argument would be unboxed with a reference that such a kernel never releases, and its
  attributes cannot be read without numba's runtime. The caller keeps the `PackedProxy` alive
  while a kernel runs (it is the argument).

Nothing here depends on the tuples' field lists: a field added to `Params` is packed as the others.
The argument types change with the fields, so numba's cache compiles anew after such a change.
"""

from __future__ import annotations

import hashlib

from numba.core import cgutils, imputils, types
from numba.core.datamodel import models
from numba.core.extending import (
    NativeValue,
    infer_getattr,
    intrinsic,
    lower_getattr_generic,
    register_model,
    unbox,
)
from numba.core.typing.templates import AttributeTemplate
from numba.experimental import structref
from numba.experimental.jitclass.base import imp_dtor

from simulation.engine.kernels.jit import once_per_run


@structref.register
class Packed(types.StructRef):
    """The struct holding a named tuple's fields; `label` is the tuple's class name."""

    def __init__(self, label: str, fields) -> None:
        self.label = label
        super().__init__(fields)
        self.name = f"{label}Packed{self._fields}"

    def preprocess_fields(self, fields):
        return tuple((n, types.unliteral(t)) for n, t in fields)


class View(types.Type):
    """A pointer to a `Packed` struct, read-only: the type of P, S and A inside the kernels."""

    def __init__(self, packed: Packed) -> None:
        self.packed = packed
        digest = hashlib.sha256(packed.name.encode()).hexdigest()[:12]
        super().__init__(name=f"{packed.label}View_{digest}")

    @property
    def key(self):
        return self.packed


class PackedProxy(structref.StructRefProxy):
    """The Python object of a packed tuple; compiled code sees it as a `View`."""

    __slots__ = ()

    @property
    def _numba_type_(self) -> View:
        return _view_of(self._type)


structref.define_boxing(Packed, PackedProxy)

_VIEWS: dict[Packed, View] = {}


def _view_of(packed: Packed) -> View:
    view = _VIEWS.get(packed)
    if view is None:
        view = _VIEWS[packed] = View(packed)
    return view


@register_model(View)
class _ViewModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type: View) -> None:
        payload = dmm.lookup(fe_type.packed.get_data_type()).get_value_type()
        super().__init__(dmm, fe_type, payload.as_pointer())


@infer_getattr
class _ViewAttribute(AttributeTemplate):
    key = View

    def generic_resolve(self, typ: View, attr: str):
        return dict(typ.packed._fields).get(attr)


@lower_getattr_generic(View)
def _view_getattr(context, builder, typ: View, val, attr: str):
    """A field of the struct. The load is marked invariant: nothing writes the struct while a kernel
    runs (the kernels write into the arrays, never the arrays' headers or the scalars), so LLVM may
    keep a field in a register across the kernels' stores instead of reloading it after each."""
    index = context.data_model_manager[typ.packed.get_data_type()].get_field_position(attr)
    value = builder.load(cgutils.gep_inbounds(builder, val, 0, index))
    value.set_metadata("invariant.load", builder.module.add_metadata([]))
    return imputils.impl_ret_borrowed(context, builder, dict(typ.packed._fields)[attr], value)


@unbox(View)
def _unbox_view(typ: View, obj, c):
    """The struct's address, read from the proxy's MemInfo (`_meminfo.data`); no reference taken."""
    is_error = cgutils.alloca_once_value(c.builder, cgutils.true_bit)
    out = cgutils.alloca_once(c.builder, c.context.get_value_type(typ))
    meminfo = c.pyapi.object_getattr_string(obj, "_meminfo")
    with cgutils.if_likely(c.builder, cgutils.is_not_null(c.builder, meminfo)):
        address = c.pyapi.object_getattr_string(meminfo, "data")
        c.pyapi.decref(meminfo)
        with cgutils.if_likely(c.builder, cgutils.is_not_null(c.builder, address)):
            pointer = c.pyapi.long_as_voidptr(address)
            c.pyapi.decref(address)
            c.builder.store(c.builder.bitcast(pointer, out.type.pointee), out)
            c.builder.store(cgutils.is_not_null(c.builder, c.pyapi.err_occurred()), is_error)
    return NativeValue(c.builder.load(out), is_error=c.builder.load(is_error))


def packed_type(tup: types.BaseNamedTuple) -> Packed:
    """The `Packed` type of a named tuple's numba type: what `pack` makes of such a tuple."""
    return Packed(tup.instance_class.__name__, list(zip(tup.fields, tup.types, strict=True)))


def view_type(tup: types.BaseNamedTuple) -> View:
    """The type the kernels see for a tuple of numba type `tup` once packed (their signatures'
    argument type, which `simulation.engine.precompile` needs before anything is packed)."""
    return _view_of(packed_type(tup))


@intrinsic
def _pack(typingctx, tup):
    """A new `Packed` struct holding every field of the named tuple `tup` (a reference to each array)."""
    if not isinstance(tup, types.BaseNamedTuple):
        return None
    packed = packed_type(tup)

    def codegen(context, builder, signature, args):
        data_type = packed.get_data_type()
        alloc_type = context.data_model_manager[data_type].get_value_type()
        meminfo = context.nrt.meminfo_alloc_dtor(
            builder,
            context.get_constant(types.uintp, context.get_abi_sizeof(alloc_type)),
            imp_dtor(context, builder.module, packed),
        )
        pointer = builder.bitcast(context.nrt.meminfo_data(builder, meminfo), alloc_type.as_pointer())
        payload = cgutils.create_struct_proxy(data_type)(context, builder, ref=pointer)
        for i, (name, ty) in enumerate(packed._fields):
            value = context.cast(builder, builder.extract_value(args[0], i), tup.types[i], ty)
            context.nrt.incref(builder, ty, value)
            setattr(payload, name, value)
        ref = context.make_helper(builder, packed)
        ref.meminfo = meminfo
        return ref._getvalue()

    return packed(tup), codegen


@once_per_run
def pack(t):
    """`t` (Params, State or Acc) packed for the kernels (a `PackedProxy`): their argument in place of the tuple."""
    return _pack(t)
