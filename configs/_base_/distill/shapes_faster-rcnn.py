# Multi-teacher distillation on shapes: the narrow Faster R-CNN R18 student
# learns from two shapes-trained Faster R-CNN teachers. Method configs
# (configs/baselines/<method>/, configs/mtkd_rl/) set model.weighting.
# Teacher checkpoints (paths below): python tools/train_shapes_teachers.py
# --tasks detection trains them (about 3 min on 2 CPU cores).
# The distillation terms are the distiller's defaults: AVER, T = 4, α = 1,
# FeatureMSE with β = 5 (MultiTeacherDistiller).
_base_ = '../../shapes/faster-rcnn_r18_fpn_narrow_shapes.py'

teacher_config = 'mtkd_mm::shapes/faster-rcnn_r18_fpn_narrow_shapes.py'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='frcnn_a', config=teacher_config,
             checkpoint='work_dirs/shapes_teachers/faster-rcnn_a.pth'),
        dict(name='frcnn_b', config=teacher_config,
             checkpoint='work_dirs/shapes_teachers/faster-rcnn_b.pth'),
    ])
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
