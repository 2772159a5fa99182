"""The training pipeline's augmented samples drawn, as MMPose's and MMSeg's ``tools/misc/browse_dataset.py``
show them: each picture is what the model is trained on (after flips, rotations, scaling, crops), with its
ground truth moved along.

Pose: the network input with the LIP skeleton at the transformed joints (``PackPoseInputs`` is asked to keep
them, as MMPose's script does). Parsing: the network input with its transformed label map blended over it and a
legend. Samples come in dataset order (``--seed`` fixes the random augmentations).
"""
from pathlib import Path
from typing import List, Optional

import numpy as np

from ..core.errors import LipToolkitError


def _walk_pipelines(node):
    """Every transform dict of every ``pipeline`` in a (possibly wrapped) dataset config."""
    from ..core.runner import dataset_configs
    for dataset in dataset_configs(node):
        for step in dataset.get('pipeline') or []:
            if isinstance(step, dict):
                yield step


def _pose_picture(sample) -> np.ndarray:
    from ..visualization.pose import draw_pose
    image = sample['inputs'].permute(1, 2, 0).numpy().astype(np.uint8)  # packed BGR, CHW -> HWC
    instances = sample['data_samples'].gt_instances
    keypoints = np.asarray(instances.get('transformed_keypoints', instances.keypoints))[0].astype(np.float64)
    visible = np.asarray(instances.keypoints_visible)[0]
    keypoints[visible <= 0] = np.nan  # unlabelled (or moved out of the crop) joints are not drawn
    return draw_pose(image, keypoints)


def _parsing_picture(sample) -> np.ndarray:
    from ..visualization.parsing import render_parsing
    image = sample['inputs'].permute(1, 2, 0).numpy().astype(np.uint8)
    label = sample['data_samples'].gt_sem_seg.data[0].numpy().astype(np.uint8)
    return render_parsing(np.ascontiguousarray(image), label)


def browse_dataset(config, out_dir, num: int = 10, phase: str = 'train', data_root=None,
                   cfg_options: Optional[dict] = None, seed: int = 0) -> List[Path]:
    """Draw the first ``num`` samples of the config's ``phase`` dataset, through its pipeline, into ``out_dir``.

    Args:
        config: config path (or a path under ``configs/``).
        out_dir: folder for ``<index>_<image name>.png`` pictures (built aside and swapped in complete; the
            command refuses a non-empty one without ``--overwrite``).
        num: how many samples.
        phase: ``'train'`` (the augmented training pipeline), ``'val'`` or ``'test'``.
        data_root: LIP release folder for the config's LIP datasets (as ``train --data-root``).
        cfg_options: config overrides.
        seed: seeds the random augmentations.

    Returns:
        The pictures written, in dataset order.
    """
    import random

    import torch
    from mmengine.registry import init_default_scope

    from ..core.progress import progress
    from ..core.runner import config_track, load_config, set_lip_data_root
    from ..registration import register_all_modules
    from ..visualization.batch import picture_folder
    if phase not in ('train', 'val', 'test'):
        raise LipToolkitError(f"phase must be 'train', 'val' or 'test', got {phase!r}")
    if num < 1:
        raise LipToolkitError(f'-n must be at least 1, got {num}')
    cfg = load_config(config, cfg_options)
    track = config_track(cfg, config)
    if data_root is not None:
        if not Path(data_root).is_dir():
            raise LipToolkitError('data root not found', data_root)
        set_lip_data_root(cfg, data_root)
    loader = cfg.get(f'{phase}_dataloader')
    if not loader or not loader.get('dataset'):
        raise LipToolkitError(f'the config has no {phase}_dataloader dataset', config)
    dataset_cfg = loader['dataset']
    if track == 'pose':
        for step in _walk_pipelines(dataset_cfg):
            if step.get('type') == 'PackPoseInputs':
                step['pack_transformed'] = True
        from mmpose.registry import DATASETS
        register_all_modules(parsing=False)
    else:
        from mmseg.registry import DATASETS
        register_all_modules(pose=False)
    init_default_scope(cfg.get('default_scope'))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    dataset = DATASETS.build(dataset_cfg)
    if len(dataset) == 0:
        raise LipToolkitError(f'the {phase} dataset is empty', config)
    draw = _pose_picture if track == 'pose' else _parsing_picture
    count = min(num, len(dataset))
    with picture_folder(out_dir) as (write, written):  # built aside, replaces out_dir once complete
        for index in progress(range(count), total=count, desc=f'browse {phase}', unit='img'):
            sample = dataset[index]
            name = Path(str(sample['data_samples'].metainfo.get('img_path', f'{index}'))).stem
            write(f'{index:04d}_{name}.png', draw(sample))
    return written
