"""AI Challenger keypoints in the challenge's own JSON format (not converted to COCO style)."""
import json
import os.path as osp
from typing import List, Tuple

import numpy as np

import mmpose
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

from ...core.errors import LipToolkitError

AIC_NUM_KEYPOINTS = 14
# MMPose ships the AIC metainfo inside the package (.mim); the relative name is MMPose's own fallback.
_AIC_METAINFO = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_', 'datasets', 'aic.py')
AIC_METAINFO_FILE = _AIC_METAINFO if osp.isfile(_AIC_METAINFO) else 'configs/_base_/datasets/aic.py'


@DATASETS.register_module()
class AicRawDataset(BaseCocoStyleDataset):
    """AI Challenger human keypoints, read from the challenge's JSON (``keypoint_*_annotations_*.json``).

    The file is a list of images::

        [{"image_id": "054d9c...", "url": "...",
          "human_annotations": {"human1": [x1, y1, x2, y2], ...},
          "keypoint_annotations": {"human1": [x, y, v] * 14, ...}}, ...]

    with v = 1 visible, 2 labelled but occluded, 3 unlabelled; the image is ``<image_id>.jpg`` under
    ``data_prefix['img']``. Each person becomes one top-down instance (``keypoints_visible`` 1 for v 1 or 2).
    For COCO-style AI Challenger files use MMPose's ``AicDataset``.

    Args:
        ann_file: the JSON file (relative to ``data_root`` unless absolute).
        **kwargs: as :class:`~mmpose.datasets.datasets.base.BaseCocoStyleDataset`.
    """

    METAINFO: dict = dict(from_file=AIC_METAINFO_FILE)

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        try:
            with open(self.ann_file, encoding='utf-8') as handle:
                images = json.load(handle)
        except FileNotFoundError:
            raise LipToolkitError('AI Challenger annotation file not found', self.ann_file) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise LipToolkitError(f'not valid JSON: {exc}', self.ann_file) from None
        if not isinstance(images, list):
            raise LipToolkitError('expected a JSON list of images (AI Challenger format); for COCO-style files '
                                  'use AicDataset', self.ann_file)
        instance_list, image_list = [], []
        for img_index, entry in enumerate(images):
            where = f'image {img_index}'
            try:
                image_id = str(entry['image_id'])
                people = entry['keypoint_annotations']
                boxes = entry['human_annotations']
            except (KeyError, TypeError):
                raise LipToolkitError('entry lacks image_id, keypoint_annotations or human_annotations',
                                      self.ann_file, where) from None
            img_path = osp.join(self.data_prefix['img'], f'{image_id}.jpg')
            image_list.append(dict(img_id=img_index, img_path=img_path))
            for human in sorted(people):
                instance_list.append(self._parse_person(people[human], boxes.get(human), img_index, img_path,
                                                        len(instance_list), f'{where} ({image_id}) {human}'))
        return instance_list, image_list

    def _parse_person(self, keypoints, box, img_index: int, img_path: str, ann_id: int, where: str) -> dict:
        try:
            joints = np.asarray(keypoints, dtype=np.float32).reshape(AIC_NUM_KEYPOINTS, 3)
            x1, y1, x2, y2 = (float(v) for v in box)
        except (TypeError, ValueError):
            raise LipToolkitError(f'expected {AIC_NUM_KEYPOINTS * 3} keypoint values and a 4-value box',
                                  self.ann_file, where) from None
        labelled = (joints[:, 2] == 1) | (joints[:, 2] == 2)
        return dict(
            id=ann_id,
            img_id=img_index,
            img_path=img_path,
            bbox=np.array([[x1, y1, x2, y2]], dtype=np.float32),
            bbox_score=np.ones(1, dtype=np.float32),
            keypoints=np.where(labelled[:, None], joints[:, :2], 0)[None],
            keypoints_visible=labelled.astype(np.float32)[None],
            num_keypoints=int(labelled.sum()),
            area=np.array(max(x2 - x1, 0) * max(y2 - y1, 0), dtype=np.float32),
            iscrowd=0,
            category_id=np.array(1),
        )
