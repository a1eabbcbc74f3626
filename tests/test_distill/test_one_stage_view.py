"""The one-stage detection view on real mmdet heads (narrow, random
weights, tiny batches): the points are the student's positive priors, in
mmdet's own prior order; teachers classify the same priors from their own
features, with a sigmoid per class; teachers whose priors differ give
features only; AVER, CA-MKD and MTKD-RL distil a RetinaNet student with
the binary KL of an independent formula, and the teachers get no
gradients."""
import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.logging import MessageHub

from mtkd_mm.structures import SIGMOID
from mtkd_mm.views import OneStageDetectionView
from tests.conftest import REPO
from tests.test_distill.helpers import build_model, load_cfg

RETINA = 'mtkd_mm::shapes/retinanet_r18_fpn_narrow_shapes.py'
SHAPES = REPO / 'configs' / '_base_' / 'distill' / 'shapes_fcos.py'
GN = dict(type='GN', num_groups=32, requires_grad=True)
HEADS = {
    'retinanet': dict(),
    'fcos': dict(
        _delete_=True, type='FCOSHead', num_classes=4, in_channels=64,
        feat_channels=64, strides=[8, 16, 32, 64, 128],
        regress_ranges=((-1, 32), (32, 64), (64, 128), (128, 256),
                        (256, 1e8)),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0,
                      alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='IoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True,
                             loss_weight=1.0)),
    'gfl': dict(
        _delete_=True, type='GFLHead', num_classes=4, in_channels=64,
        feat_channels=64, norm_cfg=GN,
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0],
                              octave_base_scale=4, scales_per_octave=1,
                              strides=[8, 16, 32, 64, 128]),
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0,
                      loss_weight=1.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        reg_max=16, loss_bbox=dict(type='GIoULoss', loss_weight=2.0)),
}
DETECTORS = {'retinanet': 'RetinaNet', 'fcos': 'FCOS', 'gfl': 'GFL'}
TRAIN_CFG = {'gfl': dict(_delete_=True,
                         assigner=dict(type='ATSSAssigner', topk=9),
                         allowed_border=-1, pos_weight=-1, debug=False)}


def detector(kind, width=64):
    """A narrow one-stage detector config dict of head ``kind``, with
    ``width`` FPN / head channels."""
    cfg = load_cfg(REPO / 'configs' / 'shapes' /
                   'retinanet_r18_fpn_narrow_shapes.py')
    model = cfg.model
    model.type = DETECTORS[kind]
    model.neck.out_channels = width
    head = ConfigDict(HEADS[kind])
    if head:
        head.pop('_delete_')
        model.bbox_head = head
    model.bbox_head.in_channels = width
    model.bbox_head.feat_channels = width
    if kind in TRAIN_CFG:
        train_cfg = dict(TRAIN_CFG[kind])
        train_cfg.pop('_delete_')
        model.train_cfg = train_cfg
    return model


def distiller(student_kind='retinanet', teacher_kinds=('retinanet', ) * 2,
              weighting=dict(type='AVER'), **options):
    """A distiller of the shapes one-stage base with these heads, random
    weights (init_weights: the focal-loss bias prior)."""
    cfg = load_cfg(SHAPES)
    cfg.model.student = detector(student_kind)
    cfg.model.teachers = [
        dict(name=f'{kind}_{i}', config=detector(kind, 96),
             checkpoint=None) for i, kind in enumerate(teacher_kinds)]
    cfg.model.weighting = weighting
    cfg.model.update(options)
    torch.manual_seed(0)
    model = build_model(cfg)
    model.init_weights()
    return model


def batch(model):
    """Two 128 px images with two and one boxes, preprocessed."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    gen = torch.Generator().manual_seed(0)
    samples = []
    boxes = [[[10., 12., 50., 48.], [70., 60., 118., 110.]],
             [[30., 20., 90., 100.]]]
    for i, image_boxes in enumerate(boxes):
        sample = DetDataSample(metainfo=dict(
            img_shape=(128, 128), ori_shape=(128, 128),
            scale_factor=(1., 1.)))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(image_boxes),
            labels=torch.tensor([i + 1, 3][:len(image_boxes)]))
        samples.append(sample)
    images = [torch.randint(0, 256, (3, 128, 128), generator=gen,
                            dtype=torch.uint8) for _ in samples]
    return model.data_preprocessor(
        dict(inputs=images, data_samples=samples), True)


def iou(boxes, box):
    lt = np.maximum(boxes[:, :2], box[:2])
    rb = np.minimum(boxes[:, 2:], box[2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=1)
    area = (boxes[:, 2:] - boxes[:, :2]).prod(axis=1)
    return inter / (area + (box[2:] - box[:2]).prod() - inter)


@pytest.mark.parametrize('kind', sorted(HEADS))
def test_points_are_positive_priors_in_mmdets_order(kind):
    """Independently of the recorded layout: each point's prior (from
    ``prior_generator.grid_priors``) lies on a ground-truth box of its own
    image with that box's label (RetinaNet: IoU ≥ 0.5; FCOS and GFL: the
    prior centre inside the box); the student's point logits are its head
    outputs there, the teachers' their own head outputs there."""
    model = distiller(kind, (kind, kind)).train()
    data = batch(model)
    losses, student, points = model.view.student_loss(
        model.student, data['inputs'], data['data_samples'])
    assert points.distribution is SIGMOID
    assert len(points.labels) > 0 and student.logits.shape == (
        len(points.labels), 4)
    head = model.student.bbox_head
    sizes = student.context['sizes']
    priors = torch.cat(
        head.prior_generator.grid_priors(sizes, device='cpu'), dim=0)
    prior = student.context['prior']
    for p, (b, label) in enumerate(zip(points.sample_index, points.labels)):
        gt = data['data_samples'][b].gt_instances
        box = priors[prior[p]].numpy()
        if kind == 'retinanet':
            overlaps = iou(gt.bboxes.numpy(), box)
            assert overlaps.max() >= 0.5
            assert gt.labels[overlaps.argmax()] == label
        else:
            centre = (box[:2] + box[2:]) / 2 if len(box) == 4 else box
            inside = [(g[:2] <= centre).all() and (centre <= g[2:]).all()
                      for g in gt.bboxes.numpy()]
            assert any(inside), (p, centre)
            assert label in gt.labels[torch.tensor(inside)]
    for model_, logits in [(model.student, student.logits)] + [
            (t, model.view.teacher_record(
                t, data['inputs'], points, student).logits)
            for _, t in model.teachers.items()]:
        with torch.no_grad():
            was = model_.training
            model_.train(model.student is model_)
            scores = model_.bbox_head(model_.extract_feat(data['inputs']))[0]
            model_.train(was)
        flat = torch.cat([s.permute(0, 2, 3, 1).reshape(2, -1, 4)
                          for s in scores], dim=1)
        torch.testing.assert_close(
            logits.detach(), flat[points.sample_index, prior])


def test_teachers_with_other_priors_give_features_only(caplog):
    model = distiller('retinanet', ('retinanet', 'fcos'))
    assert model.logit_teachers == [0]
    data = batch(model)
    _, student, points = model.view.student_loss(
        model.student, data['inputs'], data['data_samples'])
    fcos = dict(model.teachers.items())['fcos_1']
    assert model.view.why_features_only(fcos).startswith(
        "has other priors than the student's")
    assert model.view.teacher_record(fcos, data['inputs'], points,
                                     student).logits is None


@pytest.fixture
def past_warmup():
    """The runner's iteration past MTKD-RL's warm-up; restored after."""
    hub = MessageHub.get_current_instance()
    old = hub.get_info('iter', 0)
    hub.update_info('iter', 10**6)
    yield
    hub.update_info('iter', old)


def binary_kl(student, teacher, temperature):
    """T² · Σ_c [q log(q/p) + (1−q) log((1−q)/(1−p))], float64 numpy."""
    p = 1 / (1 + np.exp(-student.double().numpy() / temperature))
    q = 1 / (1 + np.exp(-teacher.double().numpy() / temperature))
    return temperature**2 * (q * np.log(q / p) + (1 - q) * np.log(
        (1 - q) / (1 - p))).sum(axis=1)


@pytest.mark.parametrize('weighting', [
    dict(type='AVER'),
    dict(type='CAMKD', feature_form='connected'),
    dict(type='MTKDRL'),
])
def test_retinanet_distillation_step(weighting, past_warmup):
    """One loss step: each image's logit loss to each teacher is the binary
    KL per point (independent formula) averaged over the image's
    positives, and with AVER the logit loss is Σ_k mean_i KL_ik / K; the
    weights of CA-MKD and MTKD-RL sum to 1 over teachers; the student gets
    gradients, the teachers none."""
    model = distiller(weighting=weighting).train()
    assert isinstance(model.view, OneStageDetectionView)
    data = batch(model)
    losses = model(**data, mode='loss')
    _, student, points = model.view.student_loss(
        model.student, data['inputs'], data['data_samples'])
    with torch.no_grad():
        records = [model.view.teacher_record(t, data['inputs'], points,
                                             student)
                   for _, t in model.teachers.items()]
    kl = model._logit_losses(student, records, points, 4.0)
    for k, record in enumerate(records):
        per_point = binary_kl(student.logits.detach(), record.logits, 4.0)
        expected = [per_point[points.sample_index.numpy() == b].mean()
                    for b in range(2)]
        torch.testing.assert_close(kl[:, k].detach().double(),
                                   torch.tensor(expected), rtol=1e-4,
                                   atol=1e-7)
    weights = [losses[f'distill.w_logit.{name}'].item()
               for name in model.teacher_names]
    assert sum(weights) == pytest.approx(1.0, rel=1e-5)
    if weighting['type'] == 'AVER':
        assert losses['distill.loss_logit'].item() == pytest.approx(
            kl.mean(dim=0).sum().item() / 2, rel=1e-5)
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is None for p in model.teachers.parameters())
    assert any(p.grad is not None
               for p in model.student.bbox_head.parameters())
