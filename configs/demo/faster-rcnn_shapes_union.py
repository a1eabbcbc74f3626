# The demo's detection student (tools/demo/domain_demo.py --task detection):
# the shapes Faster R-CNN trained on the union of three shapes domains. The
# demo writes the union's COCO files to data/shapes_union/annotations/ (one
# image list, file names relative to data/, so that one COCO evaluator
# scores the union).
_base_ = '../shapes/faster-rcnn_r18_fpn_narrow_shapes.py'

data_root = 'data/'
union = 'shapes_union/annotations/'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=union + 'instances_train.json',
        data_prefix=dict(img='')))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=union + 'instances_val.json',
        data_prefix=dict(img='')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + union + 'instances_val.json')
test_evaluator = val_evaluator
