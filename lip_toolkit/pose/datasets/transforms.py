"""Keypoint conversion into LIP's 16 joints for mixed-dataset training."""
from typing import List, Optional

from mmpose.datasets.transforms import KeypointConverter
from mmpose.registry import TRANSFORMS

#: LIP's flip indices: joint i mirrors to LIP_FLIP_INDICES[i] (pairs (0,5) (1,4) (2,3) (10,15) (11,14) (12,13)).
LIP_FLIP_INDICES = [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]


@TRANSFORMS.register_module()
class LIPKeypointConverter(KeypointConverter):
    """MMPose's :class:`KeypointConverter`, leaving the sample with the target dataset's flip indices.

    MMPose's converter rewrites ``flip_indices`` from the source dataset's when the mapping has a midpoint
    entry, and fails with an IndexError when the mapping has more entries than the source has joints (AI
    Challenger: 14 joints, 15 entries with the mid-hip pelvis). The converted sample is in the target's joint
    space, so its flip indices are the target's; this subclass sets them and converts as MMPose does.

    Args:
        num_keypoints: joints of the target (16 for LIP).
        mapping: ``(source, target)`` or ``((source_a, source_b), target)`` entries, as for MMPose.
        flip_indices: the target's flip indices; default LIP's.
    """

    def __init__(self, num_keypoints: int, mapping: list, flip_indices: Optional[List[int]] = None):
        super().__init__(num_keypoints=num_keypoints, mapping=mapping)
        self.flip_indices = list(LIP_FLIP_INDICES if flip_indices is None else flip_indices)
        if len(self.flip_indices) != num_keypoints:
            raise ValueError(f'{len(self.flip_indices)} flip indices for {num_keypoints} keypoints')

    def transform(self, results: dict) -> dict:
        results.pop('flip_indices', None)
        results = super().transform(results)
        results['flip_indices'] = list(self.flip_indices)
        return results
