"""The machine a benchmark ran on, for its JSON (kd_gain.py,
benchmark_distill.py, tools/demo/domain_demo.py): training's float results
depend on the CPU's kernels (oneDNN and MKL pick them by its flags), the
thread count and the library versions."""
import os
import platform
import re
import sys
from pathlib import Path

ENV = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'MKL_CBWR', 'ONEDNN_MAX_CPU_ISA',
       'DNNL_MAX_CPU_ISA', 'ATEN_CPU_CAPABILITY')


def machine():
    """The CPU (model name; vendor, family, model and stepping; its avx*,
    avx512*, amx* and fma flags; ``bf16``: whether it has bf16
    instructions), the CPU count, this process's torch threads, the
    versions of torch, oneDNN, BLAS, numpy, opencv and python, the GPU, the
    platform and the environment variables that choose threads or kernels."""
    import cv2
    import numpy
    import torch
    cpuinfo = Path('/proc/cpuinfo')  # Linux; its first processor's block
    cpuinfo = cpuinfo.read_text().split('\n\n')[0] if cpuinfo.exists() else ''
    info = dict(re.findall(r'^(\S[^\t:]*?)\s*: (.*)$', cpuinfo, re.M))
    flags = set((info.get('flags') or info.get('Features', '')).split())
    config = torch.__config__.show()
    onednn = re.search(r'(?:MKL-DNN|oneDNN) (v[\d.]+)', config)
    blas = re.search(r'BLAS_INFO=(\w+)', config)
    cuda = torch.cuda.is_available()
    return dict(
        cpu=info.get('model name') or platform.processor(),
        cpu_id=' '.join(f'{key} {info[key]}' for key in (
            'vendor_id', 'cpu family', 'model', 'stepping') if key in info),
        cpu_count=os.cpu_count(),
        cpu_flags=sorted(f for f in flags if re.match('avx|amx|fma', f)),
        bf16=bool(flags & {'avx512_bf16', 'amx_bf16', 'bf16'}),
        torch=torch.__version__,
        torch_threads=torch.get_num_threads(),
        torch_cpu_capability=torch.backends.cpu.get_cpu_capability(),
        onednn=onednn.group(1) if onednn else None,
        blas=blas.group(1) if blas else None,
        gpu=torch.cuda.get_device_name() if cuda else None,
        cuda=torch.version.cuda if cuda else None,
        cudnn=torch.backends.cudnn.version() if cuda else None,
        numpy=numpy.__version__,
        opencv=cv2.__version__,
        python=sys.version.split()[0],
        platform=platform.platform(),
        env={k: os.environ[k] for k in ENV if k in os.environ})
