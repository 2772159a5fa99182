"""A 2D person model: sample a pose and an outfit, then paint the LIP part labels and keypoints.

Everything here works in *body units* (1 unit = hip-midpoint to shoulder-midpoint distance, y pointing down)
until :func:`render_person` maps the body into an image of ``H x W`` pixels. The label map and an *owner* map
(which body part painted each pixel) are painted by the same primitives, so keypoints and labels always agree,
and a keypoint is flagged occluded (v=1) exactly when something else was painted over its own part.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import cv2
import numpy as np

# LIP joint order (MPII order), see docs/synthetic.md.
R_ANKLE, R_KNEE, R_HIP, L_HIP, L_KNEE, L_ANKLE, PELVIS, SPINE, NECK, HEAD_TOP = range(10)
R_WRIST, R_ELBOW, R_SHOULDER, L_SHOULDER, L_ELBOW, L_WRIST = range(10, 16)
NUM_JOINTS = 16

# LIP parsing classes.
BACKGROUND, HAT, HAIR, GLOVE, SUNGLASSES, UPPER_CLOTHES, DRESS, COAT, SOCKS, PANTS = range(10)
JUMPSUIT, SCARF, SKIRT, FACE, LEFT_ARM, RIGHT_ARM, LEFT_LEG, RIGHT_LEG, LEFT_SHOE, RIGHT_SHOE = range(10, 20)

# Owners: which body part painted a pixel (drives the visibility flag, never written out).
OWN_NONE, OWN_TORSO, OWN_HEAD, OWN_L_ARM, OWN_R_ARM, OWN_L_LEG, OWN_R_LEG, OWN_OCCLUDER = range(8)

# A joint is visible when one of these owners painted the pixel under it (or a direct neighbour).
JOINT_OWNERS = {
    R_ANKLE: {OWN_R_LEG}, L_ANKLE: {OWN_L_LEG},
    R_KNEE: {OWN_R_LEG, OWN_TORSO}, L_KNEE: {OWN_L_LEG, OWN_TORSO},
    R_HIP: {OWN_TORSO, OWN_R_LEG, OWN_L_LEG}, L_HIP: {OWN_TORSO, OWN_R_LEG, OWN_L_LEG},
    PELVIS: {OWN_TORSO, OWN_R_LEG, OWN_L_LEG}, SPINE: {OWN_TORSO},
    NECK: {OWN_HEAD, OWN_TORSO}, HEAD_TOP: {OWN_HEAD},
    R_SHOULDER: {OWN_TORSO, OWN_R_ARM, OWN_HEAD}, L_SHOULDER: {OWN_TORSO, OWN_L_ARM, OWN_HEAD},
    R_ELBOW: {OWN_R_ARM}, L_ELBOW: {OWN_L_ARM}, R_WRIST: {OWN_R_ARM}, L_WRIST: {OWN_L_ARM},
}

# Per joint, a lookup table owner id -> may this owner show the joint.
_OWNER_TABLES = {k: np.isin(np.arange(OWN_OCCLUDER + 1), sorted(v)) for k, v in JOINT_OWNERS.items()}

_SHIFT = 4  # cv2 fixed-point bits: sub-pixel accurate outlines on small images
_SCALE = 1 << _SHIFT


def _rot(vec: np.ndarray, angle: float) -> np.ndarray:
    """Rotate a 2D vector (image axes, y down) by ``angle`` radians; a positive angle turns +y towards +x."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * vec[0] + s * vec[1], -s * vec[0] + c * vec[1]])


def _unit(vec: np.ndarray) -> np.ndarray:
    norm = float(np.hypot(vec[0], vec[1]))
    return vec / norm if norm > 1e-9 else np.array([0.0, 1.0])


@dataclass
class Person:
    """A sampled person in body units: joints, extra points for drawing, and the outfit."""

    joints: np.ndarray                      # (16, 2) in LIP order
    points: Dict[str, np.ndarray]           # hands, feet, head centre ...
    facing_front: bool                      # True: the person's left is on the image right
    yaw: float                              # 1 = square to the camera, small = turned sideways
    near_left: bool                         # the person's left side is nearer the camera
    arms_behind: Dict[str, bool]            # per side ('L', 'R'): painted behind the torso
    head_dir: np.ndarray
    head_len: float                         # neck to head top
    up: np.ndarray
    outfit: Dict[str, object] = field(default_factory=dict)


def sample_person(rng: np.random.Generator) -> Person:
    """Sample a pose (varied limbs, lean, yaw, facing) and an outfit."""
    facing_front = bool(rng.random() < 0.76)       # 76.5 % of real val rows with both hips: L_hip on the right
    yaw = float(rng.uniform(0.75, 1.0) if rng.random() < 0.7 else rng.uniform(0.3, 0.75))
    near_left = bool(rng.random() < 0.5)
    # Image-x sign of the person's left side.
    left_sign = 1.0 if facing_front else -1.0
    lean = float(rng.normal(0.0, 0.12))
    if rng.random() < 0.08:
        lean += float(rng.choice([-1, 1]) * rng.uniform(0.3, 0.7))   # bending over
    up = _rot(np.array([0.0, -1.0]), lean)
    right = np.array([-up[1], up[0]])              # image +x for an upright person
    hip_mid = np.zeros(2)
    joints = np.zeros((NUM_JOINTS, 2))
    shoulder_mid = hip_mid + up * 1.0
    # Turned bodies: the near side shows, the far side shifts behind.
    twist = (1.0 - yaw) * 0.12 * (1 if near_left else -1) * left_sign
    joints[PELVIS] = hip_mid + up * 0.08
    joints[SPINE] = hip_mid + up * rng.uniform(0.6, 0.78)
    shoulder_half = rng.uniform(0.33, 0.42) * yaw
    hip_half = rng.uniform(0.18, 0.24) * yaw
    joints[L_SHOULDER] = shoulder_mid + right * (left_sign * shoulder_half + twist)
    joints[R_SHOULDER] = shoulder_mid + right * (-left_sign * shoulder_half + twist)
    joints[L_HIP] = hip_mid + right * (left_sign * hip_half + twist * 0.5)
    joints[R_HIP] = hip_mid + right * (-left_sign * hip_half + twist * 0.5)
    head_dir = _rot(up, float(rng.normal(0.0, 0.15)))
    joints[NECK] = shoulder_mid + up * rng.uniform(0.06, 0.12)
    head_len = float(rng.uniform(0.34, 0.41))
    joints[HEAD_TOP] = joints[NECK] + head_dir * head_len
    points = {}

    down = -up
    arms_behind = {}
    for side, sign in (('L', left_sign), ('R', -left_sign)):
        shoulder = joints[L_SHOULDER if side == 'L' else R_SHOULDER]
        mode = rng.random()
        if mode < 0.5:
            abduct = rng.uniform(-0.15, 0.5)                    # hanging
        elif mode < 0.82:
            abduct = rng.uniform(0.5, 3.0)                      # raised
        else:
            abduct = rng.uniform(-1.2, -0.15)                   # across the body
        upper_dir = _rot(down, sign * abduct)
        bend = float(np.clip(rng.normal(0.0, 0.9), -2.6, 2.6))
        fore_dir = _rot(upper_dir, bend)
        shorten = rng.uniform(0.5, 1.0) if rng.random() < 0.3 else rng.uniform(0.85, 1.0)
        elbow = shoulder + upper_dir * 0.62 * shorten
        wrist = elbow + fore_dir * 0.55 * (rng.uniform(0.5, 1.0) if rng.random() < 0.3 else rng.uniform(0.85, 1.0))
        joints[L_ELBOW if side == 'L' else R_ELBOW] = elbow
        joints[L_WRIST if side == 'L' else R_WRIST] = wrist
        points[f'hand_{side}'] = wrist + fore_dir * 0.09
        points[f'fore_dir_{side}'] = fore_dir
        far = (side == 'L') != near_left
        # Hidden arms: the far arm of a turned body, an arm folded in front of a body seen from behind,
        # and now and then hands behind the back.
        across = mode >= 0.82
        arms_behind[side] = bool((yaw < 0.6 and far and rng.random() < 0.8)
                                 or (across and not facing_front and rng.random() < 0.9)
                                 or rng.random() < 0.04)

    legs = rng.choice(['standing', 'walking', 'sitting'], p=[0.67, 0.25, 0.08])
    for side, sign in (('L', left_sign), ('R', -left_sign)):
        hip = joints[L_HIP if side == 'L' else R_HIP]
        if legs == 'walking':
            abduct, knee_bend = rng.uniform(-0.35, 0.9), rng.uniform(-0.3, 1.2)
            thigh_len, shin_len = rng.uniform(0.7, 1.0), rng.uniform(0.75, 1.0)
        elif legs == 'sitting':                      # thighs point at the camera: short, knees apart
            abduct, knee_bend = rng.uniform(-0.2, 1.0), rng.uniform(-0.6, 0.6)
            thigh_len, shin_len = rng.uniform(0.2, 0.55), rng.uniform(0.8, 1.0)
        else:
            abduct, knee_bend = rng.uniform(-0.12, 0.35), rng.uniform(-0.15, 0.3)
            thigh_len, shin_len = rng.uniform(0.88, 1.0), rng.uniform(0.9, 1.0)
        thigh_dir = _rot(down, sign * abduct)
        shin_dir = _rot(thigh_dir, knee_bend * rng.choice([-1, 1]))
        if legs == 'sitting':
            shin_dir = _rot(down, sign * rng.uniform(-0.3, 0.4))
        knee = hip + thigh_dir * 0.88 * thigh_len
        ankle = knee + shin_dir * 0.86 * shin_len
        joints[L_KNEE if side == 'L' else R_KNEE] = knee
        joints[L_ANKLE if side == 'L' else R_ANKLE] = ankle
        # Feet point at the camera when square to it, sideways when turned.
        toe_side = (1.0 - yaw) * (1 if facing_front == near_left else -1) * 0.15
        points[f'foot_{side}'] = ankle + down * 0.07 + right * toe_side
    person = Person(joints=joints, points=points, facing_front=facing_front, yaw=yaw, near_left=near_left,
                    arms_behind=arms_behind, head_dir=head_dir, head_len=head_len, up=up)
    person.outfit = sample_outfit(rng)
    return person


def sample_outfit(rng: np.random.Generator) -> Dict[str, object]:
    """Choose garments: top (upper clothes / coat / dress / jumpsuit), bottom, sleeves and accessories."""
    top = rng.choice(['upper', 'coat', 'dress', 'jumpsuit'], p=[0.62, 0.16, 0.14, 0.08])
    outfit = {'top': str(top)}
    if top in ('upper', 'dress'):
        outfit['sleeve'] = float(rng.choice([0.0, 0.45, 1.05], p=[0.25, 0.45, 0.30]))
    else:
        outfit['sleeve'] = float(rng.choice([0.45, 1.05], p=[0.2, 0.8]))
    if top == 'dress':
        outfit['bottom'] = 'dress'
        outfit['skirt_len'] = float(rng.uniform(0.4, 1.3))
    elif top == 'jumpsuit':
        outfit['bottom'] = 'jumpsuit'
        outfit['pants_len'] = float(rng.choice([0.5, 1.0], p=[0.3, 0.7]))
    else:
        outfit['bottom'] = str(rng.choice(['pants', 'skirt'], p=[0.8, 0.2]))
        outfit['pants_len'] = float(rng.choice([0.4, 0.6, 1.0], p=[0.2, 0.1, 0.7]))
        outfit['skirt_len'] = float(rng.uniform(0.35, 1.1))
    outfit['coat_len'] = float(rng.uniform(0.0, 0.6)) if top == 'coat' else 0.0
    outfit['coat_open'] = bool(top == 'coat' and rng.random() < 0.5)
    outfit['hair'] = str(rng.choice(['short', 'long', 'none'], p=[0.55, 0.38, 0.07]))
    outfit['hat'] = bool(rng.random() < 0.18)
    outfit['sunglasses'] = bool(rng.random() < 0.12)
    outfit['scarf'] = bool(rng.random() < 0.07)
    outfit['gloves'] = bool(rng.random() < 0.05)
    outfit['socks'] = bool(rng.random() < 0.25)
    outfit['shoes'] = bool(rng.random() < 0.96)
    return outfit


class Painter:
    """Paints primitives into a label map and an owner map at once (pixel centres at integer coordinates)."""

    def __init__(self, height: int, width: int, scale: float, origin: np.ndarray):
        self.labels = np.zeros((height, width), np.uint8)
        self.owners = np.zeros((height, width), np.uint8)
        self.scale = scale
        self.origin = origin

    def to_px(self, point: np.ndarray) -> np.ndarray:
        return (np.asarray(point) - self.origin) * self.scale

    def _fixed(self, points) -> np.ndarray:
        return np.round(self.to_px(np.asarray(points, float)) * _SCALE).astype(np.int32)

    def polygon(self, label: int, owner: int, points) -> None:
        pts = self._fixed(points).reshape(-1, 1, 2)
        cv2.fillPoly(self.labels, [pts], int(label), cv2.LINE_8, _SHIFT)
        cv2.fillPoly(self.owners, [pts], int(owner), cv2.LINE_8, _SHIFT)

    def ellipse(self, label: int, owner: int, center, half_axes, direction) -> None:
        """Filled ellipse; ``half_axes`` = (across, along) ``direction`` in body units."""
        c = self._fixed(center)
        axes = (max(1, int(round(half_axes[0] * self.scale * _SCALE))),
                max(1, int(round(half_axes[1] * self.scale * _SCALE))))
        angle = math.degrees(math.atan2(direction[1], direction[0])) - 90.0
        for image, value in ((self.labels, label), (self.owners, owner)):
            cv2.ellipse(image, (int(c[0]), int(c[1])), axes, angle, 0, 360, int(value), -1, cv2.LINE_8, _SHIFT)

    def capsule(self, label: int, owner: int, start, end, radius_start: float, radius_end: float = None) -> None:
        """A limb segment: a tapered quad with round ends."""
        radius_end = radius_start if radius_end is None else radius_end
        start, end = np.asarray(start, float), np.asarray(end, float)
        normal = _unit(end - start)
        normal = np.array([-normal[1], normal[0]])
        quad = [start + normal * radius_start, end + normal * radius_end,
                end - normal * radius_end, start - normal * radius_start]
        self.polygon(label, owner, quad)
        for point, radius in ((start, radius_start), (end, radius_end)):
            self.ellipse(label, owner, point, (radius, radius), np.array([0.0, 1.0]))

    def along(self, start, end, fraction: float) -> np.ndarray:
        return np.asarray(start) + (np.asarray(end) - np.asarray(start)) * fraction


def body_extent(person: Person) -> Tuple[np.ndarray, np.ndarray]:
    """Approximate (min_xy, max_xy) of everything painted, in body units."""
    pts = [person.joints, np.array([v for k, v in person.points.items() if k.startswith(('hand', 'foot'))])]
    allpts = np.concatenate(pts)
    lo, hi = allpts.min(0) - 0.12, allpts.max(0) + 0.12
    head_pad = person.joints[HEAD_TOP] + person.head_dir * 0.04
    lo, hi = np.minimum(lo, head_pad - 0.2), np.maximum(hi, head_pad + 0.2)
    return lo, hi


def paint_person(painter: Painter, person: Person, rng: np.random.Generator,
                 occluders: List[np.ndarray]) -> List[Tuple[np.ndarray, float]]:
    """Paint the person back to front; return face marks (eye/mouth centres, radius) for the colour stage."""
    j, pts, outfit = person.joints, person.points, person.outfit
    up, head_dir = person.up, person.head_dir
    down = -up
    left_sign = 1.0 if person.facing_front else -1.0
    right = np.array([-up[1], up[0]])
    top_label = {'upper': UPPER_CLOTHES, 'coat': COAT, 'dress': DRESS, 'jumpsuit': JUMPSUIT}[outfit['top']]
    side_parts = {
        'L': dict(sho=L_SHOULDER, elb=L_ELBOW, wri=L_WRIST, hip=L_HIP, kne=L_KNEE, ank=L_ANKLE,
                  arm=LEFT_ARM, leg=LEFT_LEG, shoe=LEFT_SHOE, own_arm=OWN_L_ARM, own_leg=OWN_L_LEG,
                  sign=left_sign),
        'R': dict(sho=R_SHOULDER, elb=R_ELBOW, wri=R_WRIST, hip=R_HIP, kne=R_KNEE, ank=R_ANKLE,
                  arm=RIGHT_ARM, leg=RIGHT_LEG, shoe=RIGHT_SHOE, own_arm=OWN_R_ARM, own_leg=OWN_R_LEG,
                  sign=-left_sign),
    }
    thick = rng.uniform(0.85, 1.2)                 # slim or broad build
    head_len = person.head_len

    def arm(side):
        p = side_parts[side]
        sho, elb, wri = j[p['sho']], j[p['elb']], j[p['wri']]
        hand = pts[f'hand_{side}']
        own = p['own_arm']
        painter.capsule(p['arm'], own, sho, elb, 0.085 * thick, 0.068 * thick)
        painter.capsule(p['arm'], own, elb, wri, 0.068 * thick, 0.05 * thick)
        hand_label = GLOVE if outfit['gloves'] else p['arm']
        painter.ellipse(hand_label, own, hand, (0.052 * thick, 0.075), pts[f'fore_dir_{side}'])
        sleeve = outfit['sleeve']
        if sleeve > 0:
            if sleeve <= 1.0:
                end = painter.along(sho, elb, min(1.0, sleeve * 2.0)) if sleeve < 0.5 else \
                    painter.along(elb, wri, (sleeve - 0.5) * 2.0)
                painter.capsule(top_label, own, sho, elb if sleeve >= 0.5 else end, 0.1 * thick, 0.082 * thick)
                if sleeve >= 0.5:
                    painter.capsule(top_label, own, elb, end, 0.082 * thick, 0.07 * thick)
            else:
                painter.capsule(top_label, own, sho, elb, 0.1 * thick, 0.082 * thick)
                painter.capsule(top_label, own, elb, painter.along(elb, wri, 0.95), 0.082 * thick, 0.066 * thick)

    def leg(side):
        p = side_parts[side]
        hip, kne, ank = j[p['hip']], j[p['kne']], j[p['ank']]
        own = p['own_leg']
        painter.capsule(p['leg'], own, hip, kne, 0.125 * thick, 0.085 * thick)
        painter.capsule(p['leg'], own, kne, ank, 0.085 * thick, 0.055 * thick)
        if outfit['socks']:
            painter.capsule(SOCKS, own, painter.along(kne, ank, 0.75), ank, 0.06 * thick, 0.052 * thick)
        if outfit['shoes']:
            foot = pts[f'foot_{side}']
            painter.ellipse(p['shoe'], own, painter.along(ank, foot, 0.6), (0.07, 0.1),
                            _unit(foot - ank + 1e-6))
        else:
            painter.ellipse(p['leg'], own, painter.along(ank, pts[f'foot_{side}'], 0.6), (0.05, 0.08),
                            _unit(pts[f'foot_{side}'] - ank + 1e-6))
        if outfit['bottom'] in ('pants', 'jumpsuit'):
            label = PANTS if outfit['bottom'] == 'pants' else JUMPSUIT
            length = outfit['pants_len']
            if length >= 1.0:
                painter.capsule(label, own, hip, kne, 0.14 * thick, 0.1 * thick)
                painter.capsule(label, own, kne, painter.along(kne, ank, 0.92), 0.1 * thick, 0.075 * thick)
            else:
                painter.capsule(label, own, hip, painter.along(hip, kne, length * 1.6),
                                0.145 * thick, 0.12 * thick)

    hip_l, hip_r = j[L_HIP], j[R_HIP]
    sho_l, sho_r = j[L_SHOULDER], j[R_SHOULDER]
    out_l, out_r = right * left_sign, -right * left_sign
    torso = [sho_l + out_l * 0.07 * thick + up * 0.02, sho_l + out_l * 0.02 + up * 0.06,
             j[NECK] - up * 0.04 + out_l * 0.07, j[NECK] - up * 0.04 + out_r * 0.07,
             sho_r + out_r * 0.02 + up * 0.06, sho_r + out_r * 0.07 * thick + up * 0.02,
             painter.along(sho_r, hip_r, 0.55) + out_r * 0.03 * thick,
             hip_r + out_r * 0.06 * thick + down * 0.04, hip_l + out_l * 0.06 * thick + down * 0.04,
             painter.along(sho_l, hip_l, 0.55) + out_l * 0.03 * thick]
    hip_mid = (hip_l + hip_r) / 2

    def lower_garment():
        if outfit['bottom'] in ('pants', 'jumpsuit'):
            label = PANTS if outfit['bottom'] == 'pants' else JUMPSUIT
            crotch = hip_mid + down * 0.16
            painter.polygon(label, OWN_TORSO, [hip_l + out_l * 0.09 * thick + up * 0.05,
                                               hip_r + out_r * 0.09 * thick + up * 0.05,
                                               hip_r + out_r * 0.1 * thick + down * 0.08, crotch,
                                               hip_l + out_l * 0.1 * thick + down * 0.08])
        if outfit['bottom'] in ('skirt', 'dress'):
            label = SKIRT if outfit['bottom'] == 'skirt' else DRESS
            length = outfit['skirt_len']
            flare = 0.1 + 0.25 * length
            painter.polygon(label, OWN_TORSO, [hip_l + out_l * 0.08 + up * 0.08, hip_r + out_r * 0.08 + up * 0.08,
                                               hip_r + out_r * flare + down * length,
                                               hip_l + out_l * flare + down * length])
        if outfit['coat_len'] > 0:
            length = outfit['coat_len']
            painter.polygon(COAT, OWN_TORSO, [hip_l + out_l * 0.09 + up * 0.1, hip_r + out_r * 0.09 + up * 0.1,
                                              hip_r + out_r * (0.1 + 0.1 * length) + down * length,
                                              hip_l + out_l * (0.1 + 0.1 * length) + down * length])

    def torso_paint():
        painter.polygon(top_label, OWN_TORSO, torso)
        if outfit['coat_open'] and person.facing_front:
            inner = [j[NECK] - up * 0.05 + out_l * 0.06, j[NECK] - up * 0.05 + out_r * 0.06,
                     hip_mid + up * 0.05 + out_r * 0.05 * person.yaw,
                     hip_mid + up * 0.05 + out_l * 0.05 * person.yaw]
            painter.polygon(UPPER_CLOTHES, OWN_TORSO, inner)

    face_marks = []
    neck = j[NECK]
    face_center = neck + head_dir * head_len * 0.48
    face_half = (0.115 * rng.uniform(0.9, 1.1), head_len * 0.45)
    long_hair_poly = [neck + head_dir * head_len * 0.6 + out_l * 0.17, neck + head_dir * head_len * 0.6 + out_r * 0.17,
                      neck + out_r * 0.2 + down * 0.35 * rng.uniform(0.5, 1.3),
                      neck + out_l * 0.2 + down * 0.35 * rng.uniform(0.5, 1.3)]

    def head_paint():
        painter.capsule(FACE, OWN_HEAD, neck - up * 0.1, neck + head_dir * 0.05, 0.05, 0.05)
        hair = outfit['hair']
        if hair == 'long' and not person.facing_front:
            painter.polygon(HAIR, OWN_HEAD, long_hair_poly)     # seen from behind it covers neck and back
        if hair != 'none':
            painter.ellipse(HAIR, OWN_HEAD, neck + head_dir * head_len * 0.55,
                            (face_half[0] + 0.025, head_len * 0.5), head_dir)
        if person.facing_front:
            fc = face_center - head_dir * (0.02 if hair != 'none' else 0.0)
            half = (face_half[0], face_half[1] * (0.85 if hair != 'none' else 1.05))
            # Turned heads show the face off-centre.
            sideways = np.array([-head_dir[1], head_dir[0]]) * (1.0 - person.yaw) * 0.06 * \
                (1 if person.near_left else -1) * left_sign
            painter.ellipse(FACE, OWN_HEAD, fc + sideways * 0.5, half, head_dir)
            across = np.array([-head_dir[1], head_dir[0]])
            eye_y = fc + head_dir * half[1] * 0.15 + sideways
            if outfit['sunglasses']:
                painter.capsule(SUNGLASSES, OWN_HEAD, eye_y - across * half[0] * 0.7,
                                eye_y + across * half[0] * 0.7, 0.03, 0.03)
            else:
                for sign in (-1, 1):
                    face_marks.append((eye_y + across * sign * half[0] * 0.42, 0.017))
            face_marks.append((fc - head_dir * half[1] * 0.5 + sideways, 0.02))
        else:
            # Seen from behind: the head is hair, a sliver of face shows only when turned.
            if hair == 'none':
                painter.ellipse(FACE, OWN_HEAD, face_center, (face_half[0] + 0.02, head_len * 0.52), head_dir)
            elif person.yaw < 0.8:
                sideways = np.array([-head_dir[1], head_dir[0]]) * (1 if person.near_left else -1) * left_sign
                painter.ellipse(FACE, OWN_HEAD, face_center + sideways * 0.08, (0.04, face_half[1] * 0.7), head_dir)
        if outfit['hat']:
            brim = neck + head_dir * head_len * 0.72
            across = np.array([-head_dir[1], head_dir[0]])
            painter.polygon(HAT, OWN_HEAD, [brim + across * 0.17, brim - across * 0.17,
                                            brim - across * 0.12 + head_dir * head_len * 0.36,
                                            brim + across * 0.12 + head_dir * head_len * 0.36])
        if outfit['scarf']:
            painter.capsule(SCARF, OWN_TORSO, neck - up * 0.08 + out_l * 0.11, neck - up * 0.08 + out_r * 0.11,
                            0.06, 0.06)

    # Painting order, back to front.
    behind = [s for s in ('L', 'R') if person.arms_behind[s]]
    front = [s for s in ('R', 'L') if not person.arms_behind[s]]
    if rng.random() < 0.5:
        front.reverse()
    near_leg, far_leg = ('L', 'R') if person.near_left else ('R', 'L')
    for side in behind:
        arm(side)
    if outfit['hair'] == 'long' and person.facing_front:
        painter.polygon(HAIR, OWN_HEAD, long_hair_poly)
    leg(far_leg)
    leg(near_leg)
    lower_garment()
    torso_paint()
    head_paint()
    for side in front:
        arm(side)
    for polygon in occluders:
        painter.polygon(BACKGROUND, OWN_OCCLUDER, polygon)
    return face_marks


def joint_flags(person: Person, painter: Painter, height: int, width: int,
                rng: np.random.Generator) -> np.ndarray:
    """(16, 3) int array of (x, y, v), 1-based; rows of -1 mark unlabelled (outside the image) joints."""
    out = np.full((NUM_JOINTS, 3), -1, np.int64)
    px = painter.to_px(person.joints)
    border_margin = int(0.05 * painter.scale)
    far_side = set()
    if person.yaw < 0.55:
        far_side = {R_SHOULDER, R_HIP, R_ELBOW} if person.near_left else {L_SHOULDER, L_HIP, L_ELBOW}
    for k in range(NUM_JOINTS):
        col, row = int(round(px[k, 0])), int(round(px[k, 1]))
        if not (-border_margin <= col < width + border_margin and -border_margin <= row < height + border_margin):
            continue
        # Like LIP's annotators, a joint just past the border is clamped onto it (the real file has a
        # spike of x = 1), one further out is left unlabelled.
        col, row = min(max(col, 0), width - 1), min(max(row, 0), height - 1)
        if rng.random() < 0.004:            # annotators skip the odd joint even inside the image
            continue
        window = painter.owners[max(0, row - 1):row + 2, max(0, col - 1):col + 2]
        visible = bool(_OWNER_TABLES[k][window].any())
        if k in far_side and rng.random() < 0.7:
            visible = False                   # behind the body itself in a turned pose
        out[k] = (col + 1, row + 1, 0 if visible else 1)
    return out
