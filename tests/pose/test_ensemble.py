"""Pose ensembles: heatmap averaging math, grids, equality with a member's evaluate, weights, PoseFix refiner."""
import numpy as np
import pytest

from lip_toolkit.ensemble import run_ensemble
from lip_toolkit.ensemble_config import EnsembleMember, EnsembleSpec
from lip_toolkit.pose.ensemble import accumulate_heatmaps, average_heatmaps
from lip_toolkit.pose.inference import decode_heatmaps

HRNET = 'configs/demo/pose_hrnet-tiny_lip-128x96.py'
POSEFIX = 'configs/demo/pose_posefix-tiny_lip-128x96.py'
# Member B: the same network at a 64x96 input, so its 16x24 heatmaps lie on another grid than A's 24x32.
B_OPTIONS = {'model.head.decoder.input_size': (64, 96), 'model.head.decoder.heatmap_size': (16, 24),
             'test_dataloader.dataset.pipeline.2.input_size': (64, 96)}
BATCH = 2


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def _gaussian(width, height, x, y, sigma=1.5):
    xs, ys = np.meshgrid(np.arange(width), np.arange(height))
    return np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma ** 2)).astype(np.float32)


def _affine(step, offset=(0.0, 0.0)):
    return np.array([[[step, 0.0, offset[0]], [0.0, step, offset[1]]]])


def test_average_heatmaps_by_hand():
    grid = _affine(1.0)
    a = np.full((1, 2, 3, 3), 2.0, np.float32)
    b = np.zeros((1, 2, 3, 3), np.float32)
    b[0, 1] = 4.0
    mean = average_heatmaps([a, b], [grid, grid], [0.25, 0.75], reference=0)
    np.testing.assert_allclose(mean[0, 0], 0.5)
    np.testing.assert_allclose(mean[0, 1], 3.5)
    assert average_heatmaps([a, b], [grid, grid], [1.0, 0.0], reference=0) is a  # bit for bit
    assert accumulate_heatmaps(None, b, grid, grid, (3, 3), 0.0) is None
    with pytest.raises(ValueError):
        average_heatmaps([a], [grid], [0.0], reference=0)


def test_heatmaps_on_different_grids_are_resampled_then_the_heavier_peak_wins():
    # A: 24x32 heatmap, 4 original pixels a heatmap pixel; B: 12x16, 8 pixels a heatmap pixel, shifted by 2.
    affine_a, affine_b = _affine(4.0), _affine(8.0, (2.0, 2.0))
    near, far = (40.0, 60.0), (74.0, 98.0)  # original pixels: heatmap A (10, 15), (18.5, 24.5); B (4.75, 7.25)...
    a = np.stack([_gaussian(24, 32, *(np.array(near) / 4))])[None]
    b = np.stack([_gaussian(12, 16, *((np.array(far) - 2) / 8), sigma=0.75)])[None]
    for weights, expected in (([0.7, 0.3], near), ([0.3, 0.7], far)):
        mean = average_heatmaps([a, b], [affine_a, affine_b], weights, reference=0)
        assert mean.shape == (1, 1, 32, 24)
        joints, _ = decode_heatmaps(mean, affine_a)
        np.testing.assert_allclose(joints[0, 0], expected, atol=2.0)  # within half a heatmap pixel of A
    # the same peak seen on both grids averages to that peak
    b_near = np.stack([_gaussian(12, 16, *((np.array(near) - 2) / 8), sigma=0.75)])[None]
    joints, _ = decode_heatmaps(average_heatmaps([a, b_near], [affine_a, affine_b], [0.5, 0.5], 0), affine_a)
    np.testing.assert_allclose(joints[0, 0], near, atol=2.0)


@pytest.fixture(scope='module')
def tiny_setup(tmp_path_factory):
    """Four val images; fresh tiny HRNet checkpoints A and B (B at another input size) and a tiny PoseFix."""
    import torch

    from lip_toolkit.core.runner import load_config
    from lip_toolkit.pose.inference import build_pose_model
    from lip_toolkit.synthetic import synthesize_lip
    root = tmp_path_factory.mktemp('pose_ensemble')
    synthesize_lip(root / 'lip', train=0, val=4, test=2, seed=5)
    checkpoints = {}
    for seed, (name, config, options) in enumerate((('a', HRNET, None), ('b', HRNET, B_OPTIONS),
                                                    ('posefix', POSEFIX, None))):
        torch.manual_seed(seed)
        model = build_pose_model(load_config(config, options), device='cpu')
        checkpoints[name] = root / f'{name}.pth'
        torch.save({'state_dict': model.state_dict()}, checkpoints[name])
    return root, checkpoints


def _evaluate(root, checkpoint, out, options=None):
    from lip_toolkit.pose.inference import evaluate_checkpoint
    return evaluate_checkpoint(HRNET, checkpoint, flip=True, out=out, data_root=root / 'lip', batch_size=BATCH,
                               device='cpu', cfg_options=options)


@pytest.fixture(scope='module')
def member_a_evaluated(tiny_setup):
    root, checkpoints = tiny_setup
    result = _evaluate(root, checkpoints['a'], root / 'a.csv')
    return result, (root / 'a.csv').read_text()


def _spec(checkpoints, weights, refiner=False):
    members = [EnsembleMember(HRNET, str(checkpoints['a']), weights[0], name='a')]
    if len(weights) > 1:
        members.append(EnsembleMember(HRNET, str(checkpoints['b']), weights[1], name='b', cfg_options=B_OPTIONS))
    return EnsembleSpec(track='pose', members=members, flip=True,
                        refiner=EnsembleMember(POSEFIX, str(checkpoints['posefix'])) if refiner else None)


def _scores(result):
    return {k: v for k, v in result.items() if k in ('Head', 'Shoulder', 'Wrist', 'Ankle', 'UBody', 'Mean',
                                                       'per_joint')}


def test_one_member_equals_its_own_evaluate_exactly(tiny_setup, member_a_evaluated, tmp_path):
    root, checkpoints = tiny_setup
    evaluated, evaluated_csv = member_a_evaluated
    result = run_ensemble(_spec(checkpoints, [1.0]), data_root=root / 'lip', out=tmp_path / 'ens.csv',
                          batch_size=BATCH, device='cpu')
    assert (tmp_path / 'ens.csv').read_text() == evaluated_csv
    assert len(set(evaluated_csv.split(','))) > 20  # real, varied joints: the comparison means something
    assert _scores(result['ensemble']) == _scores(evaluated) == _scores(result['members'][0])
    assert 'ensemble (heatmaps)' in result['table']


def test_weights_w_and_zero_equal_the_first_member_and_score_both(tiny_setup, member_a_evaluated, tmp_path):
    root, checkpoints = tiny_setup
    evaluated, evaluated_csv = member_a_evaluated
    result = run_ensemble(_spec(checkpoints, [3.0, 0.0]), data_root=root / 'lip', out=tmp_path / 'ens.csv',
                          batch_size=BATCH, device='cpu')
    assert (tmp_path / 'ens.csv').read_text() == evaluated_csv
    b_alone = _evaluate(root, checkpoints['b'], tmp_path / 'b.csv', B_OPTIONS)
    assert _scores(result['members'][1]) == _scores(b_alone)  # scored in the same pass, not voting


def test_two_members_and_refiner_equal_the_computation_by_hand(tiny_setup, tmp_path):
    from lip_toolkit.core.image_io import read_image_bgr
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.pose.inference import PoseHeatmapPredictor, split_items
    from lip_toolkit.pose.lip_csv import write_lip_pred_csv
    root, checkpoints = tiny_setup
    result = run_ensemble(_spec(checkpoints, [0.4, 0.6], refiner=True), data_root=root / 'lip',
                          out=tmp_path / 'ens.csv', batch_size=BATCH, device='cpu')
    assert '+ pose_posefix-tiny_lip-128x96' in result['table'] and 0 <= result['refined']['PCKh'] <= 100
    # what it printed is what `evaluate pose` makes of the CSV it wrote (the refined joints)
    from lip_toolkit.pose.evaluation import evaluate_pose_files
    offline = evaluate_pose_files(root / 'lip' / 'TrainVal_pose_annotations' / 'lip_val_set.csv', tmp_path / 'ens.csv')
    assert offline.scores['Mean'] == pytest.approx(result['refined']['Mean'], nan_ok=True)

    a = PoseHeatmapPredictor.from_config(load_config(HRNET), checkpoints['a'], device='cpu')
    b = PoseHeatmapPredictor.from_config(load_config(HRNET, B_OPTIONS), checkpoints['b'], device='cpu')
    refiner = PoseHeatmapPredictor.from_config(load_config(POSEFIX), checkpoints['posefix'], device='cpu')
    items = split_items(load_config(HRNET), 'val', root / 'lip')
    refined, averaged = [], []
    for start in range(0, len(items), BATCH):
        chunk = items[start:start + BATCH]
        images = [read_image_bgr(item['path']) for item in chunk]
        bboxes = [item['bbox'] for item in chunk]
        out_a, out_b = a.predict(images, bboxes=bboxes), b.predict(images, bboxes=bboxes)
        assert out_a.heatmaps.shape[-2:] == (32, 24) and out_b.heatmaps.shape[-2:] == (24, 16)
        mean = average_heatmaps([out_a.heatmaps, out_b.heatmaps], [out_a.affines, out_b.affines], [0.4, 0.6], 0)
        joints, _ = decode_heatmaps(mean, out_a.affines, dict(type='MSRAHeatmap', sigma=1))
        averaged.append(joints)
        refined.append(refiner.predict(images, bboxes=bboxes, coarse_keypoints=joints).keypoints)
    names = [item['name'] for item in items]
    write_lip_pred_csv(tmp_path / 'by_hand.csv', names, np.concatenate(refined))
    assert (tmp_path / 'ens.csv').read_text() == (tmp_path / 'by_hand.csv').read_text()
    from lip_toolkit.pose.metrics import compute_lip_pckh
    gt = np.stack([item['gt'] for item in items])
    expected = compute_lip_pckh(gt, np.round(np.clip(np.concatenate(averaged), 0, None)))['Mean']
    assert result['ensemble']['Mean'] == pytest.approx(expected, nan_ok=True)


def test_test_split_writes_predictions_without_scores(tiny_setup, tmp_path):
    root, checkpoints = tiny_setup
    result = run_ensemble(_spec(checkpoints, [1.0, 1.0]), split='test', data_root=root / 'lip',
                          out=tmp_path / 'test.csv', batch_size=BATCH, device='cpu')
    assert 'ensemble' not in result
    ids = (root / 'lip' / 'Testing_images' / 'test_id.txt').read_text().split()
    assert [line.split(',')[0] for line in (tmp_path / 'test.csv').read_text().splitlines()] == \
        [f'{i}.jpg' for i in ids]


def test_posefix_member_or_non_posefix_refiner_is_refused(tiny_setup):
    from lip_toolkit.core.errors import LipToolkitError
    root, checkpoints = tiny_setup
    hrnet_as_refiner = EnsembleSpec('pose', [EnsembleMember(HRNET, str(checkpoints['a']))],
                                    refiner=EnsembleMember(HRNET, str(checkpoints['a'])))
    with pytest.raises(LipToolkitError, match='the refiner must be a PoseFix config'):
        run_ensemble(hrnet_as_refiner, data_root=root / 'lip', device='cpu')
    posefix_as_member = EnsembleSpec('pose', [EnsembleMember(POSEFIX, str(checkpoints['posefix']))])
    with pytest.raises(LipToolkitError, match='is a PoseFix model: give it as the refiner'):
        run_ensemble(posefix_as_member, data_root=root / 'lip', device='cpu')
