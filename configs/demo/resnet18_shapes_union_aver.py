# The demo's distillation: the union student learns from three teachers, each
# trained on one domain (clean, dark, noisy; tools/demo.sh trains them into
# work_dirs/demo/teacher_*). AVER weights; the MTKD-RL and CA-MKD
# variants change only the weighting. The teachers are evaluated on the
# union before training, and the mean weight each teacher receives on each
# domain over the last half of training is written to
# WORK_DIR/teacher_weights_by_domain.json.
_base_ = './resnet18_shapes_union.py'

teacher_config = 'mtkd_mm::shapes/resnet18_narrow_shapes.py'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='clean', config=teacher_config,
             checkpoint='work_dirs/demo/teacher_clean/iter_200.pth'),
        dict(name='dark', config=teacher_config,
             checkpoint='work_dirs/demo/teacher_dark/iter_200.pth'),
        dict(name='noisy', config=teacher_config,
             checkpoint='work_dirs/demo/teacher_noisy/iter_200.pth'),
    ],
    weighting=dict(type='AVER'),
    temperature=4.0,
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
