"""Teacher forwards in a lower precision: under autocast of bf16 or fp16 on
the device they run on, in ``channels_last``, with every output cast back
to fp32 before any loss, state quantity or weighting sees it."""
from contextlib import nullcontext
from functools import partial

import torch
from mmcv.ops import RoIAlign
from mmengine.logging import print_log

from mtkd_mm.errors import BuildError
from mtkd_mm.ops import SeparableRoIAlign

PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def precision_dtype(precision):
    """The autocast dtype of ``precision`` (None for fp32); one line
    naming ``model.teacher_precision`` for an unknown precision or one that
    this machine's device cannot run."""
    if precision not in PRECISIONS:
        raise BuildError(f'model.teacher_precision must be one of '
                         f'{list(PRECISIONS)}, got {precision!r}')
    dtype = PRECISIONS[precision]
    if dtype is None:
        return None
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    try:
        with torch.no_grad(), torch.autocast(device, dtype=dtype):
            probe = torch.nn.functional.conv2d(
                torch.ones(1, 1, 2, 2, device=device),
                torch.ones(1, 1, 1, 1, device=device))
        assert probe.dtype == dtype
    except Exception as error:
        raise BuildError(
            f"model.teacher_precision '{precision}': this machine's {device} "
            f'cannot run it ({type(error).__name__}: {error})') from error
    if device == 'cpu' and not native_on_cpu(dtype):
        print_log(
            f"model.teacher_precision '{precision}': oneDNN has no native "
            f'{precision} kernels here (the CPU, or ONEDNN_MAX_CPU_ISA), so '
            'the teachers run emulated, slower than in fp32', 'current', 30)
    return dtype


def native_on_cpu(dtype):
    """Whether oneDNN runs ``dtype`` (bf16 or fp16) with this CPU's own
    instructions, within the ISA that ONEDNN_MAX_CPU_ISA allows."""
    if dtype is torch.bfloat16:
        return torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return torch.ops.mkldnn._is_mkldnn_fp16_supported()


def _fp32_inputs(module, args, kwargs, contiguous):
    """Forward pre-hook: floating tensors in as fp32, ``contiguous`` ones
    for mmcv's CPU kernels (which index their inputs as NCHW)."""
    def fp32(tensor):
        if not tensor.is_floating_point():
            return tensor
        return tensor.float().contiguous() if contiguous else tensor.float()

    return map_tensors(fp32, args), map_tensors(fp32, kwargs)


def is_mmcv_op(module):
    return type(module).__module__.startswith('mmcv.ops')


def op_owners(model, is_op):
    """The modules that call an op ``is_op`` recognises: each op's nearest
    ancestor that is not a container."""
    modules = dict(model.named_modules())
    containers = (torch.nn.ModuleList, torch.nn.ModuleDict,
                  torch.nn.Sequential)
    owners = {}
    for name, module in modules.items():
        if not name or not is_op(module):
            continue
        parent = name.rpartition('.')[0]
        while parent and isinstance(modules[parent], containers):
            parent = parent.rpartition('.')[0]
        owners[parent] = modules[parent]
    return list(owners.values())


def separable_roi_aligns(model):
    """Every mmcv ``RoIAlign`` of ``model`` in 'avg' mode replaced by
    :class:`SeparableRoIAlign`."""
    for name, module in list(model.named_modules()):
        if isinstance(module, RoIAlign) and module.pool_mode == 'avg':
            parent, _, child = name.rpartition('.')
            setattr(model.get_submodule(parent), child,
                    SeparableRoIAlign(module))


def prepare_teacher(model, dtype):
    """For a low-precision ``dtype``: weights in ``channels_last`` (the
    layout of oneDNN's and cuDNN's fast low-precision convolutions);
    mmcv's RoIAlign in its separable form, which runs in autocast's dtype;
    and the modules that call it or mmcv's other ops (which have no
    low-precision CPU kernels) fed in fp32, which also keeps the RoIs'
    coordinates exact. Nothing changes for fp32 (None)."""
    if dtype is None:
        return
    model.to(memory_format=torch.channels_last)
    separable_roi_aligns(model)
    for owner in op_owners(model,
                           lambda m: isinstance(m, SeparableRoIAlign)):
        owner.register_forward_pre_hook(
            partial(_fp32_inputs, contiguous=False), with_kwargs=True)
    for owner in op_owners(model, is_mmcv_op):
        owner.register_forward_pre_hook(
            partial(_fp32_inputs, contiguous=True), with_kwargs=True)


def autocast_inputs(inputs, dtype):
    """The context to run teachers in, and their (B, C, H, W) inputs:
    autocast of ``dtype``, or none for fp32 (also inside the student's
    ``--amp``, whose autocast is switched off for the teachers)."""
    device = inputs.device.type
    if dtype is None:
        return (torch.autocast(device, enabled=False)
                if torch.is_autocast_enabled(device) else nullcontext(),
                inputs)
    return (torch.autocast(device, dtype=dtype),
            inputs.contiguous(memory_format=torch.channels_last))


def map_tensors(fn, value):
    """``value`` with ``fn`` applied to every tensor in it (also inside
    dicts, lists, tuples and dataclasses)."""
    if torch.is_tensor(value):
        return fn(value)
    if isinstance(value, dict):
        return type(value)((k, map_tensors(fn, v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(map_tensors(fn, v) for v in value)
    if hasattr(value, '__dataclass_fields__'):
        return type(value)(**{name: map_tensors(fn, getattr(value, name))
                              for name in value.__dataclass_fields__})
    return value


def to_fp32(value):
    """``value`` with every floating tensor in it cast to fp32."""
    return map_tensors(
        lambda t: t.float() if t.is_floating_point() else t, value)
