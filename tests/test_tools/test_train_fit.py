"""tools/analysis/train_fit.py: a demo run tested on its student's own
training images, in the test pipeline; MMSeg's per-class table read
back; the table it prints."""
from mmengine.config import Config

from tests.conftest import REPO, load_tool_module

train_fit = load_tool_module('tools/analysis/train_fit.py')
demo = load_tool_module('tools/demo/domain_demo.py')


def demo_config(task, method='aver'):
    """The demo's ``method`` config of ``task`` with the student's images
    (the first 30 of each domain), as a run dumps it."""
    task = demo.TASKS[task]
    cfg = Config.fromfile(REPO / 'configs' / 'demo' /
                          f'{task.student}_{method}.py')
    cfg.merge_from_dict(dict(option.split('=', 1)
                             for option in demo.student_subset(task, 30)))
    return cfg


def test_segmentation_is_tested_on_each_domains_training_images():
    cfg = demo_config('segmentation')
    tested = train_fit.on_training_images(cfg)
    test_sets = tested.test_dataloader.dataset.datasets
    for test_set, train_set, val_set in zip(
            test_sets, cfg.train_dataloader.dataset.datasets,
            cfg.test_dataloader.dataset.datasets):
        assert test_set.ann_file == 'seg_labels/train_first30.txt'
        assert test_set.data_prefix == train_set.data_prefix
        assert test_set.pipeline == val_set.pipeline != train_set.pipeline
    # the run's own config is untouched
    assert cfg.test_dataloader.dataset.datasets[0].data_prefix.img_path == \
        'images/val'


def test_detection_is_scored_against_the_training_images_annotations():
    cfg = demo_config('detection')
    tested = train_fit.on_training_images(cfg)
    dataset = tested.test_dataloader.dataset
    assert dataset.ann_file.endswith('instances_train_first30.json')
    assert tested.test_evaluator.ann_file == (
        'data/shapes_union/annotations/instances_train_first30.json')
    assert dataset.pipeline == cfg.test_dataloader.dataset.pipeline
    assert 'filter_cfg' not in dataset


def test_class_ious_reads_the_last_per_class_table():
    table = ('per class results:\n'
             '+------------+-------+-------+\n'
             '|   Class    |  IoU  |  Acc  |\n'
             '+------------+-------+-------+\n'
             '| background | {bg} | 99.63 |\n'
             '|   circle   |  0.0  |  0.0  |\n'
             '|  triangle  |  nan  |  nan  |\n'
             '+------------+-------+-------+\n'
             'Iter(test) [90/90]    aAcc: 90.7400  mIoU: 62.1500\n')
    log = table.format(bg='10.0') + table.format(bg='87.09')
    ious = train_fit.class_ious(log)
    assert ious['background'] == 87.09 and ious['circle'] == 0.0
    assert list(ious) == ['background', 'circle', 'triangle']
    assert train_fit.class_ious('Iter(test) coco/bbox_mAP: 0.3') == {}


def test_table_gives_the_gap_and_the_missed_classes_per_seed():
    demo_json = dict(task='segmentation', students={
        'student, AVER': dict(runs={'0': 60.0, '1': 50.0})})
    fit = dict(aver={0: dict(metric=66.0, missed=[]),
                     1: dict(metric=52.0, missed=['circle', 'star'])})
    header, rule, row = train_fit.table(demo_json, fit, 2)
    assert 'classes below 5 % IoU' in header and rule.count('---') == 5
    assert row == ('| student, AVER | 59.00 ± 9.90 | 55.00 ± 7.07 '
                   '| -4.00; -6.00, -2.00 | none; circle, star |')


def test_a_run_trained_again_makes_its_earlier_test_stale(tmp_path):
    import os
    checkpoint = tmp_path / 'iter_200.pth'
    checkpoint.write_bytes(b'')
    test = tmp_path / 'train_fit' / '20261206_000000' / 'result.json'
    test.parent.mkdir(parents=True)
    test.write_text('{}')
    os.utime(checkpoint, (1000, 1000))
    os.utime(test, (2000, 2000))
    assert train_fit.last_test(tmp_path / 'train_fit', checkpoint) == test
    os.utime(checkpoint, (3000, 3000))  # trained again, after the test
    assert train_fit.last_test(tmp_path / 'train_fit', checkpoint) is None
