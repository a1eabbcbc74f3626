"""Generate a deterministic synthetic "shapes" dataset for detection,
segmentation and classification.

Each image holds 2-5 coloured shapes of the classes in ``CLASSES`` (in the
domain ``shape_only`` a shape's colour is random, so only its shape tells
its class). A shape is drawn with ``cv2.fillPoly`` into an int32 *instance
id map* (0 = background, 1..n = instances in draw order, later shapes paint
over earlier ones); the RGB image, the segmentation label, the COCO
annotations and the classification label are all derived from that map, so
they agree pixel for pixel.

The data is the same on every machine: the geometry, the background
texture and the blur use Python floats and numpy's elementwise IEEE
operations in a fixed order (no libm or SIMD trigonometry, BLAS, or cv2
resize and blur, whose SIMD and IPP paths differ by CPU); cv2 only draws
and traces integer polygons. ``tests/data/shapes_manifest.json`` holds the
digests of every domain's files for a small setting; ``--manifest PATH``
writes it again (test_make_shapes.py fails where the data differs).

Usage::

    python tools/data/make_shapes.py --out data/shapes --num-train 200 \
        --num-val 50 --img-size 128 --seed 0 --domain clean

Layout under ``--out``::

    images/{train,val}/000000.png           RGB images
    annotations/instances_{train,val}.json  COCO instances (visible masks)
    seg_labels/{train,val}/000000.png       uint8, 0 = background, class + 1
    cls_labels/{train,val}.txt              '000000.png 2' (largest shape)
    meta.json                               classes, domain, seed, sizes
"""
import argparse
import hashlib
import json
import math
import re
import tempfile
import zlib
from functools import partial
from pathlib import Path
from typing import Callable, NamedTuple, Optional, Tuple

import cv2
import numpy as np

CLASSES = ('circle', 'square', 'triangle', 'star')
SPLITS = ('train', 'val')

NUM_OBJECTS = (2, 5)  # shapes per image, inclusive (fewer if they don't fit)
SIZE_RANGE = (0.12, 0.40)  # side of the equal-area square / image size
MIN_VISIBLE_FRACTION = 0.5  # of the shape's polygon area
MIN_VISIBLE_PIXELS = 40
MAX_TRIES = 50  # shape placements tried per image
COLOUR_JITTER = 20  # per-instance, per-channel offset to the class colour
CUBIC_A = -0.75  # cv2's INTER_CUBIC kernel parameter


def _power_series(x, count=48):
    """``[x**n / n! for n < count]`` by multiplications and divisions."""
    terms = [1.0]
    for n in range(1, count):
        terms.append(terms[-1] * x / n)
    return terms


def _cos_sin(angle):
    """cos and sin of ``angle`` from their Taylor series, summed by
    ``math.fsum``: the same bits on every machine (libm's and numpy's SIMD
    versions may differ in the last one)."""
    t = _power_series(math.remainder(angle, 2 * math.pi))  # |x| <= pi
    return (math.fsum(t[0::4] + [-v for v in t[2::4]]),
            math.fsum(t[1::4] + [-v for v in t[3::4]]))


def _regular_polygon(num_vertices):
    """Vertices of a regular polygon on the unit circle, first one up."""
    vertices = [_cos_sin(math.pi / 2 + 2 * math.pi * i / num_vertices)
                for i in range(num_vertices)]
    return np.array([(cos, -sin) for cos, sin in vertices])


def _star(num_points=5, inner_radius=0.45):
    """Vertices of a star alternating between radius 1 and ``inner_radius``."""
    radii = np.tile([1.0, inner_radius], num_points)[:, None]
    return _regular_polygon(2 * num_points) * radii


def _unit_area(polygon):
    """Scale ``polygon`` to area 1 (shoelace formula)."""
    x, y = polygon.T
    area = 0.5 * abs(math.fsum(x * np.roll(y, 1) - y * np.roll(x, 1)))
    return polygon / math.sqrt(area)


# Shapes have area 1 so that, for a given size, every class covers the same
# area: the size and the largest-shape label carry no class information.
UNIT_SHAPES = tuple(
    _unit_area(polygon) for polygon in (
        _regular_polygon(32), _regular_polygon(4), _regular_polygon(3),
        _star()))


def uniform_background(colour, rng, img_size):
    """A flat background of ``colour`` (RGB)."""
    return np.full((img_size, img_size, 3), colour, dtype=np.float32)


def _filter_axis(image, taps, weights, axis):
    """``out[i] = sum_k weights[i, k] * image[taps[i, k]]`` along ``axis``,
    in float64, one tap after the other: elementwise IEEE operations in a
    fixed order, the same bits on every machine."""
    image = np.moveaxis(np.asarray(image, dtype=np.float64), axis, 0)
    shape = (-1, ) + (1, ) * (image.ndim - 1)
    out = np.zeros((len(taps), ) + image.shape[1:])
    for k in range(taps.shape[1]):
        out += weights[:, k].reshape(shape) * image[taps[:, k]]
    return np.moveaxis(out, 0, axis)


def resize_cubic(image, img_size):
    """``image`` (h, w, c) resized to ``img_size`` squared as by cv2's
    INTER_CUBIC (pixel centres aligned, edges replicated)."""
    for axis in (0, 1):
        size = image.shape[axis]
        x = (np.arange(img_size) + 0.5) * (size / img_size) - 0.5
        first = np.floor(x)
        t, a = x - first, CUBIC_A
        w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
        w1 = ((a + 2) * t - (a + 3)) * t * t + 1
        w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
        weights = np.stack([w0, w1, w2, 1 - w0 - w1 - w2], axis=1)
        taps = first.astype(int)[:, None] + np.arange(-1, 3)
        image = _filter_axis(image, np.clip(taps, 0, size - 1), weights,
                             axis)
    return image


def gaussian_blur(image, sigma):
    """``image`` (h, w, c) blurred as by ``cv2.GaussianBlur(image, (0, 0),
    sigma)`` on floats: 2 round(4 sigma) + 1 taps, edges reflected
    (BORDER_REFLECT_101)."""
    radius = round(4 * sigma)
    offsets = np.arange(-radius, radius + 1)
    # exp(-z) as 1 / exp(z), by its series: no libm
    kernel = np.array([1 / math.fsum(_power_series(0.5 * (d / sigma)**2))
                       for d in offsets.tolist()])
    kernel /= math.fsum(kernel)
    for axis in (0, 1):
        size = image.shape[axis]
        period = 2 * (size - 1)
        taps = np.abs(np.arange(size)[:, None] + offsets) % period
        taps = np.minimum(taps, period - taps)
        image = _filter_axis(image, taps,
                             np.broadcast_to(kernel, taps.shape), axis)
    return image


def textured_background(rng, img_size):
    """A random linear gradient between two colours plus blotchy texture."""
    start, end = rng.uniform(70, 190, size=(2, 3))
    cos, sin = _cos_sin(rng.uniform(0, 2 * np.pi))
    ys, xs = np.mgrid[0:img_size, 0:img_size]
    ramp = xs * cos + ys * sin
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    gradient = start + ramp[..., None] * (end - start)
    blotches = rng.normal(0, 20, size=(8, 8, 3)).astype(np.float32)
    return (gradient + resize_cubic(blotches, img_size)).astype(np.float32)


class Domain(NamedTuple):
    """How a domain renders an image from its instance id map."""
    background: Callable  # (rng, img_size) -> float32 (S, S, 3) RGB
    # RGB colour per class; None: a random colour per instance, so that
    # only the shape tells the class
    palette: Optional[Tuple[Tuple[int, int, int], ...]]
    noise_std: float = 0.0  # gaussian pixel noise added last
    blur_sigma: float = 0.0  # gaussian blur applied after drawing


DOMAINS = {
    'clean': Domain(
        background=partial(uniform_background, (235, 235, 235)),
        palette=((220, 50, 50), (40, 160, 60), (40, 80, 220),
                 (240, 150, 20))),
    'dark': Domain(
        background=partial(uniform_background, (25, 25, 30)),
        palette=((60, 220, 230), (230, 70, 220), (240, 230, 60),
                 (235, 235, 235))),
    'noisy': Domain(
        background=textured_background,
        palette=((30, 40, 160), (250, 120, 30), (140, 40, 170),
                 (30, 200, 90)),
        noise_std=12.0),
    'blur': Domain(
        background=partial(uniform_background, (128, 128, 128)),
        palette=((40, 190, 40), (30, 60, 200), (210, 30, 30),
                 (250, 220, 40)),
        blur_sigma=1.5),
    'shape_only': Domain(
        background=partial(uniform_background, (235, 235, 235)),
        palette=None),
}


def _sample_polygon(rng, class_index, img_size):
    """A randomly scaled, rotated and placed polygon as int32 (k, 2) x, y."""
    unit = UNIT_SHAPES[class_index]
    size = rng.uniform(*SIZE_RANGE) * img_size
    cos, sin = _cos_sin(rng.uniform(0, 2 * np.pi))
    # The centre stays half a circumradius inside: mostly inside the image.
    margin = 0.5 * size * np.linalg.norm(unit, axis=1).max()
    centre = rng.uniform(margin, img_size - margin, size=2)
    x, y = unit.T  # rotated elementwise: a BLAS product may use FMA
    rotated = np.stack([x * cos - y * sin, x * sin + y * cos], axis=1)
    return np.rint(rotated * size + centre).astype(np.int32)


def _has_hole(mask):
    """Whether a uint8 mask has a hole, which a COCO polygon cannot encode."""
    _, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP,
                                    cv2.CHAIN_APPROX_SIMPLE)
    return hierarchy is not None and bool(np.any(hierarchy[0, :, 3] >= 0))


def _placement_ok(id_map, polygon_areas):
    """Whether every instance in ``id_map`` stays visible enough and whole.

    Each instance must keep ``MIN_VISIBLE_PIXELS`` and ``MIN_VISIBLE_FRACTION``
    of its polygon area, and no hole: a shape lying inside another one would
    make the outer shape's polygon cover it.
    """
    counts = np.bincount(id_map.ravel(), minlength=len(polygon_areas) + 1)
    needed = np.maximum(MIN_VISIBLE_PIXELS,
                        MIN_VISIBLE_FRACTION * np.asarray(polygon_areas))
    if np.any(counts[1:] < needed):
        return False
    return not any(
        _has_hole((id_map == instance_id).astype(np.uint8))
        for instance_id in range(1, len(polygon_areas) + 1))


def make_layout(rng, img_size):
    """Place shapes; return the int32 instance id map and their classes.

    A shape that would break ``_placement_ok`` for itself or an earlier shape
    is dropped and another one is tried, up to ``MAX_TRIES`` times per image.
    """
    num_objects = rng.integers(NUM_OBJECTS[0], NUM_OBJECTS[1] + 1)
    id_map = np.zeros((img_size, img_size), dtype=np.int32)
    classes, areas = [], []
    for _ in range(MAX_TRIES):
        if len(classes) == num_objects:
            break
        class_index = int(rng.integers(len(CLASSES)))
        polygon = _sample_polygon(rng, class_index, img_size)
        candidate = id_map.copy()
        cv2.fillPoly(candidate, [polygon], len(classes) + 1)
        polygon_area = cv2.contourArea(polygon.astype(np.float32))
        if _placement_ok(candidate, areas + [polygon_area]):
            id_map = candidate
            classes.append(class_index)
            areas.append(polygon_area)
    if not classes:
        raise RuntimeError(f'no shape fits a {img_size}px image')
    return id_map, classes


def instance_colours(rng, classes, domain):
    """(n, 3) RGB per instance: its class colour, jittered, or a random one
    (``palette=None``)."""
    if domain.palette is None:
        return rng.uniform(0, 200, size=(len(classes), 3)).astype(np.float32)
    palette = np.asarray(domain.palette, dtype=np.float32)
    jitter = rng.integers(-COLOUR_JITTER, COLOUR_JITTER + 1,
                          size=(len(classes), 3))
    return palette[classes] + jitter


def render_image(rng, id_map, classes, domain):
    """The uint8 RGB image of an id map in the style of ``domain``."""
    img_size = id_map.shape[0]
    colours = instance_colours(rng, classes, domain)
    image = domain.background(rng, img_size)
    drawn = id_map > 0
    image[drawn] = colours[id_map[drawn] - 1]
    if domain.blur_sigma:
        image = gaussian_blur(image, domain.blur_sigma)
    if domain.noise_std:
        image += rng.normal(0, domain.noise_std, size=image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def segmentation_label(id_map, classes):
    """uint8 label map: 0 = background, class index + 1 elsewhere."""
    lookup = np.array([0] + [c + 1 for c in classes], dtype=np.uint8)
    return lookup[id_map]


def instance_annotations(id_map, classes):
    """COCO annotation dicts (without ids) of the visible instance masks.

    Polygons trace the outer boundary pixels (``cv2.RETR_EXTERNAL``) through
    their centres: COCO coordinates are continuous, pixel (x, y) spans
    [x, x + 1) x [y, y + 1), so its centre is (x + 0.5, y + 0.5). Without that
    shift pycocotools rasterises the polygon half a pixel up and left.
    """
    annotations = []
    for instance_id, class_index in enumerate(classes, start=1):
        mask = (id_map == instance_id).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        ys, xs = np.nonzero(mask)
        annotations.append({
            'segmentation': [(c.ravel() + 0.5).tolist() for c in contours
                             if len(c) >= 3],
            'bbox': [int(xs.min()), int(ys.min()),
                     int(xs.max() - xs.min() + 1),
                     int(ys.max() - ys.min() + 1)],
            'area': int(len(xs)),
            'iscrowd': 0,
            'category_id': class_index + 1,
        })
    return annotations


def image_class(id_map, classes):
    """Class of the largest visible instance (ties: lower instance id)."""
    counts = np.bincount(id_map.ravel(), minlength=len(classes) + 1)
    return classes[int(np.argmax(counts[1:]))]


def _image_rng(seed, split, domain_name, index):
    """The generator of one image: stable across runs and Python versions."""
    return np.random.default_rng([
        seed, zlib.crc32(split.encode()), zlib.crc32(domain_name.encode()),
        index
    ])


def _write_json(path, obj):
    """Write ``obj`` as compact JSON with sorted keys (byte-reproducible)."""
    with open(path, 'w') as f:
        json.dump(obj, f, sort_keys=True, separators=(',', ':'))


def make_split(out_dir, split, num_images, img_size, seed, domain_name):
    """Write the images and the three label formats of one split."""
    out_dir = Path(out_dir)
    image_dir = out_dir / 'images' / split
    seg_dir = out_dir / 'seg_labels' / split
    for directory in (image_dir, seg_dir, out_dir / 'annotations',
                      out_dir / 'cls_labels'):
        directory.mkdir(parents=True, exist_ok=True)
    images, annotations, cls_lines = [], [], []
    for index in range(num_images):
        rng = _image_rng(seed, split, domain_name, index)
        id_map, classes = make_layout(rng, img_size)
        image = render_image(rng, id_map, classes, DOMAINS[domain_name])
        file_name = f'{index:06d}.png'
        cv2.imwrite(str(image_dir / file_name),
                    cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(seg_dir / file_name),
                    segmentation_label(id_map, classes))
        cls_lines.append(f'{file_name} {image_class(id_map, classes)}\n')
        image_id = index + 1
        images.append({'id': image_id, 'file_name': file_name,
                       'width': img_size, 'height': img_size})
        for ann in instance_annotations(id_map, classes):
            ann.update(id=len(annotations) + 1, image_id=image_id)
            annotations.append(ann)
    categories = [{'id': i + 1, 'name': name}
                  for i, name in enumerate(CLASSES)]
    _write_json(out_dir / 'annotations' / f'instances_{split}.json', {
        'info': {'description': f'synthetic shapes, domain {domain_name}'},
        'images': images,
        'annotations': annotations,
        'categories': categories,
    })
    (out_dir / 'cls_labels' / f'{split}.txt').write_text(''.join(cls_lines))


def make_shapes(out_dir, num_train, num_val, img_size, seed,
                domain='clean'):
    """Write the train and val splits and ``meta.json``; return the meta."""
    if domain not in DOMAINS:
        raise ValueError(
            f'unknown domain {domain!r}, known: {sorted(DOMAINS)}')
    counts = {'train': num_train, 'val': num_val}
    for split in SPLITS:
        make_split(out_dir, split, counts[split], img_size, seed, domain)
    meta = {'classes': list(CLASSES), 'domain': domain, 'seed': seed,
            'img_size': img_size, 'counts': counts}
    _write_json(Path(out_dir) / 'meta.json', meta)
    return meta


def file_digests(root):
    """{path under ``root``: sha256} of every file; a PNG's is of its pixels
    (dtype, shape and values): its bytes also depend on the zlib build."""
    digests = {}
    for path in sorted(Path(root).rglob('*')):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == '.png':
            pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            data = f'{pixels.dtype} {pixels.shape} '.encode() + \
                pixels.tobytes()
        name = path.relative_to(root).as_posix()
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def data_digest(root):
    """One sha256 of the ``file_digests`` of what ``make_shapes`` wrote under
    ``root`` (not the subsets the benchmarks add): equal where the data is."""
    splits = '|'.join(SPLITS)
    made = re.compile(
        rf'meta\.json|(images|seg_labels)/({splits})/\d+\.png|'
        rf'annotations/instances_({splits})\.json|cls_labels/({splits})\.txt')
    digests = {name: digest for name, digest in file_digests(root).items()
               if made.fullmatch(name)}
    text = json.dumps(digests, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def manifest(num_train, num_val, img_size, seed):
    """These options and the ``file_digests`` of every domain made with
    them (``<domain>/<file>``)."""
    options = dict(num_train=num_train, num_val=num_val, img_size=img_size,
                   seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        for domain in DOMAINS:
            make_shapes(Path(tmp) / domain, domain=domain, **options)
        return dict(options=options, files=file_digests(tmp))


def parse_args(argv=None):
    """The command line options; an unknown ``--domain`` is a usage error."""
    parser = argparse.ArgumentParser(
        description='Generate the synthetic shapes dataset (see the module '
        'docstring for the layout).')
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument('--out', help='output directory')
    target.add_argument(
        '--manifest', metavar='PATH',
        help='instead, write the digests of every domain made with these '
        'sizes and seed to PATH (tests/data/shapes_manifest.json)')
    parser.add_argument('--num-train', type=int, default=200)
    parser.add_argument('--num-val', type=int, default=50)
    parser.add_argument('--img-size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--domain', default='clean', choices=sorted(DOMAINS))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.manifest:
        command = (f'python tools/data/make_shapes.py --manifest '
                   f'{args.manifest} --num-train {args.num_train} --num-val '
                   f'{args.num_val} --img-size {args.img_size} '
                   f'--seed {args.seed}')
        result = dict(command=command, **manifest(
            args.num_train, args.num_val, args.img_size, args.seed))
        Path(args.manifest).write_text(
            json.dumps(result, indent=1, sort_keys=True) + '\n')
        print(f"Wrote {len(result['files'])} digests to {args.manifest}")
        return
    make_shapes(args.out, args.num_train, args.num_val, args.img_size,
                args.seed, args.domain)
    print(f'Wrote {args.num_train} train + {args.num_val} val '
          f'{args.img_size}px images of domain {args.domain!r} to {args.out}')


if __name__ == '__main__':
    main()
