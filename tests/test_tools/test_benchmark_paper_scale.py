"""tools/analysis/benchmark_paper_scale.py at its smallest setting: every
method's step ÷ AVER's is printed and in the JSON, with the other ratios."""
import json
import re

import pytest

from tests.conftest import run_in_process

METHODS = ['AVER', 'EBKD', 'CAMKD', 'AEKD', 'MTKDRL', 'MMKD',
           'LookAheadTrust']


# One task keeps the suite short; the others' configs build and step in
# test_paper_scale_configs.py, and take 2-4 minutes each here.
@pytest.mark.parametrize('task', ['in1k'])
def test_every_method_has_its_ratio(task, tmp_path, capsys):
    run_in_process('analysis/benchmark_paper_scale', '--tasks', task,
                   '--scale', 0.125, '--iters', 1, '--warmup', 0,
                   cwd=tmp_path)
    out = capsys.readouterr().out
    result = json.loads(out.splitlines()[-1])
    assert result['scale'] == 0.125 and set(result['machine'])
    figures = result['tasks'][task]
    expected = [m for m in METHODS
                if f'{task}: {m} skipped' not in out]
    assert task != 'in1k' or expected == METHODS
    printed = re.search(r'step / AVER: (.*)', out).group(1)
    for method in expected:
        assert figures['weightings'][f'step_ratio.{method}/AVER'] > 0
        assert re.search(rf'\b{method} \d+\.\d{{3}}', printed)
    assert figures['temperatures'][
        'step_ratio.RLKDTemperature/FixedTemperature(4)'] > 0
    assert re.search(r'\bRLKDTemperature \d+\.\d{3}', printed)
    assert figures['weightings']['overhead_ratio.AVER'] > 0
    assert figures['teacher_precisions'][
        'teacher_forwards_ratio.bf16/fp32'] > 0
    assert figures['peak_memory_mib'] > 0
    for line in ('AVER / (student + teachers): ',
                 'teachers bf16 / fp32: ', 'peak memory: '):
        assert line in out
