"""Index mappings from COCO (17 joints) and AI Challenger (14 joints) to LIP's 16 joints.

Each list is the ``mapping`` argument of MMPose's ``KeypointConverter(num_keypoints=16, mapping=...)``:
``(source, target)`` copies a joint, ``((a, b), target)`` takes the midpoint of two (visible only if both
are). A LIP joint absent from a mapping gets weight 0 in the loss (masked). From lip-facts.md section 7:

* pelvis (6) = mid-hip for both: on LIP val it lies 0.08 of the way from the hips to the shoulders.
* spine (7) has no proxy: mid-shoulder is a poor one (LIP's spine sits at 0.69 of that axis).
* COCO has no neck (8) or head top (9), so both are masked for COCO; AI Challenger has both.
"""

LIP_NUM_KEYPOINTS = 16

#: LIP onto itself, so that LIP samples leave the converter in the same form as the others.
LIP_TO_LIP = [(i, i) for i in range(LIP_NUM_KEYPOINTS)]

#: COCO -> LIP. COCO: 5/6 shoulders, 7/8 elbows, 9/10 wrists, 11/12 hips, 13/14 knees, 15/16 ankles (L/R).
COCO_TO_LIP = [
    (16, 0), (14, 1), (12, 2), (11, 3), (13, 4), (15, 5),
    ((11, 12), 6),
    (10, 10), (8, 11), (6, 12), (5, 13), (7, 14), (9, 15),
]

#: AI Challenger -> LIP. AIC: 0-2 right arm, 3-5 left arm, 6-8 right leg, 9-11 left leg, 12 head top, 13 neck.
AIC_TO_LIP = [
    (8, 0), (7, 1), (6, 2), (9, 3), (10, 4), (11, 5),
    ((6, 9), 6),
    (13, 8), (12, 9),
    (2, 10), (1, 11), (0, 12), (3, 13), (4, 14), (5, 15),
]


def masked_lip_joints(mapping) -> list:
    """The LIP joints a mapping leaves without a counterpart (weight 0 in training)."""
    return sorted(set(range(LIP_NUM_KEYPOINTS)) - {target for _, target in mapping})
