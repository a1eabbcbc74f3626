"""Where a teacher's forward spends its time, in fp32 and in a low
precision: the operators by their own CPU time (torch.profiler), for the
part of the forward the distiller runs (``extract_feat``; for a two-stage
detector also the RoI head on random RoIs, by default as many per image as
the config's RoI sampler takes, ``train_cfg.rcnn.sampler.num``).

    python tools/analysis/profile_teacher_ops.py CONFIG \
        [--batch 4] [--img-size 128] [--rois-per-image N] [--top 8] \
        [--cfg-options k=v ...]

Random weights and inputs: timing only. Teachers are prepared as the
distiller prepares them (``teacher_precision``: ``channels_last``, mmcv's
ops fed in fp32, RoIAlign in its separable form).
"""
import argparse
import time

import torch
from mmengine.registry import MODELS, init_default_scope

import mtkd_mm  # noqa: F401  registers the mtkd_mm modules
from mtkd_mm.distillers.teacher_precision import (autocast_inputs,
                                                  prepare_teacher)
from mtkd_mm.engine.launch import CfgOptionsAction, load_config
from mtkd_mm.packages import import_scope


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--img-size', type=int, default=128)
    parser.add_argument('--rois-per-image', type=int,
                        help="default: the config's RoI sampler's num")
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--top', type=int, default=8)
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        default={}, help='options of the teacher config')
    return parser.parse_args()


def random_rois(batch, per_image, size):
    """(batch · per_image, 5) RoIs (image index, x1, y1, x2, y2)."""
    count = batch * per_image
    corner = torch.rand(count, 2) * size / 2
    return torch.cat([torch.randint(0, batch, (count, 1)).float(), corner,
                      corner + 4 + torch.rand(count, 2) * size / 2], dim=1)


def sampled_rois(model_cfg):
    """RoIs per image the model's RoI head trains on (512 without one)."""
    rcnn = (model_cfg.get('train_cfg') or {}).get('rcnn') or {}
    return rcnn.get('sampler', {}).get('num', 512)


def main():
    args = parse_args()
    torch.manual_seed(0)
    cfg = load_config(args.config, args.cfg_options)
    import_scope(cfg.default_scope, args.config)
    init_default_scope(cfg.default_scope)
    inputs = torch.randn(args.batch, 3, args.img_size, args.img_size)
    per_image = args.rois_per_image or sampled_rois(cfg.model)
    rois = random_rois(args.batch, per_image, args.img_size)

    def forward(model, dtype):
        context, x = autocast_inputs(inputs, dtype)
        with torch.no_grad(), context:
            features = model.extract_feat(x)
            if hasattr(model, 'roi_head'):
                model.roi_head._bbox_forward(features, rois)

    times = {}
    for name, dtype in (('fp32', None), ('bf16', torch.bfloat16)):
        model = MODELS.build(cfg.model).eval()
        prepare_teacher(model, dtype)
        for _ in range(3):
            forward(model, dtype)
        start = time.perf_counter()
        for _ in range(args.iters):
            forward(model, dtype)
        times[name] = (time.perf_counter() - start) / args.iters
        with torch.profiler.profile() as profile:
            for _ in range(args.iters):
                forward(model, dtype)
        ops = sorted(profile.key_averages(),
                     key=lambda e: -e.self_cpu_time_total)
        total = sum(e.self_cpu_time_total for e in ops)
        print(f'{name}: {times[name] * 1000:.1f} ms per forward; '
              'own CPU time by operator:')
        for event in ops[:args.top]:
            own = event.self_cpu_time_total
            print(f'  {event.key:<32} {own / 1000 / args.iters:8.1f} ms '
                  f'{100 * own / total:5.1f} %')
    print(f"bf16 ÷ fp32: {times['bf16'] / times['fp32']:.2f}")


if __name__ == '__main__':
    main()
