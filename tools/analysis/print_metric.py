"""Print the last value of a metric logged in a work dir.

    python tools/analysis/print_metric.py WORK_DIR coco/bbox_mAP [mIoU ...]
"""
import argparse
import json
from pathlib import Path


def last_value(work_dir, key):
    """The last value of ``key`` in the newest run's ``scalars.json``."""
    runs = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    if not runs:
        raise SystemExit(f'print_metric.py: error: no run logs in {work_dir}')
    values = [json.loads(line).get(key)
              for line in runs[-1].read_text().splitlines()]
    values = [v for v in values if v is not None]
    if not values:
        raise SystemExit(f'print_metric.py: error: {key} not logged in '
                         f'{runs[-1]}')
    return values[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('work_dir')
    parser.add_argument('metrics', nargs='+')
    args = parser.parse_args()
    for key in args.metrics:
        print(f'{key}: {last_value(args.work_dir, key)}')


if __name__ == '__main__':
    main()
