"""Parsing inference: flip test with the left/right channel swap, multi-scale, original-size logits, checkpoint
evaluation on synthetic LIP."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.parsing.classes import LIP_FLIP_PAIRS
from lip_toolkit.parsing.inference import (ParsingLogitPredictor, evaluate_checkpoint, flip_channel_order,
                                           unflip_logits)

DEMO_CONFIG = Path(__file__).resolve().parents[2] / 'configs' / 'demo' / \
    'parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


class MirrorAwareSegmentor(torch.nn.Module):
    """A one-conv 'segmentor' that treats a mirrored person exactly as LIP labels do.

    Channels outside the flip pairs use left-right symmetric kernels; channel b of each pair (a, b) uses the
    mirror image of channel a's kernel. So model(mirror(x)) = mirror(model(x)) with a and b exchanged, and a
    correct flip test returns the plain prediction unchanged, while a flip test without the swap does not.
    """

    def __init__(self, num_classes=20, flip_pairs=LIP_FLIP_PAIRS, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        weight = torch.randn(num_classes, 3, 3, 3, generator=generator)
        bias = torch.randn(num_classes, generator=generator)
        paired = {c for pair in flip_pairs for c in pair}
        for c in range(num_classes):
            if c not in paired:
                weight[c] = (weight[c] + weight[c].flip(-1)) / 2
        for a, b in flip_pairs:
            weight[b] = weight[a].flip(-1)
            bias[b] = bias[a]
        self.conv = torch.nn.Conv2d(3, num_classes, 3, padding=1)
        self.conv.weight.data.copy_(weight)
        self.conv.bias.data.copy_(bias)
        self.data_preprocessor = SegDataPreProcessor(mean=[100.0, 110.0, 120.0], std=[50.0, 60.0, 70.0],
                                                     bgr_to_rgb=True, size_divisor=1)
        self.decode_head = torch.nn.Module()
        self.decode_head.out_channels = num_classes

    def inference(self, inputs, batch_img_metas):
        assert all(meta['img_shape'] == tuple(inputs.shape[2:]) for meta in batch_img_metas)
        return self.conv(inputs)


class AsymmetricSegmentor(MirrorAwareSegmentor):
    """The same conv with unconstrained kernels: its flipped prediction really differs."""

    def __init__(self):
        super().__init__()
        torch.nn.init.normal_(self.conv.weight)


def random_image(height, width, seed):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize('bgr_to_rgb', [True, False])
def test_predictor_normalises_as_the_models_own_data_preprocessor(bgr_to_rgb):
    # MMSeg's preprocessor is the oracle: training feeds the model through it, so test time must match it.
    model = AsymmetricSegmentor()
    model.data_preprocessor = SegDataPreProcessor(mean=[100.0, 110.0, 120.0], std=[50.0, 60.0, 70.0],
                                                  bgr_to_rgb=bgr_to_rgb)
    batch = torch.from_numpy(np.stack([random_image(16, 12, seed) for seed in (1, 2)])).permute(0, 3, 1, 2)
    expected = model.conv(model.data_preprocessor(dict(inputs=list(batch)), training=False)['inputs'])
    ours = ParsingLogitPredictor(model)._forward(batch)
    torch.testing.assert_close(ours, expected)


def test_flip_channel_order_swaps_arms_legs_and_shoes():
    order = flip_channel_order(20)
    assert order[:14] == list(range(14))
    assert order[14:] == [15, 14, 17, 16, 19, 18]


def test_unflip_logits_on_hand_made_logits():
    logits = torch.zeros(1, 20, 2, 3)
    logits[0, 14, 0, 0] = 1.0  # "left arm" at the top-left of the mirrored image
    logits[0, 2, 1, 2] = 2.0  # "hair" at the bottom-right
    restored = unflip_logits(logits)
    assert restored[0, 15, 0, 2] == 1.0  # -> "right arm" at the top-right of the original
    assert restored[0, 2, 1, 0] == 2.0
    assert float(restored.abs().sum()) == 3.0


@pytest.mark.parametrize('keep_ratio', [True, False])
def test_flip_test_of_a_mirror_aware_model_changes_nothing(keep_ratio):
    image = random_image(37, 23, seed=1)
    model = MirrorAwareSegmentor()
    plain = ParsingLogitPredictor(model, input_size=(40, 32), keep_ratio=keep_ratio)(image)
    flipped = ParsingLogitPredictor(model, input_size=(40, 32), keep_ratio=keep_ratio, flip=True)(image)
    np.testing.assert_allclose(flipped, plain, rtol=1e-5, atol=1e-5)
    # without the channel swap the same flip test is wrong on exactly the paired channels
    no_swap = ParsingLogitPredictor(model, input_size=(40, 32), keep_ratio=keep_ratio, flip=True,
                                    flip_pairs=())(image)
    differs = np.abs(no_swap - plain).reshape(20, -1).max(axis=1) > 1e-3
    assert set(np.flatnonzero(differs)) == {14, 15, 16, 17, 18, 19}


def test_flip_test_averages_the_plain_and_the_mirrored_prediction():
    image = random_image(30, 20, seed=2)
    model = AsymmetricSegmentor()
    plain = ParsingLogitPredictor(model)(image)
    mirrored_input = ParsingLogitPredictor(model)(np.ascontiguousarray(image[:, ::-1]))
    expected = (plain + mirrored_input[flip_channel_order(20)][:, :, ::-1]) / 2
    np.testing.assert_allclose(ParsingLogitPredictor(model, flip=True)(image), expected, rtol=1e-5, atol=1e-5)


def test_logits_come_back_at_each_images_original_size_whatever_the_batch():
    model = AsymmetricSegmentor()
    images = [random_image(50, 21, 3), random_image(17, 40, 4), random_image(32, 32, 5)]
    predictor = ParsingLogitPredictor(model, input_size=(24, 24), flip=True, batch_size=3)
    batch = predictor(images)
    assert [logits.shape for logits in batch] == [(20, 50, 21), (20, 17, 40), (20, 32, 32)]
    for image, logits in zip(images, batch):  # batching does not change any image's result
        np.testing.assert_allclose(predictor(image), logits, rtol=1e-5, atol=1e-5)
    assert predictor.predict_labels(images[0]).shape == (50, 21)


def test_multi_scale_is_the_mean_of_the_single_scales():
    model = AsymmetricSegmentor()
    image = random_image(45, 30, 6)
    both = ParsingLogitPredictor(model, input_size=(32, 32), scales=(0.5, 1.0), flip=True)(image)
    half = ParsingLogitPredictor(model, input_size=(32, 32), scales=(0.5,), flip=True)(image)
    full = ParsingLogitPredictor(model, input_size=(32, 32), scales=(1.0,), flip=True)(image)
    np.testing.assert_allclose(both, (half + full) / 2, rtol=1e-5, atol=1e-5)
    assert not np.allclose(half, full)


def test_keep_ratio_letterboxes_and_the_border_never_reaches_the_output():
    model = AsymmetricSegmentor()
    image = random_image(40, 10, 7)
    predictor = ParsingLogitPredictor(model, input_size=(40, 40), keep_ratio=True)
    # a 40x10 image fills a 10-wide window of the 40x40 canvas: same as running it alone at its size
    np.testing.assert_allclose(predictor(image)[:, :, 1:-1],
                               ParsingLogitPredictor(model)(image)[:, :, 1:-1], rtol=1e-5, atol=1e-5)


def test_softmax_output_averages_probabilities():
    model = AsymmetricSegmentor()
    probs = ParsingLogitPredictor(model, flip=True, output='softmax')(random_image(20, 12, 8))
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, rtol=1e-5)


def test_predictor_refuses_bad_images_and_options():
    model = AsymmetricSegmentor()
    with pytest.raises(LipToolkitError, match='H x W x 3'):
        ParsingLogitPredictor(model)([np.zeros((5, 5), np.uint8)])
    with pytest.raises(LipToolkitError, match='scales'):
        ParsingLogitPredictor(model, scales=(0,))
    with pytest.raises(LipToolkitError, match='output'):
        ParsingLogitPredictor(model, output='probabilities')


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """The demo CE2P-OCNet with its initial weights, saved as a checkpoint."""
    from lip_toolkit.parsing.inference import _as_config, build_parsing_model
    torch.manual_seed(0)
    model = build_parsing_model(_as_config(str(DEMO_CONFIG)), device='cpu')
    path = tmp_path_factory.mktemp('ckpt') / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def test_evaluate_checkpoint_scores_and_writes_pngs_at_original_size(synthetic_lip, tiny_checkpoint, tmp_path):
    from lip_toolkit.parsing.evaluation import evaluate_parsing_dirs
    from lip_toolkit.parsing.label_io import read_label_map
    out = tmp_path / 'pred'
    result = evaluate_checkpoint(str(DEMO_CONFIG), tiny_checkpoint, flip=True, out_dir=out,
                                 data_root=synthetic_lip, device='cpu')
    val_ids = (synthetic_lip / 'TrainVal_images' / 'val_id.txt').read_text().split()
    assert result['num_images'] == len(val_ids) == 24
    assert sorted(p.stem for p in out.glob('*.png')) == sorted(val_ids)
    gt_dir = synthetic_lip / 'TrainVal_parsing_annotations' / 'val_segmentations'
    for image_id in val_ids[:5]:  # every PNG at the original size (read_label_map checks the shape)
        gt = read_label_map(gt_dir / f'{image_id}.png')
        read_label_map(out / f'{image_id}.png', role='pred', shape=gt.shape)
    offline = evaluate_parsing_dirs(gt_dir, out)
    assert result['mIoU'] == pytest.approx(offline['mIoU'], abs=1e-9)
    assert result['IoU'] == pytest.approx(offline['IoU'], abs=1e-9)
    assert 'mIoU' in result['table'] and 'Right-shoe' in result['table']


def test_evaluate_checkpoint_on_the_test_split_writes_predictions_only(synthetic_lip, tiny_checkpoint, tmp_path):
    result = evaluate_checkpoint(str(DEMO_CONFIG), tiny_checkpoint, split='test', out_dir=tmp_path / 'test',
                                 data_root=synthetic_lip, device='cpu')
    assert result['num_images'] == 8 and 'mIoU' not in result and 'table' not in result
    assert len(list((tmp_path / 'test').glob('*.png'))) == 8


def test_evaluate_checkpoint_errors_name_the_file_and_leave_no_partial_output(synthetic_lip, tiny_checkpoint,
                                                                               tmp_path):
    with pytest.raises(LipToolkitError, match='checkpoint not found'):
        evaluate_checkpoint(str(DEMO_CONFIG), tmp_path / 'missing.pth', data_root=synthetic_lip, device='cpu')
    wrong = tmp_path / 'wrong.pth'
    torch.save({'state_dict': {'conv.weight': torch.zeros(1)}}, wrong)
    with pytest.raises(LipToolkitError, match='wrong.pth'):
        evaluate_checkpoint(str(DEMO_CONFIG), wrong, data_root=synthetic_lip, device='cpu')
    # a corrupt image half-way through the split: one-line error naming it, and no output folder
    broken_root = tmp_path / 'lip'
    shutil.copytree(synthetic_lip, broken_root)
    val_ids = (broken_root / 'TrainVal_images' / 'val_id.txt').read_text().split()
    broken = broken_root / 'TrainVal_images' / 'val_images' / f'{val_ids[10]}.jpg'
    broken.write_bytes(b'not a jpeg')
    out = tmp_path / 'pred'
    with pytest.raises(LipToolkitError, match=val_ids[10]):
        evaluate_checkpoint(str(DEMO_CONFIG), tiny_checkpoint, out_dir=out, data_root=broken_root, device='cpu')
    assert not out.exists()
    assert not any(p.name.startswith('.pred') for p in tmp_path.iterdir())


def test_evaluate_command_dispatches_parsing_configs_here(synthetic_lip, tiny_checkpoint, tmp_path):
    from click.testing import CliRunner

    from lip_toolkit.cli import cli
    result = CliRunner().invoke(cli, ['evaluate', str(DEMO_CONFIG), str(tiny_checkpoint), '--flip',
                                       '--scales', '0.75,1', '--data-root', str(synthetic_lip), '--device', 'cpu',
                                       '--out', str(tmp_path / 'pngs'), '--json', str(tmp_path / 'scores.json')])
    assert result.exit_code == 0, result.output
    assert 'mIoU' in result.output and 'Left-arm' in result.output
    assert len(list((tmp_path / 'pngs').glob('*.png'))) == 24
    import json
    assert set(json.loads((tmp_path / 'scores.json').read_text())) >= {'mIoU', 'IoU', 'num_images'}


def test_logits_are_resized_to_the_original_size_with_pixel_centres_aligned():
    """Bilinear resize with align_corners=False, worked by hand for a 2-wide row made 4 wide.

    Output pixel i samples the input at (i + 0.5) * 2 / 4 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to [0, 1]:
    values 0, 0.25, 0.75, 1 of a ramp 0 -> 1 (align_corners=True would give 0, 1/3, 2/3, 1). In exp space (HRNet-Seg)
    the same weights apply to exp(logits): logits 0 and ln 3 give log(1, 1.5, 2.5, 3).
    """
    from lip_toolkit.parsing.inference import _restore
    ramp = torch.tensor([[0.0, 1.0]]).view(1, 1, 1, 2).repeat(1, 1, 3, 1)
    resized = _restore(ramp, (0, 0, 3, 2), (3, 4))
    np.testing.assert_allclose(resized[0, 0].numpy(), np.tile([0.0, 0.25, 0.75, 1.0], (3, 1)), atol=1e-6)
    logits = torch.tensor([[0.0, np.log(3.0)]]).view(1, 1, 1, 2).repeat(1, 1, 3, 1)
    resized = _restore(logits, (0, 0, 3, 2), (3, 4), exp_space=True)
    np.testing.assert_allclose(np.asarray(resized)[0, 0], np.log(np.tile([1.0, 1.5, 2.5, 3.0], (3, 1))), atol=1e-6)
