"""The machine record of the benchmarks' JSON (tools/analysis/machine.py)."""
import json
import re
from pathlib import Path

import torch

from tests.conftest import load_tool_module, run_in_process
from tests.test_distill.helpers import CLS_DISTILL

machine = load_tool_module('tools/analysis/machine.py').machine
FIELDS = {'cpu', 'cpu_id', 'cpu_count', 'cpu_flags', 'bf16', 'torch',
          'torch_threads', 'torch_cpu_capability', 'onednn', 'blas', 'gpu',
          'cuda', 'cudnn', 'numpy', 'opencv', 'python', 'platform', 'env'}


def test_record_names_the_cpu_threads_and_versions(monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '3')
    record = machine()
    assert set(record) == FIELDS
    assert json.loads(json.dumps(record)) == record
    assert record['torch'] == torch.__version__
    assert record['torch_threads'] == torch.get_num_threads()
    assert record['env'] == {'OMP_NUM_THREADS': '3'}
    if torch.backends.mkldnn.is_available():
        assert re.fullmatch(r'v\d+(\.\d+)+', record['onednn'])
    cpuinfo = Path('/proc/cpuinfo')
    if cpuinfo.exists():
        flags = set(re.search(r'^(?:flags|Features)\s*: (.*)$',
                              cpuinfo.read_text(), re.M).group(1).split())
        wanted = {f for f in flags if f == 'avx2' or f.startswith('avx512')
                  or f.startswith('amx')}
        assert wanted <= set(record['cpu_flags']) <= flags
        assert record['bf16'] == bool(
            flags & {'avx512_bf16', 'amx_bf16', 'bf16'})
        assert record['cpu']


def test_benchmark_distill_json_holds_the_machine(teacher_ckpts, workspace,
                                                  capsys):
    options = [f'model.teachers.{i}.checkpoint={c}'
               for i, c in enumerate(teacher_ckpts)]
    run_in_process('analysis/benchmark_distill', CLS_DISTILL, '--iters', 1,
                   '--warmup', 0, '--cfg-options',
                   'train_dataloader.batch_size=2', *options, cwd=workspace)
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert set(result['machine']) == FIELDS
    assert result['machine']['cpu_flags'] == machine()['cpu_flags']
