# Cost benchmark (tools/analysis/benchmark_distill.py): the shapes Faster
# R-CNN student with three shapes Faster R-CNN teachers, AVER weights.
_base_ = '../_base_/distill/shapes_faster-rcnn.py'

teacher_config = 'mtkd_mm::shapes/faster-rcnn_r18_fpn_narrow_shapes.py'
model = dict(teachers=[
    dict(name=name, config=teacher_config,
         checkpoint=f'work_dirs/shapes_teachers/faster-rcnn_{name}.pth')
    for name in ('a', 'b', 'c')
])
