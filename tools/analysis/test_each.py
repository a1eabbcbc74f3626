"""``tools/test.py`` once per argument list, all in this one process: one
interpreter start-up for several evaluations (the benchmarks test each
model on each domain).

    python tools/analysis/test_each.py \
        '[["CONFIG", "CHECKPOINT", "--work-dir", "DIR", ...], ...]'
"""
import importlib.util
import json
import sys
from pathlib import Path

TEST_TOOL = Path(__file__).resolve().parents[1] / 'test.py'


def load_test_tool():
    spec = importlib.util.spec_from_file_location('test_tool', TEST_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def named(argv, index):
    """``argv`` with ``experiment_name=test_each_<index>`` among its config
    options. MMEngine names a runner's logger, message hub and visualizer
    after the experiment (by default the config and the second the runner
    is built): two runners of one config built in one second would share
    them, the second logging into the first's files."""
    argv = list(map(str, argv))
    option = f'experiment_name=test_each_{index}'
    if '--cfg-options' not in argv:
        return argv + ['--cfg-options', option]
    at = argv.index('--cfg-options') + 1
    return argv[:at] + [option] + argv[at:]


def test_each(runs):
    """``tools/test.py``'s ``main`` on each argument list of ``runs``."""
    tool = load_test_tool()
    tool.run_tool(lambda: [tool.main(named(argv, index))
                           for index, argv in enumerate(runs)])


if __name__ == '__main__':
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    test_each(json.loads(sys.argv[1]))
