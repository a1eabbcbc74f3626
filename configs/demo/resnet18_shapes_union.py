# The demo's student: the narrow ResNet-18 trained on the union of three
# shapes domains (tools/demo.sh makes data/shapes_clean, data/shapes_dark and
# data/shapes_noisy).
_base_ = '../shapes/resnet18_narrow_shapes.py'

domains = [
    'data/shapes_clean/', 'data/shapes_dark/', 'data/shapes_noisy/'
]


def split(root, name, pipeline):
    return dict(
        type='CustomDataset',
        data_root=root,
        metainfo={{_base_.metainfo}},
        ann_file=f'cls_labels/{name}.txt',
        data_prefix=f'images/{name}',
        pipeline=pipeline)


train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            split(root, 'train', {{_base_.train_pipeline}})
            for root in domains
        ]))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            split(root, 'val', {{_base_.test_pipeline}}) for root in domains
        ]))
test_dataloader = val_dataloader
