"""A damaged data file stops tools/train.py with one line naming it (exit
status 2): annotation files, images and label lines, read in this process
or by dataloader workers."""
import json
import shutil

import pytest

from mtkd_mm.config_refs import read_config
from mtkd_mm.engine.data_errors import explain_data_error
from tests.conftest import REPO
from tests.test_tools.test_bad_input import (  # noqa: F401  (fixture)
    assert_one_line_error, tool)

CONFIGS = REPO / 'configs' / 'shapes'
CLS = CONFIGS / 'resnet18_narrow_shapes.py'
DET = CONFIGS / 'faster-rcnn_r18_fpn_narrow_shapes.py'
SEG = CONFIGS / 'deeplabv3_r18-d8_narrow_shapes.py'


@pytest.fixture
def root(tmp_path, shapes_root):
    """A copy of the shapes data, to damage."""
    return shutil.copytree(shapes_root, tmp_path / 'shapes')


def train(tool, config, root, *options):
    """stderr of one unshuffled training iteration on the data under
    ``root`` (read in this process unless ``options`` say otherwise),
    which must fail with exit status 2."""
    code, err = tool(
        'train', config, '--work-dir', root.parent / 'work', '--cfg-options',
        *(f'{loader}.dataset.data_root={root}/'
          for loader in ('train_dataloader', 'val_dataloader',
                         'test_dataloader')),
        'train_cfg.max_iters=1', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.sampler.shuffle=False', *options)
    assert code == 2, err
    return err


def without(key):
    return lambda text: json.dumps(
        {k: v for k, v in json.loads(text).items() if k != key})


@pytest.mark.parametrize('damage,reason', [
    (lambda text: '', 'is empty'),
    (lambda text: text[:len(text) // 2], 'is not valid JSON'),
    (lambda text: json.dumps(json.loads(text)['images']),
     "holds a list, not a dict of ('images', 'annotations', 'categories')"),
    (without('images'), "has no ['images']"),
    (without('annotations'), "has no ['annotations']"),
], ids=['empty', 'truncated', 'list', 'no-images', 'no-annotations'])
def test_bad_coco_annotation_file(tool, root, damage, reason):
    ann_file = root / 'annotations' / 'instances_train.json'
    ann_file.write_text(damage(ann_file.read_text()))
    err = train(tool, DET, root)
    assert_one_line_error(err, "train_dataloader.dataset.ann_file: "
                          f"'{ann_file}' {reason}")


@pytest.mark.parametrize('workers', [0, 2])
@pytest.mark.parametrize('damage,reason', [
    (lambda data: b'', 'is empty (0 bytes)'),
    (lambda data: data[:len(data) // 2], 'cannot be decoded'),
], ids=['empty', 'truncated'])
def test_damaged_image(tool, root, damage, reason, workers):
    first = (root / 'cls_labels' / 'train.txt').read_text().split()[0]
    image = root / 'images' / 'train' / first
    image.write_bytes(damage(image.read_bytes()))
    err = train(tool, CLS, root, f'train_dataloader.num_workers={workers}')
    assert_one_line_error(
        err, f"train_dataloader.dataset: image '{image}' {reason}")


def test_damaged_segmentation_map(tool, root):
    seg_map = sorted((root / 'seg_labels' / 'train').iterdir())[0]
    seg_map.write_bytes(b'<html>not found</html>')
    err = train(tool, SEG, root)
    assert_one_line_error(
        err, f"train_dataloader.dataset: segmentation map '{seg_map}' is not "
        "an image file (it starts with b'<html>no')")


def test_no_images_in_the_segmentation_folder(tool, root):
    for image in (root / 'images' / 'train').iterdir():
        image.rename(image.with_suffix('.jpeg'))
    err = train(tool, SEG, root)
    assert_one_line_error(
        err, "train_dataloader.dataset: no samples in "
        f"'{root / 'images' / 'train'}' (files ending in '.png')")


def test_label_that_is_not_a_number(tool, root):
    labels = root / 'cls_labels' / 'train.txt'
    lines = labels.read_text().splitlines()
    labels.write_text('\n'.join(lines[:2] + ['x.png notanumber'] + lines[2:]))
    err = train(tool, CLS, root)
    assert_one_line_error(
        err, f"train_dataloader.dataset.ann_file: '{labels}' line 3 "
        "'x.png notanumber' is not '<image> <integer label>'")


def test_missing_image_read_by_a_worker(tool, root):
    first = (root / 'cls_labels' / 'train.txt').read_text().split()[0]
    image = root / 'images' / 'train' / first
    image.unlink()
    err = train(tool, CLS, root, 'train_dataloader.num_workers=2')
    assert_one_line_error(
        err, f"a data file is missing: '{image}' (under "
        f"train_dataloader.dataset.data_root '{root}')")


def test_only_missing_data_files_are_called_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = read_config(str(CLS))
    checkpoint = FileNotFoundError(2, 'No such file or directory',
                                   str(tmp_path / 'teacher.pth'))
    assert explain_data_error(checkpoint, cfg) is None
    # as a dataloader worker re-raises it: the message only
    image = FileNotFoundError(
        'Caught FileNotFoundError in DataLoader worker process 0.\n'
        "FileNotFoundError: [Errno 2] No such file or directory: "
        "'data/shapes/images/val/000007.png'")
    assert explain_data_error(image, cfg) == (
        f"a data file is missing: '{tmp_path}/data/shapes/images/val/"
        "000007.png' (under train_dataloader.dataset.data_root "
        f"'{tmp_path}/data/shapes')")
