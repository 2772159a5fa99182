"""Pose ensembles: heatmap averaging math, grids, equality with a member's evaluate, weights, PoseFix refiner."""
import types

import numpy as np
import pytest
from mmengine.config import Config

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


class _FakeMember:
    """A pose model whose heatmaps are given: one Gaussian per joint at fixed heatmap pixels, on a fixed grid."""

    def __init__(self, peaks, step, heatmap_size, height=1.0, own_joints=(0.0, 0.0), is_posefix=False):
        self.peaks, self.step, self.heatmap_size, self.height = peaks, step, heatmap_size, height
        self.own_joints = own_joints  # what the member decodes on its own: kept apart from the ensemble's
        self.is_posefix = is_posefix
        self.coarse_seen = []
        width, hm_height = heatmap_size
        codec = dict(type='MSRAHeatmap', input_size=(width * 4, hm_height * 4), heatmap_size=heatmap_size, sigma=1)
        self.model = types.SimpleNamespace(cfg=Config(dict(model=dict(head=dict(decoder=codec)))))

    def predict(self, images, bboxes=None, coarse_keypoints=None):
        from lip_toolkit.pose.inference import HeatmapBatch
        count = len(images)
        if self.is_posefix:  # a refiner that says what it was given, moved by (1, 2)
            self.coarse_seen.append(np.array(coarse_keypoints))
            return HeatmapBatch(np.zeros((count, 16, 1, 1), np.float32), np.zeros((count, 2, 3)),
                                np.array(coarse_keypoints) + (1.0, 2.0), np.ones((count, 16)))
        width, height = self.heatmap_size
        maps = np.stack([_gaussian(width, height, x, y, sigma=1.0) for x, y in self.peaks]) * self.height
        return HeatmapBatch(np.repeat(maps[None], count, 0), np.repeat(_affine(self.step), count, 0),
                            np.full((count, 16, 2), self.own_joints), np.ones((count, 16)))


def _fake_ensemble(monkeypatch, fakes, weights, refiner=None):
    """A PoseEnsemble over fake members (keyed by checkpoint name), as ``predict`` and ``ensemble_pose`` build it."""
    from lip_toolkit.pose.ensemble import PoseEnsemble
    from lip_toolkit.pose.inference import PoseHeatmapPredictor
    everything = dict(fakes, refiner=refiner)
    monkeypatch.setattr(PoseHeatmapPredictor, 'from_config',
                        classmethod(lambda cls, config, checkpoint, **kwargs: everything[checkpoint]))
    members = [EnsembleMember(HRNET, name, weight, name=name) for name, weight in zip(fakes, weights)]
    spec = EnsembleSpec('pose', members, refiner=EnsembleMember(POSEFIX, 'refiner') if refiner else None)
    return PoseEnsemble(spec, device='cpu')


IMAGE = [np.zeros((128, 96, 3), np.uint8)]


def test_configured_weights_pick_the_peak_by_hand(monkeypatch):
    # Joint 0: member 'low' peaks with height 1 at heatmap pixel (5, 6) = original (20, 24); member 'high' with
    # height 2 at (15, 20) = original (60, 80); same 24x32 grid, 4 original pixels a heatmap pixel.
    # Weights 3:1 (0.75, 0.25): 0.75 * 1 = 0.75 beats 0.25 * 2 = 0.5 -> (20, 24). Equal weights would give
    # 0.5 against 1.0 -> (60, 80); 1:3 gives 0.25 against 0.75 * 2 = 1.5 -> (60, 80).
    peaks_low = [(5.0, 6.0)] * 16
    peaks_high = [(15.0, 20.0)] * 16
    for weights, expected in (([3.0, 1.0], (20.0, 24.0)), ([1.0, 3.0], (60.0, 80.0))):
        fakes = {'low': _FakeMember(peaks_low, 4.0, (24, 32)), 'high': _FakeMember(peaks_high, 4.0, (24, 32), 2.0)}
        ensemble = _fake_ensemble(monkeypatch, fakes, weights)
        joints, scores = ensemble.predict(IMAGE)['ensemble']
        np.testing.assert_allclose(joints[0, 0], expected, atol=0.01)
        # the averaged peak's height, by hand (the other peak, 10 and 14 pixels away, adds exp(-148) ~ 0)
        assert scores[0, 0] == pytest.approx(0.75 if weights[0] == 3.0 else 1.5, abs=1e-6)


def test_members_are_averaged_on_the_finest_grid(monkeypatch):
    # Joint at original (44, 60). Fine member: 24x32, 4 px a heatmap pixel, peak at (11, 15) exactly. Coarse member:
    # 12x16, 8 px a heatmap pixel, peak at (5.5, 7.5), between its pixels. On the fine grid the mean peaks at
    # (11, 15) -> (44, 60); the coarse grid has no pixel there: its decode lands 4 px or more away. The coarse member
    # comes first, so neither "first member" nor "coarsest grid" can pass.
    fakes = {'coarse': _FakeMember([(5.5, 7.5)] * 16, 8.0, (12, 16)),
             'fine': _FakeMember([(11.0, 15.0)] * 16, 4.0, (24, 32))}
    ensemble = _fake_ensemble(monkeypatch, fakes, [1.0, 1.0])
    joints, _ = ensemble.predict(IMAGE)['ensemble']
    np.testing.assert_allclose(joints[0], np.tile([44.0, 60.0], (16, 1)), atol=0.5)


def test_the_refiner_refines_the_ensembles_decoded_joints(monkeypatch):
    # Members decode, on their own, (0, 0) and (90, 120); their mean peaks at original (44, 60) (as above, one grid).
    fakes = {'a': _FakeMember([(11.0, 15.0)] * 16, 4.0, (24, 32), own_joints=(0.0, 0.0)),
             'b': _FakeMember([(11.0, 15.0)] * 16, 4.0, (24, 32), own_joints=(90.0, 120.0))}
    refiner = _FakeMember([], 4.0, (1, 1), is_posefix=True)
    ensemble = _fake_ensemble(monkeypatch, fakes, [1.0, 1.0], refiner=refiner)
    outputs = ensemble.predict(IMAGE + IMAGE)
    (seen,) = refiner.coarse_seen
    np.testing.assert_allclose(seen, np.full((2, 16, 2), (44.0, 60.0)), atol=0.5)
    np.testing.assert_allclose(outputs['refined'][0], seen + (1.0, 2.0))  # and its answer is the final one
    np.testing.assert_allclose(outputs['members'][0], 0.0)
    np.testing.assert_allclose(outputs['members'][1][..., 0], 90.0)


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
