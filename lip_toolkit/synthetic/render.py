"""One synthetic LIP sample: sample a person, frame it like a LIP crop, paint labels, colour the image."""
from dataclasses import dataclass

import numpy as np

from . import appearance, body

# Real LIP crops are about 120-350 px wide and 170-500 px high (see docs/synthetic.md).
MIN_HEIGHT, MAX_HEIGHT = 170, 500
MIN_WIDTH, MAX_WIDTH = 110, 350


@dataclass
class Sample:
    """A rendered sample: RGB image (H, W, 3) uint8, labels (H, W) uint8 in 0..19, keypoints (16, 3) int.

    ``keypoints`` rows are 1-based ``(x, y, v)``; a row of -1 marks an unlabelled joint.
    """

    image: np.ndarray
    labels: np.ndarray
    keypoints: np.ndarray


def _frame(person: body.Person, rng: np.random.Generator):
    """Choose the crop box in body units, like LIP's person crops: mostly whole bodies, some cut at the legs."""
    lo, hi = body.body_extent(person)
    joints = person.joints
    cut = rng.random()
    bottom = hi[1] + rng.uniform(0.0, 0.15)
    if cut < 0.10:                                   # cut between knees and ankles
        knee_y = min(joints[body.L_KNEE, 1], joints[body.R_KNEE, 1])
        ankle_y = max(joints[body.L_ANKLE, 1], joints[body.R_ANKLE, 1])
        bottom = knee_y + (ankle_y - knee_y) * rng.uniform(0.25, 0.8)
    elif cut < 0.27:                                 # cut between hips and knees
        hip_y = max(joints[body.L_HIP, 1], joints[body.R_HIP, 1])
        knee_y = min(joints[body.L_KNEE, 1], joints[body.R_KNEE, 1])
        bottom = hip_y + (knee_y - hip_y) * rng.uniform(0.2, 0.85)
    elif cut < 0.33:                                 # upper body only
        bottom = joints[body.PELVIS, 1] + rng.uniform(-0.15, 0.25)
    top = lo[1] - rng.uniform(0.0, 0.2)
    if rng.random() < 0.02:                          # the head top cut off
        top = joints[body.HEAD_TOP, 1] + rng.uniform(0.07, 0.15)
    bottom = max(bottom, top + 0.8)
    # LIP crops are portrait, about 0.5-0.85 wide per unit of height; wide poses make wider pictures.
    left, right = lo[0] - rng.uniform(0.0, 0.12), hi[0] + rng.uniform(0.0, 0.12)
    if rng.random() < 0.2:                           # a side cut through an outstretched arm
        if rng.random() < 0.5:
            left = min(joints[:, 0].min() + rng.uniform(0.02, 0.45), right - 0.5)
        else:
            right = max(joints[:, 0].max() - rng.uniform(0.02, 0.45), left + 0.5)
    else:
        extra = max(0.0, rng.uniform(0.5, 0.85) * (bottom - top) - (right - left))
        shift = rng.uniform(0.0, 1.0)
        left, right = left - extra * shift, right + extra * (1.0 - shift)
    # Mostly portrait, like LIP: a cut crop much wider than high takes in more of the legs.
    full_bottom = hi[1] + 0.05
    if right - left > 1.1 * (bottom - top) and bottom < full_bottom:
        bottom = min(full_bottom, top + (right - left) / rng.uniform(0.9, 1.1))
    return np.array([left, top]), np.array([right, bottom])


def _occluders(person: body.Person, rng: np.random.Generator):
    """Now and then an object in front of the person (a table edge, a bag, a ball)."""
    shapes = []
    if rng.random() < 0.25:
        joints = person.joints
        if rng.random() < 0.35:                      # a horizontal edge (table, wall) hiding the legs
            lower = joints[[body.R_ANKLE, body.R_KNEE, body.L_KNEE, body.L_ANKLE, body.PELVIS], 1]
            y = rng.uniform(lower.min(), lower.max()) + rng.uniform(0.0, 0.2)
            shapes.append(np.array([[-5.0, y], [5.0, y + rng.normal(0, 0.1)], [5.0, y + 5.0], [-5.0, y + 5.0]]))
        else:
            radius = rng.uniform(0.12, 0.35)
            angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 9))))
            radii = radius * rng.uniform(0.7, 1.2, angles.size)
            centre = joints[int(rng.integers(0, body.NUM_JOINTS))] + rng.normal(0, 0.08, 2)
            shapes.append(centre + np.stack([np.cos(angles) * radii, np.sin(angles) * radii], 1))
    return shapes


def _bystander(person: body.Person, painter: body.Painter, rng: np.random.Generator):
    """Sometimes part of another person stands behind, at one side: background (0) in the labels."""
    if rng.random() >= 0.2:
        return None
    height, width = painter.labels.shape
    other = body.sample_person(rng)
    scale = painter.scale * rng.uniform(0.7, 1.2)
    side = 1.0 if rng.random() < 0.5 else -1.0
    hip_px = painter.to_px((person.joints[body.L_HIP] + person.joints[body.R_HIP]) / 2)
    target = np.array([width / 2 + side * width * rng.uniform(0.45, 0.75),
                       hip_px[1] + rng.normal(0.0, 0.15) * height])
    # Body point p lands on pixel (p - origin) * scale; the other person's hip midpoint is at (0, 0).
    other_painter = body.Painter(height, width, scale, -target / scale)
    body.paint_person(other_painter, other, rng, [])
    if not other_painter.owners.any():
        return None
    return other_painter.labels, other_painter.owners


def render_sample(rng: np.random.Generator) -> Sample:
    """Draw one person picture with its part labels and LIP keypoints."""
    person = body.sample_person(rng)
    lo, hi = _frame(person, rng)
    height = float(np.exp(rng.uniform(np.log(MIN_HEIGHT), np.log(MAX_HEIGHT))))
    scale = height / (hi[1] - lo[1])
    if (hi[0] - lo[0]) * scale > MAX_WIDTH:          # a wide pose: shrink the whole picture
        scale = MAX_WIDTH / (hi[0] - lo[0])
    elif (hi[0] - lo[0]) * scale < MIN_WIDTH:        # a narrow crop: widen it evenly
        pad = (MIN_WIDTH / scale - (hi[0] - lo[0])) / 2
        lo, hi = lo - [pad, 0], hi + [pad, 0]
    width_px = int(min(MAX_WIDTH, max(MIN_WIDTH, round((hi[0] - lo[0]) * scale))))
    height_px = int(round((hi[1] - lo[1]) * scale))
    # Keep the crop origin at a pixel centre: body point p lands on pixel (p - lo) * scale.
    painter = body.Painter(height_px, width_px, scale, lo)
    face_marks = body.paint_person(painter, person, rng, _occluders(person, rng))
    keypoints = body.joint_flags(person, painter, height_px, width_px, rng)
    marks_px = [(painter.to_px(centre), radius) for centre, radius in face_marks]
    bystander = _bystander(person, painter, rng)
    image = appearance.colourize(rng, painter.labels, painter.owners, marks_px, scale, bystander)
    return Sample(image=image, labels=painter.labels, keypoints=keypoints)
