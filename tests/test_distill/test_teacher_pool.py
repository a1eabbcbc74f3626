"""Teachers are frozen, normalised their own way, and checked at build."""
import pytest
import torch
from mmengine.runner import Runner

from mtkd_mm.views import BuildError
from tests.conftest import REPO
from tests.test_distill.helpers import (CLS_DISTILL, build_model, load_cfg,
                                        save_random_teacher,
                                        with_teacher_checkpoints)

CLS_STUDENT = REPO / 'configs' / 'shapes' / 'resnet18_narrow_shapes.py'


def test_teachers_frozen_after_real_runner_iterations(tmp_path, shapes_root,
                                                     teacher_ckpts):
    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts, **{
        'train_cfg.max_iters': 3,
        'train_cfg.val_interval': 100,
        'train_dataloader.batch_size': 4,
        'train_dataloader.dataset.data_root': str(shapes_root),
        'val_dataloader.dataset.data_root': str(shapes_root),
        'test_dataloader.dataset.data_root': str(shapes_root),
        'default_hooks.checkpoint.interval': 100,
    })
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    before = {k: v.clone() for k, v in
              runner.model.teachers.teachers.state_dict().items()}
    student_before = {k: v.clone() for k, v in
                      runner.model.student.state_dict().items()}
    runner.train()
    model = runner.model

    for key, value in model.teachers.teachers.state_dict().items():
        assert torch.equal(value, before[key]), f'teacher {key} changed'
    for name, param in model.teachers.named_parameters():
        assert param.grad is None and not param.requires_grad, name
    model.train()  # as the train loop does at its start
    assert model.student.training
    assert all(not m.training for m in model.teachers.modules())
    in_optimizer = {
        id(p) for group in runner.optim_wrapper.optimizer.param_groups
        for p in group['params']
    }
    assert not in_optimizer & {id(p) for p in model.teachers.parameters()}
    assert {id(p) for p in model.student.parameters()} <= in_optimizer
    assert {id(p) for p in model.connectors.parameters()} <= in_optimizer
    changed = [k for k, v in model.student.state_dict().items()
               if not torch.equal(v, student_before[k])]
    assert changed, 'the student did not train'


def test_teacher_gets_its_own_normalisation(tmp_path, shapes_root):
    """A teacher trained with another mean, std and channel order receives
    exactly what its own data preprocessor would make of the batch."""
    other = dict(
        mean=[10.0, 20.0, 30.0], std=[2.0, 3.0, 4.0], to_rgb=False)
    options = {f'data_preprocessor.{k}': v for k, v in other.items()}
    ckpts = [save_random_teacher(CLS_STUDENT, tmp_path / 't0.pth',
                                 **options),
             save_random_teacher(CLS_STUDENT, tmp_path / 't1.pth')]
    cfg = with_teacher_checkpoints(CLS_DISTILL, ckpts)
    teacher_cfg = dict(load_cfg(CLS_STUDENT, **options).model)
    teacher_cfg['data_preprocessor'] = dict(
        type='mmpretrain.ClsDataPreprocessor', num_classes=4, **other)
    cfg.model.teachers[0].config = teacher_cfg
    model = build_model(cfg)

    images = [torch.randint(0, 256, (3, 128, 128), dtype=torch.uint8)
              for _ in range(2)]
    batch = dict(inputs=images, data_samples=None)
    student_inputs = model.data_preprocessor(batch)['inputs']
    teacher = model.teachers.teachers['resnet_a']
    expected = teacher.data_preprocessor(batch)['inputs']
    got = model.teachers.inputs_for('resnet_a', student_inputs)
    assert not torch.allclose(student_inputs, expected)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-4)
    # the teacher with the student's normalisation gets the batch as it is
    assert model.teachers.inputs_for('resnet_b', student_inputs) is \
        student_inputs


def test_missing_teacher_checkpoint(tmp_path):
    cfg = with_teacher_checkpoints(
        CLS_DISTILL, [tmp_path / 'missing.pth', tmp_path / 'missing.pth'])
    with pytest.raises(BuildError, match=r"teacher 'resnet_a': "
                       r'model.teachers\[0\].checkpoint .*missing.pth.* '
                       'does not exist'):
        build_model(cfg)


def test_teacher_with_other_classes(tmp_path, teacher_ckpts):
    wide = save_random_teacher(CLS_STUDENT, tmp_path / 'wide.pth',
                               **{'model.head.num_classes': 7})
    cfg = with_teacher_checkpoints(CLS_DISTILL, [teacher_ckpts[0], wide])
    cfg.model.teachers[1].config = dict(
        load_cfg(CLS_STUDENT, **{'model.head.num_classes': 7}).model)
    with pytest.raises(BuildError, match=r"teacher 'resnet_b' predicts 7 "
                       r'classes, the student 4 \(model.teachers\[1\]'):
        build_model(cfg)


def test_checkpoint_that_does_not_fit_its_config(tmp_path, teacher_ckpts):
    deeper = save_random_teacher(CLS_STUDENT, tmp_path / 'r34.pth',
                                 **{'model.backbone.depth': 34})
    cfg = with_teacher_checkpoints(CLS_DISTILL, [deeper, teacher_ckpts[1]])
    with pytest.raises(BuildError, match=r"teacher 'resnet_a': model."
                       r'teachers\[0\].checkpoint .*r34.pth.* does not fit '
                       r'its config \(ImageClassifier\): .*unexpected'):
        build_model(cfg)


def test_feature_place_that_does_not_exist(teacher_ckpts):
    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts, **{
        'model.feature_place': 'backbone.layer9'})
    with pytest.raises(BuildError, match="student: feature_place "
                       "'backbone.layer9' does not exist"):
        build_model(cfg)


def test_student_family_without_view(teacher_ckpts):
    from mmengine.model import BaseModel
    from mmengine.registry import MODELS

    @MODELS.register_module(force=True)
    class FamilyWithoutView(BaseModel):

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return inputs

    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts)
    cfg.model.student = dict(
        _scope_='mmengine', type='FamilyWithoutView',
        data_preprocessor=dict(type='BaseDataPreprocessor'))
    with pytest.raises(BuildError, match='student: no task view for '
                       'FamilyWithoutView'):
        build_model(cfg)


def test_one_stage_student_with_an_unread_head(teacher_ckpts):
    """FreeAnchor keeps RetinaNet's head but not its targets and losses."""
    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts)
    cfg.model.student = dict(
        _scope_='mmdet', type='RetinaNet',
        data_preprocessor=dict(type='DetDataPreprocessor'),
        backbone=dict(type='ResNet', depth=18, init_cfg=None),
        neck=dict(type='FPN', in_channels=[64, 128, 256, 512],
                  out_channels=32, num_outs=5),
        bbox_head=dict(
            type='FreeAnchorRetinaHead', num_classes=4, in_channels=32,
            anchor_generator=dict(
                type='AnchorGenerator', octave_base_scale=4,
                scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
                strides=[8, 16, 32, 64, 128]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder')))
    with pytest.raises(BuildError, match='student: RetinaNet has no dense '
                       'head with a sigmoid per class and known targets'):
        build_model(cfg)


def test_non_finite_loss_names_teacher_and_loss(teacher_ckpts):
    model = build_model(with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts))
    teacher = model.teachers.teachers['resnet_b']
    with torch.no_grad():
        teacher.head.fc.weight.fill_(float('nan'))
    images = [torch.randint(0, 256, (3, 128, 128), dtype=torch.uint8)
              for _ in range(2)]
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(i) for i in (0, 3)]
    data = model.data_preprocessor(
        dict(inputs=images, data_samples=samples), True)
    with pytest.raises(FloatingPointError, match="KLDivergence for teacher "
                       "'resnet_b'"):
        model(**data, mode='loss')


def test_cascade_student_is_refused(teacher_ckpts):
    """Cascade RoI heads classify in stages (``_bbox_forward(stage, x,
    rois)``): not a standard RoI classifier the view can read."""
    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts)
    cfg.model.student = 'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py'
    with pytest.raises(BuildError, match='student: CascadeRCNN has no '
                       'standard RoI head'):
        build_model(cfg)


def test_checkpoints_keep_fingerprints_not_teachers(teacher_ckpts,
                                                   monkeypatch):
    """A distiller's state dict holds each teacher's fingerprint, not its
    weights; loading one (or an older one, with the weights) keeps the
    configured teachers and warns about each that differs."""
    import mtkd_mm.distillers.teacher_pool as teacher_pool
    warnings = []
    monkeypatch.setattr(teacher_pool, 'print_log',
                        lambda message, *args: warnings.append(message))
    saved_model = build_model(with_teacher_checkpoints(
        CLS_DISTILL, [teacher_ckpts[0], teacher_ckpts[0]]))
    state = saved_model.state_dict()
    assert sorted(k for k in state if k.startswith('teachers.')) == [
        'teachers.fingerprints.resnet_a', 'teachers.fingerprints.resnet_b']
    older_state = dict(
        {k: v for k, v in state.items() if '.fingerprints.' not in k},
        **{f'teachers.teachers.{k}': v for k, v in
           saved_model.teachers.teachers.state_dict().items()})

    model = build_model(with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts))
    configured = {k: v.clone() for k, v in
                  model.teachers.teachers.state_dict().items()}
    for stored in state, older_state:
        warnings.clear()
        model.load_state_dict(stored, strict=True)
        assert all(torch.equal(v, configured[k]) for k, v in
                   model.teachers.teachers.state_dict().items())
        assert len(warnings) == 1
        assert "'resnet_b' (model.teachers[1].checkpoint)" in warnings[0]
        assert 'resnet_a' not in warnings[0]
        assert torch.equal(model.student.state_dict()['head.fc.weight'],
                           saved_model.student.state_dict()['head.fc.weight'])
    warnings.clear()
    saved_model.load_state_dict(older_state, strict=True)
    assert warnings == []
