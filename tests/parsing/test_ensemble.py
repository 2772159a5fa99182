"""Parsing ensembles: averaging math, equality with a member's own evaluate, weights, softmax, resampling."""
import numpy as np
import pytest

from lip_toolkit.ensemble import run_ensemble
from lip_toolkit.ensemble_config import EnsembleMember, EnsembleSpec
from lip_toolkit.parsing.ensemble import accumulate, combine_outputs
from lip_toolkit.parsing.label_io import read_label_map

TINY = 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'
# Small inputs keep the tests fast; member B sees a non-square one, so its logits come back on another grid.
A_OPTIONS = {'model.test_cfg.input_size': (64, 64)}
B_OPTIONS = {'model.test_cfg.input_size': (48, 32)}
A_SCALES = (0.75, 1.0)  # member A: two test scales, averaged at the original size
BATCH = 2


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def test_combine_outputs_weighted_average_by_hand():
    a = np.array([[[1.0, 4.0]], [[2.0, 0.0]]], dtype=np.float32)  # (C=2, H=1, W=2)
    b = np.array([[[3.0, 0.0]], [[0.0, 8.0]]], dtype=np.float32)
    mean = combine_outputs([a, b], [0.25, 0.75])
    np.testing.assert_allclose(mean, [[[2.5, 1.0]], [[0.5, 6.0]]])
    assert mean.argmax(axis=0).tolist() == [[0, 1]]
    # one member (weight 1) or zero-weight companions give the member's array back bit for bit
    assert combine_outputs([a], [1.0]) is a
    assert combine_outputs([a, b], [1.0, 0.0]) is a
    assert accumulate(None, b, 0.0) is None
    with pytest.raises(ValueError):
        combine_outputs([a], [0.0])


@pytest.fixture(scope='module')
def tiny_setup(tmp_path_factory):
    """Four val images and two freshly initialised tiny CE2P checkpoints."""
    import torch

    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import build_parsing_model
    from lip_toolkit.synthetic import synthesize_lip
    root = tmp_path_factory.mktemp('parsing_ensemble')
    synthesize_lip(root / 'lip', train=0, val=4, test=2, seed=3)
    checkpoints = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = build_parsing_model(load_config(TINY, B_OPTIONS if seed else A_OPTIONS), device='cpu')
        # Wider random weights than the default init, whose zero-bias classifier answers one class everywhere:
        # the maps must vary for the equality checks to mean something.
        for name, param in model.named_parameters():
            if param.dim() > 1:
                torch.nn.init.kaiming_normal_(param)
            else:
                torch.nn.init.normal_(param, 0.0 if name.endswith('bias') else 1.0, 0.2)
        checkpoints.append(root / f'member{seed}.pth')
        torch.save({'state_dict': model.state_dict()}, checkpoints[-1])
    return root, checkpoints


@pytest.fixture(scope='module')
def member_a_evaluated(tiny_setup):
    """Member A through its own `evaluate` path: scores and label maps."""
    from lip_toolkit.parsing.inference import evaluate_checkpoint
    root, (ckpt_a, _) = tiny_setup
    result = evaluate_checkpoint(TINY, ckpt_a, flip=True, scales=A_SCALES, out_dir=root / 'eval_a',
                                 data_root=root / 'lip', device='cpu', cfg_options=A_OPTIONS, batch_size=BATCH)
    return result, _read_dir(root / 'eval_a')


def _read_dir(folder):
    return {p.stem: read_label_map(p, 'pred') for p in sorted(folder.glob('*.png'))}


def _spec(weights, average='logits', b_flip=None):
    root_members = [EnsembleMember(TINY, '', weights[0], name='a', cfg_options=A_OPTIONS, scales=A_SCALES)]
    if len(weights) > 1:
        root_members.append(EnsembleMember(TINY, '', weights[1], name='b', cfg_options=B_OPTIONS, flip=b_flip))
    return EnsembleSpec(track='parsing', members=root_members, average=average, flip=True)


def _with_checkpoints(spec, checkpoints):
    for member, checkpoint in zip(spec.members, checkpoints):
        member.checkpoint = str(checkpoint)
    return spec


def test_one_member_equals_its_own_evaluate_exactly(tiny_setup, member_a_evaluated, tmp_path):
    root, checkpoints = tiny_setup
    evaluated, evaluated_maps = member_a_evaluated
    result = run_ensemble(_with_checkpoints(_spec([1.0]), checkpoints), data_root=root / 'lip',
                          out=tmp_path / 'ens', device='cpu', batch_size=BATCH)
    maps = _read_dir(tmp_path / 'ens')
    assert maps.keys() == evaluated_maps.keys() and len(maps) == 4
    assert len(np.unique(np.concatenate([m.ravel() for m in maps.values()]))) > 1  # not a constant answer
    for key in maps:
        np.testing.assert_array_equal(maps[key], evaluated_maps[key])
    for scores in (result['ensemble'], result['members'][0]):
        assert scores['mIoU'] == evaluated['mIoU'] and scores['IoU'] == evaluated['IoU']
    assert 'ensemble (logits)' in result['table']


def test_weights_w_and_zero_equal_the_first_member_and_score_both(tiny_setup, member_a_evaluated, tmp_path):
    root, checkpoints = tiny_setup
    evaluated, evaluated_maps = member_a_evaluated
    result = run_ensemble(_with_checkpoints(_spec([2.0, 0.0]), checkpoints), data_root=root / 'lip',
                          out=tmp_path / 'ens', device='cpu', batch_size=BATCH)
    maps = _read_dir(tmp_path / 'ens')
    for key in evaluated_maps:
        np.testing.assert_array_equal(maps[key], evaluated_maps[key])
    assert result['ensemble']['mIoU'] == evaluated['mIoU']
    assert [m['weight'] for m in result['members']] == [1.0, 0.0]
    # the zero-weight member is still scored, in the same pass
    from lip_toolkit.parsing.inference import evaluate_checkpoint
    b_alone = evaluate_checkpoint(TINY, checkpoints[1], flip=True, data_root=root / 'lip', device='cpu',
                                  cfg_options=B_OPTIONS, batch_size=BATCH)
    assert result['members'][1]['mIoU'] == b_alone['mIoU']


def test_weighted_softmax_average_of_members_on_different_grids(tiny_setup, tmp_path):
    from lip_toolkit.core.image_io import read_image_bgr
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import ParsingLogitPredictor, split_items
    root, checkpoints = tiny_setup
    spec = _with_checkpoints(_spec([0.3, 0.7], average='softmax', b_flip=False), checkpoints)
    result = run_ensemble(spec, data_root=root / 'lip', out=tmp_path / 'ens', device='cpu', batch_size=BATCH)
    assert result['average'] == 'softmax' and 'ensemble (softmax)' in result['table']
    # what it printed is what `evaluate parsing` makes of the PNGs it wrote
    from lip_toolkit.parsing.evaluation import evaluate_parsing_dirs
    offline = evaluate_parsing_dirs(root / 'lip' / 'TrainVal_parsing_annotations' / 'val_segmentations',
                                    tmp_path / 'ens', workers=1)
    assert offline['mIoU'] == pytest.approx(result['ensemble']['mIoU'])
    maps = _read_dir(tmp_path / 'ens')
    # by hand: each member alone (its own input size, flip setting, softmax), averaged 0.3 / 0.7
    predictor_a = ParsingLogitPredictor.from_config(load_config(TINY, A_OPTIONS), checkpoints[0], device='cpu',
                                                    flip=True, scales=A_SCALES, output='softmax')
    predictor_b = ParsingLogitPredictor.from_config(load_config(TINY, B_OPTIONS), checkpoints[1], device='cpu',
                                                    flip=False, output='softmax')
    assert predictor_b.input_size == (48, 32) and predictor_a.input_size == (64, 64)
    items = split_items(load_config(TINY), 'val', root / 'lip')
    images = [read_image_bgr(item['img_path']) for item in items]
    for start in range(0, len(items), BATCH):  # the ensemble's batches
        batch = images[start:start + BATCH]
        for item, image, prob_a, prob_b in zip(items[start:start + BATCH], batch, predictor_a(batch),
                                               predictor_b(batch)):
            assert prob_a.shape[1:] == prob_b.shape[1:] == image.shape[:2]  # resampled to the original grid
            expected = (0.3 * prob_a + 0.7 * prob_b).argmax(axis=0)
            np.testing.assert_array_equal(maps[item['id']], expected)


def test_test_split_writes_predictions_without_scores(tiny_setup, tmp_path):
    root, checkpoints = tiny_setup
    result = run_ensemble(_with_checkpoints(_spec([1.0]), checkpoints), split='test',
                          data_root=root / 'lip', out=tmp_path / 'test_pngs', device='cpu', batch_size=BATCH)
    assert 'ensemble' not in result and 'table' not in result
    assert sorted(p.stem for p in (tmp_path / 'test_pngs').glob('*.png')) == sorted(
        (root / 'lip' / 'Testing_images' / 'test_id.txt').read_text().split())
