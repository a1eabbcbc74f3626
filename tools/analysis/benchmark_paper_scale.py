"""What distillation costs at the papers' scale on this machine.

    python tools/analysis/benchmark_paper_scale.py [--tasks in1k coco_frcnn]
        [--scale 0.25] [--iters 5] [--warmup 1] [--update-interval N]
        [--out result.json]

Builds the paper-scale AVER configs (COCO Faster R-CNN and RetinaNet,
Cityscapes DeepLabV3, ImageNet ResNet-18; random weights, no teacher
checkpoint) and times them with ``benchmark_distill.py``'s ``measure`` on
the same synthetic batches with ground truth, of the train pipeline's image
size and the config's batch size (``--scale`` shrinks both: the default is
1 on CUDA, 0.25 on the CPU). Per task: the student step, each teacher's
forward and the distillation step of every weighting, of the RLKD
temperature (against the config's T = 4) and with bf16 teachers (against
fp32). It prints, per task, each method's step ÷ AVER's, AVER's step ÷
(student step + teacher forwards), the teachers' bf16 ÷ fp32 forward time
and the peak memory (CUDA: ``max_memory_allocated``; CPU: the process's
peak RSS so far), then one JSON object with every figure and the machine.
"""
import argparse
import json
import sys
from argparse import Namespace
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm

import mtkd_mm  # noqa: F401
from mtkd_mm.distillers.multi_teacher_distiller import build_temperature
from mtkd_mm.distillers.teacher_pool import TeacherPool

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_distill import (build_distiller, build_variants,  # noqa: E402
                               label, measure, peak_rss_mib)
from machine import machine  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'baselines'
TASKS = {
    'coco_frcnn': 'faster_rcnn_r18_coco',
    'coco_retinanet': 'retinanet_r18_coco',
    'cityscapes': 'deeplabv3_r18_cityscapes',
    'in1k': 'resnet18_imagenet',
}
WEIGHTINGS = ['EBKD', 'CAMKD', 'AEKD', 'MTKDRL', 'MMKD', 'LookAheadTrust']
# learnt from the first batch on (the configs wait 2 or more epochs)
RLKD = dict(type='RLKDTemperature', warmup=0, rl_every=1)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tasks', nargs='+', choices=list(TASKS),
                        default=list(TASKS))
    parser.add_argument(
        '--scale', type=float,
        help='factor of the image side and the batch size (default: 1 on '
        'CUDA, 0.25 on the CPU)')
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--update-interval', type=int,
        help='iterations between updates of every learner '
        "(default: each one's own update_interval)")
    parser.add_argument('--out', help='also write the JSON object here')
    return parser.parse_args()


def train_size(pipeline):
    """(H, W) of the train pipeline's images: its crop, or its resize's
    largest (mmdet's and mmseg's scales are (W, H))."""
    size = None
    for transform in pipeline:
        if transform['type'] == 'RandomResizedCrop':
            size = (transform['scale'], ) * 2
        elif transform['type'] == 'RandomCrop':
            size = tuple(transform['crop_size'])
        elif transform['type'] == 'Resize':
            size = tuple(transform['scale'][::-1])
    return size


def synthetic_batch(scope, batch_size, size, seed):
    """Random uint8 images of ``size`` with random ground truth, as the
    task's data loader gives them."""
    generator = torch.Generator().manual_seed(seed)
    images = [torch.randint(0, 256, (3, *size), dtype=torch.uint8,
                            generator=generator) for _ in range(batch_size)]
    if scope == 'mmdet':
        from mmdet.testing import demo_mm_inputs
        batch = demo_mm_inputs(batch_size, (3, *size), num_items=[7] *
                               batch_size, num_classes=80)
        return dict(inputs=images, data_samples=batch['data_samples'])
    if scope == 'mmseg':
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        samples = []
        for _ in images:
            sample = SegDataSample(metainfo=dict(
                img_shape=size, ori_shape=size, pad_shape=size))
            sample.gt_sem_seg = PixelData(data=torch.randint(
                0, 19, (1, *size), generator=generator))
            samples.append(sample)
        return dict(inputs=images, data_samples=samples)
    from mmpretrain.structures import DataSample
    labels = torch.randint(0, 1000, (batch_size, ), generator=generator)
    return dict(inputs=images,
                data_samples=[DataSample().set_gt_label(int(label))
                              for label in labels])


def to_device(batch, device):
    return dict(inputs=[i.to(device) for i in batch['inputs']],
                data_samples=[s.to(device) for s in batch['data_samples']])


def benchmark(task, args, device):
    """Every figure of one task."""
    path = CONFIGS / 'aver' / f'{TASKS[task]}.py'
    cfg = Config.fromfile(str(path))
    # random weights: no teacher checkpoint, no pretrained backbone
    cfg.merge_from_dict({f'model.teachers.{i}.checkpoint': None
                         for i in range(len(cfg.model.teachers))})
    cfg.model.student.backbone.init_cfg = None
    cfg.model.student.pop('pretrained', None)  # mmseg's
    # every run steps the same student: at the config's rate, without its
    # warm-up, a random detector diverges within a few steps
    cfg.optim_wrapper.optimizer.lr = 0.0
    distiller, optim, student_optim = build_distiller(cfg, device)
    size = tuple(max(32, round(side * args.scale / 32) * 32)
                 for side in train_size(cfg.train_dataloader.dataset.pipeline))
    batch_size = max(2, round(cfg.train_dataloader.batch_size * args.scale))
    if hasattr(distiller.data_preprocessor, 'size'):
        distiller.data_preprocessor.size = size
    batches = [to_device(synthetic_batch(cfg.default_scope, batch_size,
                                         size, seed), device)
               for seed in range(args.iters + args.warmup)]
    names = ['AVER'] + WEIGHTINGS
    if device == 'cpu' and cfg.default_scope != 'mmpretrain':
        print(f'{task}: MMKD skipped on the CPU (its look-ahead, two '
              'virtual steps with second derivatives, takes over a minute an '
              'update here)')
        names.remove('MMKD')
    own = dict(weighting=distiller.weighting,
               temperature=distiller.temperature, teachers=distiller.teachers)
    fixed = label(distiller.temperature)
    runs = {
        'weightings': build_variants(
            distiller, Namespace(weightings=names, temperatures=None,
                                 teacher_precisions=None),
            batch_size, None),
        'temperatures': {
            fixed: ('temperature', distiller.temperature),
            'RLKDTemperature': ('temperature', build_temperature(RLKD))},
        'teacher_precisions': {
            'fp32': ('teachers', distiller.teachers),
            'bf16': ('teachers', revert_sync_batchnorm(TeacherPool(
                cfg.model.teachers, distiller.student.data_preprocessor,
                distiller.view, 'bf16')))},
    }
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    result = dict(config=str(path.relative_to(CONFIGS.parents[1])),
                  image_size=size, batch_size=batch_size,
                  fixed_temperature=fixed)
    for run, variants in runs.items():
        result[run] = measure(distiller, optim, student_optim, batches,
                              variants, args.warmup, args.update_interval)
        for part, module in own.items():
            setattr(distiller, part, module)
    result['peak_memory_mib'] = (
        torch.cuda.max_memory_allocated() / 2**20 if device == 'cuda'
        else peak_rss_mib())
    return result


def summary(task, result):
    """The task's figures, one line each."""
    weightings = result['weightings']
    ratios = {key.split('.')[1][:-len('/AVER')]: value
              for key, value in weightings.items()
              if key.startswith('step_ratio.')}
    ratios['RLKDTemperature'] = result['temperatures'][
        f'step_ratio.RLKDTemperature/{result["fixed_temperature"]}']
    h, w = result['image_size']
    return '\n'.join([
        f'== {task}: {result["config"]}, {h}x{w}, batch '
        f'{result["batch_size"]}',
        '  step / AVER: ' + ', '.join(f'{name} {value:.3f}'
                                      for name, value in ratios.items()),
        '  AVER / (student + teachers): '
        f'{weightings["overhead_ratio.AVER"]:.3f}',
        '  teachers bf16 / fp32: ' + format(result['teacher_precisions'][
            'teacher_forwards_ratio.bf16/fp32'], '.3f'),
        f'  peak memory: {result["peak_memory_mib"]:.0f} MiB'])


def main():
    args = parse_args()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.scale is None:
        args.scale = 1.0 if device == 'cuda' else 0.25
    torch.manual_seed(0)
    results = dict(device=device, scale=args.scale, iters=args.iters,
                   warmup=args.warmup, tasks={})
    for task in args.tasks:
        results['tasks'][task] = benchmark(task, args, device)
        print(summary(task, results['tasks'][task]), flush=True)
    results['machine'] = machine()
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    print(json.dumps(results))


if __name__ == '__main__':
    main()
