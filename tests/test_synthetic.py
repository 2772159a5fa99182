"""Synthetic LIP: layout, file formats, label/keypoint agreement, determinism, speed and input errors."""
import re
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.io import read_id_list
from lip_toolkit.synthetic import body, generator, synthesize_lip

SPLITS = {'train': 64, 'val': 24, 'test': 8}      # the conftest fixture's sizes
NAME_PATTERN = re.compile(r'^\d+_\d+$')

HEAD_CLASSES = {body.HAT, body.HAIR, body.FACE, body.SUNGLASSES}
NECK_CLASSES = HEAD_CLASSES | {body.SCARF, body.UPPER_CLOTHES, body.COAT, body.DRESS, body.JUMPSUIT}


def _read_csv_fields(path):
    return [line.rstrip('\n').split(',') for line in Path(path).read_text().splitlines()]


def _ids(root, split):
    folder = 'Testing_images' if split == 'test' else 'TrainVal_images'
    return read_id_list(Path(root) / folder / f'{split}_id.txt')


def _annotated(root, split):
    """(names, keypoints (N, 16, 3) with nan, labels list) for a train/val split."""
    from lip_toolkit.pose.lip_csv import read_lip_gt_csv
    names, keypoints = read_lip_gt_csv(Path(root) / 'TrainVal_pose_annotations' / f'lip_{split}_set.csv')
    labels = [cv2.imread(str(Path(root) / 'TrainVal_parsing_annotations' / f'{split}_segmentations' /
                             (name[:-4] + '.png')), cv2.IMREAD_UNCHANGED) for name in names]
    return names, keypoints, labels


def _all_annotated(root):
    names, keypoints, labels = [], [], []
    for split in ('train', 'val'):
        n, k, lab = _annotated(root, split)
        names += n
        keypoints.append(k)
        labels += lab
    return names, np.concatenate(keypoints), labels


def _near(label, keypoint, classes, radius):
    """Pixels of ``classes`` within ``radius`` of a 1-based CSV keypoint (x, y)."""
    col, row = int(keypoint[0]) - 1, int(keypoint[1]) - 1
    window = label[max(0, row - radius):row + radius + 1, max(0, col - radius):col + radius + 1]
    return int(np.isin(window, sorted(classes)).sum())


def _head_size(keypoints):
    return float(np.hypot(*(keypoints[body.HEAD_TOP, :2] - keypoints[body.NECK, :2])))


# ----------------------------------------------------------------------------------------------- layout

def test_layout_matches_the_real_release(synthetic_lip):
    root = Path(synthetic_lip)
    expected_dirs = ['TrainVal_images/train_images', 'TrainVal_images/val_images', 'Testing_images/testing_images',
                     'TrainVal_parsing_annotations/train_segmentations',
                     'TrainVal_parsing_annotations/val_segmentations', 'TrainVal_pose_annotations']
    for folder in expected_dirs:
        assert (root / folder).is_dir(), folder
    image_dirs = {'train': 'TrainVal_images/train_images', 'val': 'TrainVal_images/val_images',
                  'test': 'Testing_images/testing_images'}
    all_ids = []
    for split, count in SPLITS.items():
        ids = _ids(root, split)
        assert len(ids) == count
        assert ids == sorted(ids)                    # the real id lists are sorted as strings
        assert all(NAME_PATTERN.match(i) for i in ids)
        assert sorted(p.name for p in (root / image_dirs[split]).iterdir()) == sorted(f'{i}.jpg' for i in ids)
        if split != 'test':
            segmentations = root / 'TrainVal_parsing_annotations' / f'{split}_segmentations'
            assert sorted(p.name for p in segmentations.iterdir()) == sorted(f'{i}.png' for i in ids)
        all_ids += ids
    assert len(set(all_ids)) == len(all_ids)        # ids are unique across the splits
    assert sorted(p.name for p in (root / 'TrainVal_pose_annotations').iterdir()) == \
        ['lip_train_set.csv', 'lip_val_set.csv']
    assert not list(root.parent.glob('.*partial'))   # no temporary folder left beside the output


def test_images_are_jpeg_and_labels_grey_png_of_the_same_size(synthetic_lip):
    root = Path(synthetic_lip)
    for split in ('train', 'val'):
        for name in _ids(root, split):
            jpeg = root / 'TrainVal_images' / f'{split}_images' / f'{name}.jpg'
            png = root / 'TrainVal_parsing_annotations' / f'{split}_segmentations' / f'{name}.png'
            assert jpeg.read_bytes()[:3] == b'\xff\xd8\xff'
            assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
            image = cv2.imread(str(jpeg), cv2.IMREAD_UNCHANGED)
            label = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
            assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
            assert label.ndim == 2 and label.dtype == np.uint8      # 8-bit grey, not paletted RGB
            assert label.shape == image.shape[:2]
            assert label.max() <= 19
            # Sizes like real LIP crops (about 120-350 wide, 170-500 high).
            height, width = label.shape
            assert 100 <= width <= 360 and 100 <= height <= 520, (name, label.shape)
            assert (label > 0).mean() > 0.05             # a person is really drawn


def test_label_reader_of_the_parsing_track_accepts_the_pngs(synthetic_lip):
    from lip_toolkit.parsing.label_io import read_label_map
    root = Path(synthetic_lip)
    name = _ids(root, 'val')[0]
    label = read_label_map(root / 'TrainVal_parsing_annotations' / 'val_segmentations' / f'{name}.png')
    assert label.ndim == 2 and label.max() <= 19


def test_all_twenty_classes_occur(synthetic_lip):
    _, _, labels = _all_annotated(synthetic_lip)
    present = set()
    for label in labels:
        present |= set(np.unique(label).tolist())
    assert present == set(range(20))


def test_class_constants_match_the_lip_class_list():
    from lip_toolkit.parsing.classes import LIP_CLASSES
    names = {body.HAT: 'Hat', body.HAIR: 'Hair', body.GLOVE: 'Glove', body.SUNGLASSES: 'Sunglasses',
             body.UPPER_CLOTHES: 'Upper-clothes', body.DRESS: 'Dress', body.COAT: 'Coat', body.SOCKS: 'Socks',
             body.PANTS: 'Pants', body.JUMPSUIT: 'Jumpsuits', body.SCARF: 'Scarf', body.SKIRT: 'Skirt',
             body.FACE: 'Face', body.LEFT_ARM: 'Left-arm', body.RIGHT_ARM: 'Right-arm', body.LEFT_LEG: 'Left-leg',
             body.RIGHT_LEG: 'Right-leg', body.LEFT_SHOE: 'Left-shoe', body.RIGHT_SHOE: 'Right-shoe'}
    for class_id, name in names.items():
        assert LIP_CLASSES[class_id] == name


# ------------------------------------------------------------------------------------------- pose CSV

def test_csv_is_in_the_real_format(synthetic_lip):
    root = Path(synthetic_lip)
    for split in ('train', 'val'):
        rows = _read_csv_fields(root / 'TrainVal_pose_annotations' / f'lip_{split}_set.csv')
        assert [r[0] for r in rows] == [f'{i}.jpg' for i in _ids(root, split)]    # no header, id-list order
        for row in rows:
            assert len(row) == 49
            image = cv2.imread(str(root / 'TrainVal_images' / f'{split}_images' / row[0]))
            height, width = image.shape[:2]
            for joint in range(16):
                x, y, v = row[1 + 3 * joint:4 + 3 * joint]
                if x == 'nan':
                    assert (y, v) == ('nan', 'nan')            # unlabelled joints are whole nan triples
                    continue
                assert re.fullmatch(r'\d+', x) and re.fullmatch(r'\d+', y) and v in ('0', '1')
                # 1-based (col, row) like the real file: 1..W and 1..H.
                assert 1 <= int(x) <= width and 1 <= int(y) <= height


def test_synthetic_and_real_csv_parse_with_the_same_reader(synthetic_lip, real_lip_dir):
    from lip_toolkit.pose.lip_csv import read_lip_gt_csv
    real_names, real = read_lip_gt_csv(real_lip_dir / 'lip_val_set.csv')
    synth_names, synth = read_lip_gt_csv(Path(synthetic_lip) / 'TrainVal_pose_annotations' / 'lip_val_set.csv')
    assert real.shape == (10000, 16, 3) and synth.shape == (SPLITS['val'], 16, 3)
    assert synth.dtype == real.dtype
    for names in (real_names, synth_names):
        assert all(NAME_PATTERN.match(n[:-4]) and n.endswith('.jpg') for n in names)
    for array in (real, synth):
        labelled = ~np.isnan(array[..., 0])
        assert np.isnan(array[~labelled]).all()
        assert set(np.unique(array[..., 2][labelled]).tolist()) == {0.0, 1.0}
        assert np.nanmin(array[..., :2]) >= 1.0          # 1-based
    assert np.nanmin(real[..., :2]) == 1.0


def test_joint_statistics_resemble_the_real_val_set(synthetic_lip):
    """Real val: about 10 % of joints unlabelled and 7.5 % occluded; L_hip right of R_hip in about 71 % rows."""
    _, keypoints, _ = _all_annotated(synthetic_lip)
    labelled = ~np.isnan(keypoints[..., 0])
    nan_share = 1.0 - labelled.mean()
    occluded_share = (keypoints[..., 2] == 1).sum() / keypoints[..., 2].size
    assert 0.04 <= nan_share <= 0.2, nan_share
    assert 0.03 <= occluded_share <= 0.15, occluded_share
    # People face both ways: the person's left hip is on the image right when they face the camera.
    both_hips = labelled[:, body.L_HIP] & labelled[:, body.R_HIP]
    left_on_right = (keypoints[both_hips, body.L_HIP, 0] > keypoints[both_hips, body.R_HIP, 0]).mean()
    assert 0.5 <= left_on_right <= 0.9, left_on_right
    # Legs cut off by the lower border are unlabelled, as in the real file (ankles most often).
    assert np.isnan(keypoints[:, body.R_ANKLE, 0]).mean() > np.isnan(keypoints[:, body.R_HIP, 0]).mean()


# ---------------------------------------------------------------------- labels and keypoints agree

def test_head_top_and_neck_lie_on_head_pixels(synthetic_lip):
    _, keypoints, labels = _all_annotated(synthetic_lip)
    checked = 0
    for joints, label in zip(keypoints, labels):
        for joint, classes in ((body.HEAD_TOP, HEAD_CLASSES), (body.NECK, NECK_CLASSES)):
            if np.isnan(joints[joint, 0]) or joints[joint, 2] == 1:
                continue
            assert _near(label, joints[joint], classes, radius=2) > 0
            checked += 1
    assert checked > 150


@pytest.mark.parametrize('side', ['left', 'right'])
def test_ankles_and_wrists_sit_on_their_own_side(synthetic_lip, side):
    """A visible left ankle has left leg/shoe pixels around it, more than right ones (and so on)."""
    _, keypoints, labels = _all_annotated(synthetic_lip)
    if side == 'left':
        checks = [(body.L_ANKLE, {body.LEFT_LEG, body.LEFT_SHOE}, {body.RIGHT_LEG, body.RIGHT_SHOE}),
                  (body.L_WRIST, {body.LEFT_ARM, body.GLOVE}, {body.RIGHT_ARM})]
    else:
        checks = [(body.R_ANKLE, {body.RIGHT_LEG, body.RIGHT_SHOE}, {body.LEFT_LEG, body.LEFT_SHOE}),
                  (body.R_WRIST, {body.RIGHT_ARM, body.GLOVE}, {body.LEFT_ARM})]
    for joint, own, other in checks:
        agree = total = 0
        for joints, label in zip(keypoints, labels):
            if np.isnan(joints[joint, 0]) or joints[joint, 2] == 1:
                continue
            head_size = _head_size(joints)
            radius = 6 if np.isnan(head_size) else max(3, int(0.5 * head_size))
            own_count = _near(label, joints[joint], own, radius)
            total += 1
            agree += own_count > 0 and own_count > _near(label, joints[joint], other, radius)
        assert total > 40
        assert agree / total >= 0.9, (joint, agree, total)


def test_occluded_joints_are_covered_by_something_else(synthetic_lip):
    """v=1 joints lie under another part or an object far more often than visible ones do."""
    _, keypoints, labels = _all_annotated(synthetic_lip)
    arm_joints = {body.L_ELBOW: {body.LEFT_ARM, body.GLOVE}, body.L_WRIST: {body.LEFT_ARM, body.GLOVE},
                  body.R_ELBOW: {body.RIGHT_ARM, body.GLOVE}, body.R_WRIST: {body.RIGHT_ARM, body.GLOVE}}
    own_share = {0: [], 1: []}
    for joints, label in zip(keypoints, labels):
        for joint, classes in arm_joints.items():
            if np.isnan(joints[joint, 0]):
                continue
            sleeve = {body.UPPER_CLOTHES, body.COAT, body.DRESS, body.JUMPSUIT}
            col, row = int(joints[joint, 0]) - 1, int(joints[joint, 1]) - 1
            on_own_arm = label[row, col] in classes or (label[row, col] in sleeve and joints[joint, 2] == 0)
            own_share[int(joints[joint, 2])].append(on_own_arm)
    assert len(own_share[1]) >= 5
    assert np.mean(own_share[0]) > 0.9
    assert np.mean(own_share[1]) < np.mean(own_share[0]) - 0.3


# ------------------------------------------------------------------------------------------ determinism

def _tree_bytes(root):
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_other_seeds_differ(tmp_path):
    first = _tree_bytes(synthesize_lip(tmp_path / 'a', train=4, val=2, test=1, seed=7).root)
    second = _tree_bytes(synthesize_lip(tmp_path / 'b', train=4, val=2, test=1, seed=7).root)
    other = _tree_bytes(synthesize_lip(tmp_path / 'c', train=4, val=2, test=1, seed=8).root)
    assert first == second
    assert len(first) == 4 + 2 + 1 + 4 + 2 + 2 + 3    # images, labels, 2 CSVs, 3 id lists
    assert set(first) != set(other)


def test_parallel_workers_write_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(generator, '_PARALLEL_MIN_IMAGES', 0)
    serial = _tree_bytes(synthesize_lip(tmp_path / 'serial', train=5, val=3, test=2, seed=3, workers=1).root)
    parallel = _tree_bytes(synthesize_lip(tmp_path / 'parallel', train=5, val=3, test=2, seed=3, workers=2).root)
    assert serial == parallel


def test_an_image_does_not_depend_on_the_split_sizes(tmp_path):
    small = _tree_bytes(synthesize_lip(tmp_path / 'small', train=2, val=1, test=1, seed=5).root)
    large = _tree_bytes(synthesize_lip(tmp_path / 'large', train=4, val=2, test=1, seed=5).root)
    for path, data in small.items():
        if path.endswith(('.jpg', '.png')):
            assert large[path] == data


# ---------------------------------------------------------------------------------------- speed

def test_rendering_speed_bound(tmp_path):
    """1,000 images must take well under a minute on 2 cores: at most 60 ms of CPU per image (30 s per 1,000
    on 2 cores); measured about 17 ms. CPU time, not wall time, so that a busy shared machine does not fail it."""
    from lip_toolkit.synthetic import appearance
    appearance._noise_bank()                          # built once per process, not per image
    start = time.process_time()
    synthesize_lip(tmp_path / 'speed', train=24, val=12, test=4, seed=11, workers=1)
    per_image = (time.process_time() - start) / 40
    assert per_image < 0.06, f'{per_image * 1000:.0f} ms of CPU per image'


@pytest.mark.slow
def test_thousand_images_in_well_under_a_minute(tmp_path):
    """1,000 images with 2 workers: under 60 CPU seconds in all (so under 30 s on 2 idle cores)."""
    import resource

    def cpu_seconds():
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    start = cpu_seconds()
    summary = synthesize_lip(tmp_path / 'thousand', train=700, val=200, test=100, seed=0, workers=2)
    used = cpu_seconds() - start
    assert used < 60.0, f'{used:.1f} CPU s; {summary.one_line()}'


# ---------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize('kwargs', [dict(train=-1), dict(val=-3), dict(test=-1), dict(seed=-1), dict(train=2.5)])
def test_bad_counts_are_one_line_errors(tmp_path, kwargs):
    with pytest.raises(LipToolkitError, match='non-negative integer'):
        synthesize_lip(tmp_path / 'out', **kwargs)
    assert not (tmp_path / 'out').exists()


def test_non_empty_output_is_refused_unless_overwrite(tmp_path):
    out = synthesize_lip(tmp_path / 'out', train=1, val=1, test=1, seed=1).root
    before = _tree_bytes(out)
    with pytest.raises(LipToolkitError, match='not empty'):
        synthesize_lip(out, train=2, val=1, test=1)
    assert _tree_bytes(out) == before
    synthesize_lip(out, train=2, val=1, test=1, overwrite=True)
    assert len(_ids(out, 'train')) == 2
    assert not [p for p in before if p not in _tree_bytes(out) and not p.endswith(('.jpg', '.png'))]


def test_overwrite_never_replaces_a_folder_with_other_files(tmp_path):
    out = synthesize_lip(tmp_path / 'out', train=1, val=1, test=1).root
    (out / 'notes.txt').write_text('mine')
    with pytest.raises(LipToolkitError, match="'notes.txt', which is not part of a LIP tree"):
        synthesize_lip(out, train=1, val=1, test=1, overwrite=True)
    assert (out / 'notes.txt').read_text() == 'mine'


def test_an_existing_empty_folder_is_filled(tmp_path):
    synthesize_lip(tmp_path, train=1, val=1, test=1)
    assert len(_ids(tmp_path, 'train')) == 1


@pytest.mark.parametrize('make_bad', ['file', 'under_file'])
def test_unwritable_outputs_are_one_line_errors(tmp_path, make_bad):
    blocker = tmp_path / 'blocker'
    blocker.write_text('a file, not a folder')
    out = blocker if make_bad == 'file' else blocker / 'sub' / 'out'
    with pytest.raises(LipToolkitError) as info:
        synthesize_lip(out, train=1, val=1, test=1)
    assert str(blocker) in str(info.value) and '\n' not in str(info.value)


def test_a_failure_midway_leaves_no_output(tmp_path, monkeypatch):
    from lip_toolkit.synthetic import render
    real_render, calls = render.render_sample, []

    def failing(rng):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError('disk on fire')
        return real_render(rng)

    monkeypatch.setattr(render, 'render_sample', failing)
    with pytest.raises(RuntimeError):
        synthesize_lip(tmp_path / 'out', train=3, val=1, test=1, workers=1)
    assert list(tmp_path.iterdir()) == []             # neither the output nor a temporary folder


# ------------------------------------------------------------------------------ statistics module

def test_statistics_of_the_real_val_csv(real_lip_dir):
    from lip_toolkit.synthetic.stats import describe_pose_csv
    stats = describe_pose_csv(real_lip_dir / 'lip_val_set.csv')
    # Counts from lip-facts.md: 11,920 occluded and 15,552 nan joints of 160,000.
    assert stats['rows'] == 10000
    assert stats['occluded'] == pytest.approx(11920 / 160000)
    assert stats['unlabelled'] == pytest.approx(15552 / 160000)
    assert stats['min_coordinate'] == 1.0
    assert len(stats['per_joint_occluded']) == 16
    assert set(stats['per_joint_unlabelled']) == set(stats['per_joint_occluded'])


def test_statistics_command_prints_a_table_and_one_line_errors(synthetic_lip, tmp_path, capsys):
    from lip_toolkit.synthetic.stats import main
    csv_path = Path(synthetic_lip) / 'TrainVal_pose_annotations' / 'lip_val_set.csv'
    assert main([str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert 'unlabelled %' in out and 'l_wrist nan % / v=1 %' in out and '\nrows ' in out
    assert main([str(tmp_path / 'missing.csv')]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'missing.csv' in err and err.count('\n') == 1
