"""Tests of tools/data/make_shapes.py, the synthetic shapes dataset."""
import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

SCRIPT = Path(__file__).parents[2] / 'tools' / 'data' / 'make_shapes.py'
SIZES = dict(num_train=20, num_val=8, img_size=64)
MANIFEST = Path(__file__).parents[1] / 'data' / 'shapes_manifest.json'
# switch off the CPU-dependent code paths of cv2 (its SIMD and IPP), numpy
# (its SIMD above the baseline) and OpenBLAS (its CPU's kernels)
PLAIN_CPU = dict(OPENCV_IPP='disabled',
                 OPENCV_CPU_DISABLE='AVX2,FMA3,AVX,FP16,POPCNT,SSE4_2,'
                 'SSE4_1,SSSE3',
                 NPY_DISABLE_CPU_FEATURES='X86_V3 X86_V4 AVX512_ICL',
                 OPENBLAS_CORETYPE='Prescott')


def _load_module():
    spec = importlib.util.spec_from_file_location('make_shapes', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_shapes_module = _load_module()


def _files(root):
    """{relative path: bytes} of every file under ``root``."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob('*')) if p.is_file()}


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp('shapes')
    make_shapes_module.make_shapes(out, seed=0, **SIZES)
    return out


def _split_data(root, split):
    """The COCO object and the {file name: class} labels of one split."""
    coco = COCO(str(root / 'annotations' / f'instances_{split}.json'))
    lines = (root / 'cls_labels' / f'{split}.txt').read_text().splitlines()
    cls_labels = dict(line.split() for line in lines)
    return coco, cls_labels


def _run_cli(out, *args, hash_seed='1', option='--out', env=None):
    """Run the script in a fresh interpreter with its own str hash seed."""
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, **(env or {}))
    return subprocess.run(
        [sys.executable, str(SCRIPT), option, str(out), *map(str, args)],
        capture_output=True, text=True, env=env)


def _check_manifest(found):
    """Fail naming the first file whose digest is not the manifest's."""
    manifest = json.loads(MANIFEST.read_text())
    expected = manifest['files']
    differing = [name for name in sorted(set(found) | set(expected))
                 if found.get(name) != expected.get(name)]
    assert not differing, (
        f'{differing[0]} differs from {MANIFEST} ({len(differing)} of '
        f'{len(expected)} files differ). If make_shapes.py changed on '
        f"purpose, write the manifest again: {manifest['command']}; "
        'otherwise this machine makes other data than the one that wrote '
        'it: a library version (requirements/cpu.txt pins numpy and '
        'opencv-python) or a step that depends on the CPU.')


def test_data_matches_the_manifest():
    options = json.loads(MANIFEST.read_text())['options']
    _check_manifest(make_shapes_module.manifest(**options)['files'])


@pytest.mark.skipif(platform.machine() != 'x86_64',
                    reason='the switches name x86 code paths')
def test_data_does_not_depend_on_cpu_code_paths(tmp_path):
    options = json.loads(MANIFEST.read_text())['options']
    args = [x for key, value in options.items()
            for x in (f"--{key.replace('_', '-')}", value)]
    path = tmp_path / 'manifest.json'
    result = _run_cli(path, *args, option='--manifest', env=PLAIN_CPU)
    assert result.returncode == 0, result.stderr
    _check_manifest(json.loads(path.read_text())['files'])


def test_determinism(dataset, tmp_path):
    # Another process with another hash seed: catches a use of hash().
    args = ['--num-train', SIZES['num_train'], '--num-val', SIZES['num_val'],
            '--img-size', SIZES['img_size'], '--seed', 0]
    assert _run_cli(tmp_path / 'again', *args, hash_seed='123').returncode == 0
    first, again = _files(dataset), _files(tmp_path / 'again')
    assert sorted(first) == sorted(again)
    assert all(first[name] == again[name] for name in first)
    assert first['images/train/000000.png'] != first['images/val/000000.png']

    make_shapes_module.make_shapes(tmp_path / 'seed1', seed=1, **SIZES)
    make_shapes_module.make_shapes(
        tmp_path / 'dark', seed=0, domain='dark', **SIZES)
    for other in ('seed1', 'dark'):
        files = _files(tmp_path / other)
        for split in ('train', 'val'):
            name = f'images/{split}/000000.png'
            assert files[name] != first[name], (other, name)


def test_data_digest_is_of_the_generated_files(dataset, tmp_path):
    copy = tmp_path / 'copy'
    for name, data in _files(dataset).items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(data)
    digest = make_shapes_module.data_digest(dataset)
    # the subsets that the benchmarks add do not count
    (copy / 'cls_labels' / 'train_first2.txt').write_text('000000.png 1\n')
    assert make_shapes_module.data_digest(copy) == digest
    (copy / 'cls_labels' / 'val.txt').write_text('000000.png 1\n')
    assert make_shapes_module.data_digest(copy) != digest


@pytest.mark.parametrize('split', ['train', 'val'])
def test_formats_agree(dataset, split):
    coco, cls_labels = _split_data(dataset, split)
    for image_id, image in coco.imgs.items():
        label = cv2.imread(
            str(dataset / 'seg_labels' / split / image['file_name']),
            cv2.IMREAD_UNCHANGED)
        h, w = label.shape
        anns = coco.imgToAnns[image_id]
        for ann in anns:
            rles = mask_utils.frPyObjects(ann['segmentation'], h, w)
            drawn = mask_utils.decode(rles).max(axis=2).astype(bool)
            assert drawn.any()
            assert (label[drawn] == ann['category_id']).mean() >= 0.9
            x, y, bw, bh = ann['bbox']
            ys, xs = np.nonzero(drawn)
            assert x <= xs.min() and xs.max() < x + bw
            assert y <= ys.min() and ys.max() < y + bh
            in_box = label[y:y + bh, x:x + bw] == ann['category_id']
            assert 0.9 * drawn.sum() <= ann['area'] <= in_box.sum()
        assert set(np.unique(label)) - {0} == {a['category_id'] for a in anns}
        largest = max(anns, key=lambda a: a['area'])
        assert int(cls_labels[image['file_name']]) == \
            largest['category_id'] - 1


def test_layout_rules():
    # Many more layouts than the dataset fixture: rare cases such as a shape
    # inside another, which a polygon without holes cannot describe.
    for index in range(200):
        id_map, classes = make_shapes_module.make_layout(
            np.random.default_rng(index), 64)
        assert 1 <= len(classes) <= 5
        for instance_id in range(1, len(classes) + 1):
            mask = (id_map == instance_id).astype(np.uint8)
            assert mask.sum() >= make_shapes_module.MIN_VISIBLE_PIXELS
            _, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP,
                                            cv2.CHAIN_APPROX_SIMPLE)
            assert (hierarchy[0, :, 3] < 0).all(), (index, instance_id)


@pytest.mark.parametrize('split', ['train', 'val'])
def test_coco_valid(dataset, split):
    coco, _ = _split_data(dataset, split)
    assert len(coco.imgs) == SIZES[f'num_{split}']
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == \
        list(make_shapes_module.CLASSES)
    for image_id, image in coco.imgs.items():
        assert len(coco.getAnnIds(imgIds=[image_id])) >= 1
        image_file = dataset / 'images' / split / image['file_name']
        pixels = cv2.imread(str(image_file))
        assert pixels.shape == (image['height'], image['width'], 3)
    if split == 'train':
        used = {a['category_id'] for a in coco.anns.values()}
        assert used == {1, 2, 3, 4}


def test_cli(tmp_path):
    out = tmp_path / 'cli'
    result = _run_cli(out, '--num-train', 3, '--num-val', 2, '--img-size', 64,
                      '--seed', 3, '--domain', 'noisy')
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    expected = {'meta.json', 'annotations/instances_train.json',
                'annotations/instances_val.json', 'cls_labels/train.txt',
                'cls_labels/val.txt'}
    for split, count in (('train', 3), ('val', 2)):
        for index in range(count):
            expected |= {f'images/{split}/{index:06d}.png',
                         f'seg_labels/{split}/{index:06d}.png'}
    assert set(_files(out)) == expected
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['counts'] == {'train': 3, 'val': 2}
    assert meta['domain'] == 'noisy'
    val_lines = (out / 'cls_labels' / 'val.txt').read_text().splitlines()
    assert [line.split()[0] for line in val_lines] == \
        ['000000.png', '000001.png']

    bad = _run_cli(tmp_path / 'bad', '--domain', 'nope')
    assert bad.returncode == 2  # an argparse usage error
    assert 'nope' in bad.stderr
    for name in make_shapes_module.DOMAINS:
        assert name in bad.stderr
    assert not (tmp_path / 'bad').exists()


def test_shape_only_colours_say_nothing_of_the_class(tmp_path):
    """In ``shape_only`` each instance has its own random colour: the
    shapes of one class do not share a colour, unlike in ``clean``."""
    spread = {}
    for domain in ('clean', 'shape_only'):
        make_shapes_module.make_shapes(tmp_path / domain, 20, 1, 64, 0,
                                       domain)
        colours = {}
        for image_path in sorted((tmp_path / domain / 'images' /
                                  'train').glob('*.png')):
            image = cv2.imread(str(image_path))
            label = cv2.imread(str(tmp_path / domain / 'seg_labels' /
                                   'train' / image_path.name),
                               cv2.IMREAD_GRAYSCALE)
            for cls in np.unique(label[label > 0]):
                colours.setdefault(cls, []).append(
                    image[label == cls].mean(axis=0))
        spread[domain] = np.mean(
            [np.std(c, axis=0).mean() for c in colours.values()])
    assert spread['clean'] < 15 < 40 < spread['shape_only']
