"""The COCO, Cityscapes and ImageNet configs build with their real teacher
architectures and run one loss step on a tiny random batch (teacher
checkpoints switched off, as ``--cfg-options model.teachers.0.checkpoint=
None`` does; nothing is downloaded)."""
import pytest
import torch
from mmengine.model import revert_sync_batchnorm
from mmengine.structures import PixelData

from tests.conftest import REPO
from tests.test_distill.helpers import build_model, load_cfg

METHODS = ['aver', 'ebkd', 'ca_mkd', 'aekd']
CONFIGS = {
    'faster_rcnn_r18_coco': 3,
    'retinanet_r18_coco': 3,
    'deeplabv3_r18_cityscapes': 2,
    'resnet18_imagenet': 2,
}


def tiny_batch(name):
    """Two random 128 px images with task-specific ground truth."""
    if 'coco' in name:
        from mmdet.testing import demo_mm_inputs
        return demo_mm_inputs(2, (3, 128, 128), num_items=[3, 2],
                              num_classes=80)
    images = [torch.randint(0, 256, (3, 128, 128), dtype=torch.uint8)
              for _ in range(2)]
    if 'cityscapes' in name:
        from mmseg.structures import SegDataSample
        samples = []
        for _ in images:
            sample = SegDataSample(metainfo=dict(
                img_shape=(128, 128), ori_shape=(128, 128),
                pad_shape=(128, 128)))
            sample.gt_sem_seg = PixelData(
                data=torch.randint(0, 19, (1, 128, 128)))
            samples.append(sample)
        return dict(inputs=images, data_samples=samples)
    from mmpretrain.structures import DataSample
    return dict(inputs=images,
                data_samples=[DataSample().set_gt_label(i) for i in (3, 7)])


# Every task runs AVER and CA-MKD (its own feature-classification path);
# the classification configs run every method; the one-stage detector
# MTKD-RL and LookAheadTrust too (configs/mtkd_rl/, configs/look_ahead_trust/:
# sigmoid classes, three teachers).
BUILD_AND_STEP = [(name, method) for name in CONFIGS for method in METHODS
                  if method in ('aver', 'ca_mkd') or 'imagenet' in name] + [
                      ('retinanet_r18_coco', 'mtkd_rl'),
                      ('retinanet_r18_coco', 'look_ahead_trust')]


def config_path(name, method):
    folder = 'baselines/' if method in METHODS else ''
    return REPO / 'configs' / f'{folder}{method}' / f'{name}.py'


@pytest.mark.parametrize('method', METHODS)
@pytest.mark.parametrize('name', list(CONFIGS))
def test_paper_scale_config_names_its_method(name, method):
    cfg = load_cfg(REPO / 'configs' / 'baselines' / method / f'{name}.py')
    expected = {'aver': 'AVER', 'ebkd': 'EBKD', 'ca_mkd': 'CAMKD',
                'aekd': 'AEKD'}[method]
    assert cfg.model.weighting.type == expected
    assert len(cfg.model.teachers) == CONFIGS[name]
    assert all(t.checkpoint.startswith('https://download.openmmlab.com/')
               for t in cfg.model.teachers)


@pytest.mark.slow
@pytest.mark.parametrize('name,method', BUILD_AND_STEP)
def test_paper_scale_config_builds_and_steps(name, method):
    options = {f'model.teachers.{i}.checkpoint': None
               for i in range(CONFIGS[name])}
    cfg = load_cfg(config_path(name, method), **options)
    model = revert_sync_batchnorm(build_model(cfg))
    assert len(model.teacher_names) == CONFIGS[name]
    if hasattr(model.data_preprocessor, 'size'):
        model.data_preprocessor.size = (128, 128)
    model.train()
    data = model.data_preprocessor(tiny_batch(name), True)
    losses = model(**data, mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    assert 'distill.loss_logit' in losses and 'distill.loss_feature' in losses
    total.backward()
    assert all(p.grad is None for p in model.teachers.parameters())
    assert any(p.grad is not None for p in model.connectors.parameters())


@pytest.mark.parametrize('config', sorted(
    (REPO / 'configs' / 'look_ahead_trust').glob('*.py')),
    ids=lambda p: p.stem)
def test_look_ahead_trust_configs_say_it_is_ours(config):
    assert 'OURS, not a published method' in config.read_text()
    cfg = load_cfg(config)
    assert cfg.model.weighting == dict(type='LookAheadTrust')
    assert cfg.custom_hooks == [dict(type='mtkd_mm.LearnerUpdateHook')]


@pytest.mark.parametrize('config', sorted(
    (REPO / 'configs' / 'mmkd').glob('*.py')), ids=lambda p: p.stem)
def test_mmkd_configs_size_the_feature_network_from_their_batch(config):
    cfg = load_cfg(config)
    assert cfg.model.weighting.type == 'MMKD'
    assert cfg.model.weighting.batch_size == cfg.train_dataloader.batch_size
    assert cfg.custom_hooks == [dict(type='mtkd_mm.LearnerUpdateHook')]


@pytest.mark.parametrize('config', sorted(
    (REPO / 'configs' / 'rlkd').glob('*.py')), ids=lambda p: p.stem)
def test_rlkd_configs(config):
    """Single-teacher KD or MTKD-RL weights, the RLKD temperature learnt by
    the hook, reward stages that end at the learning-rate steps."""
    cfg = load_cfg(config)
    temperature = cfg.model.temperature
    assert temperature.type == 'RLKDTemperature'
    assert dict(type='mtkd_mm.LearnerUpdateHook') in cfg.custom_hooks
    if config.stem.endswith(('_kd', '_kd_explore')):
        assert len(cfg.model.teachers) == 1
    else:
        assert config.stem.endswith('_mtkd_rl')
        assert cfg.model.weighting.type == 'MTKDRL'
    ends = [stage['end'] for stage in temperature.reward_stages]
    schedulers = cfg.param_scheduler
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    steps = [s for s in schedulers if s.type == 'MultiStepLR']
    if steps:
        milestones = steps[0].milestones
        assert ends[:len(milestones)] == milestones
        assert ends[-1] <= cfg.train_cfg.max_epochs
    else:  # one stage over a cosine or poly schedule
        assert ends == [cfg.train_cfg.get('max_iters',
                                          cfg.train_cfg.get('max_epochs'))]


@pytest.mark.slow
@pytest.mark.parametrize('name', ['resnet18_imagenet_kd',
                                  'faster_rcnn_r18_coco_mtkd_rl'])
def test_rlkd_paper_scale_config_steps_with_per_point_temperatures(name):
    path = REPO / 'configs' / 'rlkd' / f'{name}.py'
    cfg = load_cfg(path)
    options = {f'model.teachers.{i}.checkpoint': None
               for i in range(len(cfg.model.teachers))}
    cfg = load_cfg(path, **options, **{'model.temperature.warmup': 0})
    model = revert_sync_batchnorm(build_model(cfg))
    if hasattr(model.data_preprocessor, 'size'):
        model.data_preprocessor.size = (128, 128)
    model.train()
    data = model.data_preprocessor(tiny_batch(
        'coco' if 'coco' in name else 'in1k'), True)
    losses = model(**data, mode='loss')
    assert losses['distill.temperature_std'] > 0
    assert 0 < losses['distill.temperature_mean'] < 10
    total, _ = model.parse_losses(losses)
    total.backward()
    assert all(p.grad is None for p in model.temperature.parameters())
    # the first epoch collects only where PPO runs in every epoch
    collects = cfg.model.temperature.rl_every == 1
    assert len(model.temperature.experience) == int(collects)
