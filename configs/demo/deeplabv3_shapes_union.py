# The demo's segmentation student (tools/demo/domain_demo.py --task
# segmentation): the shapes DeepLabV3 trained on the union of three shapes
# domains (the demo makes data/shapes_clean, data/shapes_dark and
# data/shapes_noisy; it restricts each domain to the student's images with
# an ann_file list of image names).
_base_ = '../shapes/deeplabv3_r18-d8_narrow_shapes.py'

domains = [
    'data/shapes_clean/', 'data/shapes_dark/', 'data/shapes_noisy/'
]


def split(root, name, pipeline):
    return dict(
        type='BaseSegDataset',
        data_root=root,
        metainfo={{_base_.metainfo}},
        img_suffix='.png',
        seg_map_suffix='.png',
        data_prefix=dict(
            img_path=f'images/{name}', seg_map_path=f'seg_labels/{name}'),
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
