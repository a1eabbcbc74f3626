"""Which setting of the CPU's kernels changes a training's numbers? Trains
one config for a few iterations under several environments, each in a
process of its own from the same seed and data, and compares the final
weights with the first run's, and by a digest of their bytes.

    python tools/analysis/kernel_reproducibility.py \
        [--config configs/shapes/resnet18_narrow_shapes.py] [--iters 100] \
        [--work-dir work_dirs/kernel_reproducibility]

The environments: the default twice (is a run repeatable on one machine?);
one thread instead of two; oneDNN limited to AVX2 (``ONEDNN_MAX_CPU_ISA``:
as on a CPU without AVX-512); torch's own vectorised kernels limited to
AVX2 (``ATEN_CPU_CAPABILITY``); MKL's results fixed to its AVX2 code path
(``MKL_CBWR``); and all three limits together
(``seeded_runs.PORTABLE_KERNELS``, what every benchmark run sets), with one
and two threads.
Prints, and writes to ``WORK_DIR/kernel_reproducibility.json`` with the
machine (``machine.py``), each run's largest absolute weight difference
from the first run and whether its weights are bit-identical to it.
"""
import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
from machine import machine  # noqa: E402
from seeded_runs import PORTABLE_KERNELS, log, train  # noqa: E402

sys.path.insert(0, str(REPO))
from mtkd_mm.checkpoint_safety import (allow_runner_checkpoints,  # noqa: E402
                                       weights_only_loads)

ENVIRONMENTS = {
    'default, 2 threads': ({}, 2),
    'default, 2 threads, again': ({}, 2),
    'default, 1 thread': ({}, 1),
    'oneDNN AVX2': ({'ONEDNN_MAX_CPU_ISA': 'AVX2'}, 2),
    'ATen AVX2': ({'ATEN_CPU_CAPABILITY': 'avx2'}, 2),
    'MKL AVX2': ({'MKL_CBWR': 'AVX2'}, 2),
    'portable, 2 threads': (PORTABLE_KERNELS, 2),
    'portable, 1 thread': (PORTABLE_KERNELS, 1),
}


def final_weights(work_dir, iters):
    """({name: float tensor as float64}, the digest of all tensors' bytes)."""
    allow_runner_checkpoints()
    with weights_only_loads():  # whatever TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD
        checkpoint = torch.load(work_dir / f'iter_{iters}.pth',
                                map_location='cpu', weights_only=True)
    state = checkpoint['state_dict']
    digest = hashlib.sha256()
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].contiguous().view(-1).view(
            torch.uint8).numpy().tobytes())
    return ({k: v.double() for k, v in state.items() if v.is_floating_point()},
            digest.hexdigest()[:12])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', type=Path, default=REPO / 'configs' /
                        'shapes' / 'resnet18_narrow_shapes.py')
    parser.add_argument('--iters', type=int, default=100)
    parser.add_argument('--work-dir', type=Path,
                        default=REPO / 'work_dirs' / 'kernel_reproducibility')
    args = parser.parse_args()
    options = [f'train_cfg.max_iters={args.iters}',
               f'train_cfg.val_interval={args.iters + 1}',
               f'default_hooks.checkpoint.interval={args.iters}']
    rows, first = {}, None
    for index, (name, (env, threads)) in enumerate(ENVIRONMENTS.items()):
        log('kernels', f'{name}: {env or "no variable set"}')
        out = args.work_dir / f'run{index}'
        start = time.time()
        train(args.config, out, options, threads, cwd=REPO, kernels=env)
        seconds = time.time() - start
        weights, digest = final_weights(out, args.iters)
        first = first or weights
        diff = max((weights[k] - first[k]).abs().max().item() for k in first)
        rows[name] = dict(env=env, threads=threads, max_abs_diff=diff,
                          identical=diff == 0, digest=digest, seconds=seconds)
    lines = [f'`python tools/analysis/kernel_reproducibility.py '
             f'{" ".join(sys.argv[1:])}`'.replace(' `', '`'), '',
             f'{args.config.name}, {args.iters} iterations; the weights '
             'after training against those of the first run:', '',
             '| run | environment | threads | bit-identical to the first | '
             'largest weight difference | weights digest | seconds |',
             '| --- | --- | --- | --- | --- | --- | --- |']
    for name, r in rows.items():
        env = ' '.join(f'{k}={v}' for k, v in r['env'].items()) or 'default'
        lines.append(f"| {name} | {env} | {r['threads']} | "
                     f"{'yes' if r['identical'] else 'no'} | "
                     f"{r['max_abs_diff']:.3g} | {r['digest']} | "
                     f"{r['seconds']:.0f} |")
    print('\n'.join(lines))
    (args.work_dir / 'kernel_reproducibility.json').write_text(json.dumps(
        dict(config=str(args.config), iters=args.iters, runs=rows,
             machine=machine()), indent=2))


if __name__ == '__main__':
    main()
