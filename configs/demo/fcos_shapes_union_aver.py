# The demo's one-stage detection distillation (tools/demo/domain_demo.py
# --task one_stage_detection): the union student learns from three FCOS
# teachers, each trained on one domain (clean, dark, noisy; the demo trains
# them into work_dirs/demo_one_stage_detection/teacher_*). AVER weights; the
# other variants change only the weighting or the temperature. T = 1 and the
# distillation terms as the KD-gain benchmark's one-stage detection
# (configs/kd_gain/one_stage_distill.py). The teachers are evaluated on the
# union before training, and the mean weight each teacher receives on each
# domain's images (an image's weight: the mean over its positive priors) over
# the last half of training is written to
# WORK_DIR/teacher_weights_by_domain.json.
_base_ = './fcos_shapes_union.py'

teacher_config = 'mtkd_mm::shapes/fcos_r18_fpn_narrow_shapes.py'
work = 'work_dirs/demo_one_stage_detection/'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='clean', config=teacher_config,
             checkpoint=work + 'teacher_clean/iter_200.pth'),
        dict(name='dark', config=teacher_config,
             checkpoint=work + 'teacher_dark/iter_200.pth'),
        dict(name='noisy', config=teacher_config,
             checkpoint=work + 'teacher_noisy/iter_200.pth'),
    ],
    weighting=dict(type='AVER'),
    temperature=1.0,
    logit_loss_weight=1.0,
    feature_loss=dict(type='FeatureMSE'),
    feature_loss_weight=5.0)
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
# the teachers' metrics on the union before training; the weights per domain,
# and the share of each domain's points each teacher predicts right
demo_hooks = [
    dict(type='mtkd_mm.TeacherEvalHook'),
    dict(type='mtkd_mm.TeacherWeightsByDomainHook', start_iter=100,
         quantities=('teacher_accuracy', )),
]
custom_hooks = demo_hooks
# the mean weight per teacher on each domain's images over the iterations
# (domain_weight/<domain>/<teacher>): vis_data/scalars.json and TensorBoard
# (tensorboard --logdir WORK_DIR)
visualizer = dict(vis_backends=[
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend')
])
