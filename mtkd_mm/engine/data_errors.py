"""One line on why a dataset could not be read: which file, and what is
wrong with it. Used by the tools when a training or test loop fails.

The dataset at fault is found in the error's traceback: a frame whose
``self`` is the dataset (loading its annotations, or reading a sample in
this process), or else the running loop's dataloader (a dataloader worker
re-raises its error as text only).
"""
import json
import os.path as osp
import re

from mmengine.dataset import BaseDataset
from mmengine.runner import BaseLoop, TestLoop, ValLoop
from torch.utils.data import DataLoader

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# The files of a sample that a pipeline decodes as images.
IMAGE_KEYS = {'img_path': 'image', 'seg_map_path': 'segmentation map'}
# The first bytes of PNG, JPEG, BMP, TIFF, GIF, WebP, PNM and JPEG 2000.
IMAGE_SIGNATURES = (b'\x89PNG', b'\xff\xd8\xff', b'BM', b'II*\x00',
                    b'MM\x00*', b'GIF8', b'RIFF', b'P1', b'P2', b'P3', b'P4',
                    b'P5', b'P6', b'\x00\x00\x00\x0cjP', b'\xffO\xffQ')
# What decoders say about an image they cannot read (cv2, mmcv, PIL).
IMAGE_ERRORS = ('!buf.empty()', 'failed to load image',
                'cannot identify image file')


def explain_data_error(error, cfg):
    """The one-line reason ``error`` (raised while a loop built or read its
    datasets) names a bad data file, or None when it is not a data error."""
    dataset, frame, loop = failing_dataset(error)
    if isinstance(error, FileNotFoundError):
        return missing_data_file(error, cfg, loop)
    if dataset is None:
        return None
    where = config_key(cfg, dataset, loop)
    if frame is None:  # read by dataloader workers
        return image_problem(error, dataset, None, where)
    if not getattr(dataset, '_fully_initialized', True):
        return loading_problem(dataset, frame, where)
    return image_problem(error, dataset, frame.f_locals.get('idx'), where)


def frames(error):
    """The frames of ``error``'s traceback and of the errors it came from,
    outermost first."""
    while error is not None:
        tb = error.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        error = error.__cause__ or error.__context__


def failing_dataset(error):
    """``(dataset, frame, loop)``: the innermost dataset in the traceback and
    its frame, else the running loop's dataset (frame None); the loop."""
    dataset = frame = loop = None
    for each in frames(error):
        owner = each.f_locals.get('self')
        if isinstance(owner, BaseDataset):
            dataset, frame = owner, each
        elif isinstance(owner, BaseLoop):
            loop = owner
            loader = getattr(owner, 'dataloader', None)
            if frame is None and isinstance(loader, DataLoader):
                dataset = loader.dataset
    return dataset, frame, loop


def dataset_configs(cfg, loop=None):
    """``[(key, dataset config)]`` of the dataloaders, wrapped datasets
    included; the running loop's dataloader first."""
    first = ('val' if isinstance(loop, ValLoop) else
             'test' if isinstance(loop, TestLoop) else 'train')
    found = []

    def add(key, dataset):
        found.append((key, dataset))
        if isinstance(dataset.get('dataset'), dict):
            add(f'{key}.dataset', dataset['dataset'])
        for i, each in enumerate(dataset.get('datasets') or []):
            add(f'{key}.datasets.{i}', each)

    for name in sorted(LOADERS, key=lambda name: not name.startswith(first)):
        if isinstance(cfg.get(name), dict) and 'dataset' in cfg[name]:
            add(f'{name}.dataset', cfg[name]['dataset'])
    return found


def absolute(path):
    return osp.abspath(path) if path else ''


def config_key(cfg, dataset, loop):
    """Where the config defines ``dataset`` (``train_dataloader.dataset``,
    …), or its class name when no dataset config matches."""
    for key, config in dataset_configs(cfg, loop):
        root = config.get('data_root') or ''
        ann_file = config.get('ann_file') or ''
        if (absolute(root) == absolute(getattr(dataset, 'data_root', ''))
                and absolute(ann_file and osp.join(root, ann_file))
                == absolute(getattr(dataset, 'ann_file', ''))):
            return key
    return type(dataset).__name__


def data_locations(cfg, loop):
    """``[(key, path)]``: each dataset's data_root, ann_file and data_prefix
    paths, absolute; the running loop's first."""
    found = []
    for key, config in dataset_configs(cfg, loop):
        root = config.get('data_root') or ''
        prefix = config.get('data_prefix') or {}
        named = dict(ann_file=config.get('ann_file'), **(
            {f'data_prefix.{k}': v for k, v in prefix.items()}
            if isinstance(prefix, dict) else {'data_prefix': prefix}))
        if root:
            found.append((f'{key}.data_root', absolute(root)))
        found += [(f'{key}.{name}', absolute(osp.join(root, path)))
                  for name, path in named.items() if isinstance(path, str)]
    return found


def missing_data_file(error, cfg, loop):
    """A missing file that is a dataset's ann_file or under its data_root or
    data_prefix; None for any other path (a checkpoint, …)."""
    # A dataloader worker re-raises the error with its message only.
    found = re.search(r"No such file or directory: '([^']+)'", str(error))
    path = error.filename if isinstance(error.filename, str) else (
        found and found.group(1))
    if not path:
        return None
    path = absolute(path)
    locations = data_locations(cfg, loop)
    for key, location in locations:
        if path == location:
            return f"a data file is missing: '{path}' ({key})"
    for key, location in locations:
        if path.startswith(location + osp.sep):
            return (f"a data file is missing: '{path}' (under {key} "
                    f"'{location}')")
    return None


def loading_problem(dataset, frame, where):
    """What is wrong with the annotations ``dataset`` was loading, or that
    it found no sample; None when neither."""
    path = dataset.ann_file
    problem = annotation_file_problem(dataset) if path else None
    if problem:
        return f"{where}.ann_file: '{path}' {problem}"
    if frame.f_code.co_name == '_serialize_data' and not dataset.data_list:
        prefix = dataset.data_prefix
        source = (path or prefix.get('img_path') or prefix.get('img')
                  or dataset.data_root)
        suffix = getattr(dataset, 'img_suffix', None)
        return (f"{where}: no samples in '{source}'" +
                (f" (files ending in '{suffix}')" if suffix else '') +
                (f' that pass filter_cfg {dataset.filter_cfg}'
                 if dataset.filter_cfg else ''))
    return None


def annotation_file_problem(dataset):
    """Why ``dataset.ann_file`` cannot be read as the dataset expects, or
    None if it looks right."""
    path = dataset.ann_file
    if not osp.isfile(path):
        return None
    with open(path, 'rb') as f:
        content = f.read()
    if not content.strip():
        return 'is empty'
    if path.endswith('.json'):
        try:
            annotations = json.loads(content)
        except ValueError as error:
            return f'is not valid JSON ({error})'
        if hasattr(dataset, 'COCOAPI'):  # mmdet's COCO-style datasets
            keys = ('images', 'annotations', 'categories')
        elif type(dataset).load_data_list is BaseDataset.load_data_list:
            keys = ('data_list', 'metainfo')
        else:
            return None
        if not isinstance(annotations, dict):
            return (f'holds a {type(annotations).__name__}, not a dict of '
                    f'{keys}')
        missing = [key for key in keys if key not in annotations]
        return f'has no {missing}' if missing else None
    if getattr(dataset, 'with_label', False):  # mmpretrain's CustomDataset
        lines = content.decode(errors='replace').splitlines()
        for number, line in enumerate(lines, 1):
            parts = line.strip().rsplit(' ', 1)
            if len(parts) != 2 or not re.fullmatch(r'[+-]?\d+', parts[1]):
                return (f"line {number} {line!r} is not '<image> <integer "
                        "label>'")
    return None


def image_problem(error, dataset, idx, where):
    """A damaged image of sample ``idx`` (with dataloader workers, idx None:
    of any sample, if ``error`` is an image decoder's)."""
    # mmcv names an image it could not decode (a worker's message quotes
    # the source line first)
    named = re.findall(r'failed to load image: (.+)', str(error))
    if named:
        return f"{where}: image '{named[-1].strip()}' cannot be decoded"
    if idx is None and not any(text in str(error) for text in IMAGE_ERRORS):
        return None
    for leaf in leaves(dataset):
        for i in range(len(leaf)) if idx is None else [idx]:
            info = leaf.get_data_info(i)
            for key, what in IMAGE_KEYS.items():
                problem = image_file_problem(info.get(key))
                if problem:
                    return f"{where}: {what} '{info[key]}' {problem}"
    return None


def leaves(dataset):
    """The datasets that hold the samples of a (wrapped) dataset."""
    if hasattr(dataset, 'datasets'):
        return [leaf for each in dataset.datasets for leaf in leaves(each)]
    if hasattr(dataset, 'dataset'):
        return leaves(dataset.dataset)
    return [dataset]


def image_file_problem(path):
    """'is empty' or 'is not an image' for a damaged image file; None for
    one that looks right, or no file."""
    if not isinstance(path, str) or not osp.isfile(path):
        return None
    with open(path, 'rb') as f:
        head = f.read(16)
    if not head:
        return 'is empty (0 bytes)'
    if not head.startswith(IMAGE_SIGNATURES):
        return f'is not an image file (it starts with {head[:8]!r})'
    return None
