# The demo's one-stage detection student (tools/demo/domain_demo.py --task
# one_stage_detection): the shapes FCOS trained on the union of three shapes
# domains, on the COCO files of faster-rcnn_shapes_union.py.
_base_ = '../shapes/fcos_r18_fpn_narrow_shapes.py'

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
