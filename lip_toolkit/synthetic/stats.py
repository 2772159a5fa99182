"""Compare pose CSVs (synthetic and real) by the statistics that matter for training and scoring.

Run ``python -m lip_toolkit.synthetic.stats CSV [CSV ...]`` to print them side by side; docs/synthetic.md
quotes its output.
"""
import sys
from pathlib import Path
from typing import Dict, Sequence

import numpy as np

JOINT_NAMES = ('r_ankle', 'r_knee', 'r_hip', 'l_hip', 'l_knee', 'l_ankle', 'pelvis', 'spine', 'neck', 'head_top',
               'r_wrist', 'r_elbow', 'r_shoulder', 'l_shoulder', 'l_elbow', 'l_wrist')


def describe_pose_csv(path) -> Dict[str, object]:
    """Statistics of a LIP ground-truth pose CSV.

    Returns:
        ``rows``; ``unlabelled`` and ``occluded`` (shares of all joints that are ``nan`` or have v=1);
        ``all_16_labelled`` (share of rows); ``left_hip_on_image_right`` (share of rows with both hips, i.e.
        people facing the camera); ``min_coordinate``; ``coordinate_is_1`` (share of labelled values equal
        to 1, the clamped border); ``per_joint_unlabelled`` and ``per_joint_occluded`` (dicts by joint name,
        occluded as a share of that joint's labelled rows).
    """
    from ..pose.lip_csv import read_lip_gt_csv
    _, keypoints = read_lip_gt_csv(path)
    labelled = ~np.isnan(keypoints[..., 0])
    occluded = keypoints[..., 2] == 1
    both_hips = labelled[:, 3] & labelled[:, 2]
    return {
        'rows': int(len(keypoints)),
        'unlabelled': float(1.0 - labelled.mean()),
        'occluded': float(occluded.sum() / occluded.size),
        'all_16_labelled': float(labelled.all(axis=1).mean()),
        'left_hip_on_image_right': float((keypoints[both_hips, 3, 0] > keypoints[both_hips, 2, 0]).mean()),
        'min_coordinate': float(np.nanmin(keypoints[..., :2])),
        'coordinate_is_1': float((keypoints[..., :2][labelled] == 1).mean()),
        'per_joint_unlabelled': dict(zip(JOINT_NAMES, (1.0 - labelled.mean(axis=0)).tolist())),
        'per_joint_occluded': dict(zip(JOINT_NAMES, (occluded.sum(0) / np.maximum(1, labelled.sum(0))).tolist())),
    }


def format_table(paths: Sequence[str]) -> str:
    """A plain-text table, one column per CSV (shares in percent)."""
    stats = [describe_pose_csv(p) for p in paths]
    header = ['statistic'] + [Path(p).parent.parent.name + '/' + Path(p).name for p in paths]
    lines = [header]

    def add(name, values, percent=True):
        lines.append([name] + [f'{v * 100:.1f}' if percent else f'{v:g}' for v in values])

    add('rows', [s['rows'] for s in stats], percent=False)
    for key in ('unlabelled', 'occluded', 'all_16_labelled', 'left_hip_on_image_right', 'coordinate_is_1'):
        add(f'{key} %', [s[key] for s in stats])
    add('min_coordinate', [s['min_coordinate'] for s in stats], percent=False)
    for joint in JOINT_NAMES:
        add(f'{joint} nan % / v=1 %', [0.0 for _ in stats])
        lines[-1][1:] = [f"{s['per_joint_unlabelled'][joint] * 100:.1f} / {s['per_joint_occluded'][joint] * 100:.1f}"
                         for s in stats]
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return '\n'.join('  '.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print('usage: python -m lip_toolkit.synthetic.stats CSV [CSV ...]', file=sys.stderr)
        return 2
    from ..core.errors import LipToolkitError
    try:
        print(format_table(argv))
    except LipToolkitError as exc:
        print(f'error: {exc.one_line()}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
