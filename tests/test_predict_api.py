"""`predict` on users' images: any format and size, the evaluation predictors' numbers, complete outputs."""
import json
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from lip_toolkit import predict as predict_module
from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.image_io import read_image_bgr
from lip_toolkit.predict import predict

POSE_CONFIG = 'configs/demo/pose_hrnet-tiny_lip-128x96.py'
PARSING_CONFIG = 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'


def save_initial_weights(config, builder, path, seed=0):
    """A checkpoint of the freshly initialised model, as the tests' stand-in for trained weights."""
    import torch

    from lip_toolkit.core.runner import load_config
    torch.manual_seed(seed)
    model = builder(load_config(config), None, 'cpu')
    torch.save({'state_dict': model.state_dict()}, path)
    return path


@pytest.fixture(scope='module')
def pose_checkpoint(tmp_path_factory):
    from lip_toolkit.pose.inference import build_pose_model
    return save_initial_weights(POSE_CONFIG, build_pose_model, tmp_path_factory.mktemp('pose') / 'tiny.pth')


@pytest.fixture(scope='module')
def parsing_checkpoint(tmp_path_factory):
    from lip_toolkit.parsing.inference import build_parsing_model
    return save_initial_weights(PARSING_CONFIG, build_parsing_model,
                                tmp_path_factory.mktemp('parsing') / 'tiny.pth')


@pytest.fixture(scope='module')
def user_images(tmp_path_factory, real_lip_dir):
    """A folder of the kinds of files people have: JPEG, PNG with alpha, greyscale, 16-bit, and a large one."""
    folder = tmp_path_factory.mktemp('photos')
    real = sorted((real_lip_dir / 'images').glob('*.jpg'))
    shutil.copy(real[0], folder / 'plain.jpg')
    Image.open(real[1]).convert('RGBA').save(folder / 'alpha.png')
    Image.open(real[2]).convert('L').save(folder / 'grey.png')
    grey16 = (np.asarray(Image.open(real[3]).convert('L')).astype(np.uint16) * 257)
    cv2.imwrite(str(folder / 'deep.png'), grey16)
    Image.open(real[4]).resize((700, 980)).save(folder / 'large.jpg')
    (folder / 'notes.txt').write_text('not an image, and not picked up from a folder')
    return folder


def test_pose_outputs_match_the_evaluation_predictor(user_images, pose_checkpoint, tmp_path):
    from lip_toolkit.pose.inference import PoseHeatmapPredictor
    from lip_toolkit.pose.lip_csv import read_lip_pred_csv
    result = predict([user_images], tmp_path / 'out', config=POSE_CONFIG, checkpoint=pose_checkpoint,
                     device='cpu', batch_size=8, kpt_thr=0.0)
    stems = sorted(p.stem for p in user_images.iterdir() if p.suffix != '.txt')
    assert result['track'] == 'pose' and result['num_images'] == 5
    names, coords = read_lip_pred_csv(tmp_path / 'out' / 'keypoints.csv')
    assert sorted(names) == [f'{s}.jpg' for s in stems]
    # Two formats the model sees only through the shared reader, predicted directly by the evaluation's predictor.
    reference = PoseHeatmapPredictor.from_config(POSE_CONFIG, pose_checkpoint, flip=True, device='cpu')
    direct = dict(zip(('alpha', 'deep'), reference.predict(
        [read_image_bgr(user_images / 'alpha.png'), read_image_bgr(user_images / 'deep.png')]).keypoints))
    for name, row in zip(names, coords):
        stem = name[:-4]
        source = next(user_images.glob(f'{stem}.*'))
        image = read_image_bgr(source)
        record = json.loads((tmp_path / 'out' / 'keypoints' / f'{stem}.json').read_text())
        assert (record['image'], record['width'], record['height']) == (source.name, image.shape[1], image.shape[0])
        assert [j['name'] for j in record['joints']][:3] == ['R_Ankle', 'R_Knee', 'R_Hip']
        joints = np.array([[j['x'], j['y']] for j in record['joints']])
        # the CSV holds the same joints as integers, clipped at 0 (JSON keeps 2 decimals: allow the rounding)
        np.testing.assert_allclose(row, np.round(np.clip(joints, 0, None)), atol=1)
        if stem in direct:
            np.testing.assert_allclose(joints, direct[stem], atol=0.01)
        overlay = cv2.imread(str(tmp_path / 'out' / 'overlays' / f'{stem}.png'))
        assert overlay.shape == image.shape and not np.array_equal(overlay, image)  # kpt_thr 0: every joint


def test_parsing_outputs_at_the_original_size(user_images, parsing_checkpoint, tmp_path, monkeypatch, capsys):
    from lip_toolkit.parsing.inference import ParsingLogitPredictor
    from lip_toolkit.parsing.label_io import read_label_map
    # Exercise the downscaling of large photos on the 700 x 980 image without a slow huge one.
    monkeypatch.setattr(predict_module, 'PARSING_MAX_SIDE', 800)
    result = predict([user_images / 'plain.jpg', user_images / 'large.jpg', user_images / 'alpha.png'],
                     tmp_path / 'out', config=PARSING_CONFIG, checkpoint=parsing_checkpoint, device='cpu',
                     flip=True)
    assert result['track'] == 'parsing' and len(result['files']) == 3
    assert '3 image(s) ->' in capsys.readouterr().err  # what runs where, on stderr (silenced by --quiet)
    reference = ParsingLogitPredictor.from_config(PARSING_CONFIG, parsing_checkpoint, device='cpu', flip=True)
    direct = dict(zip(('plain', 'alpha'), (logits.argmax(axis=0) for logits in reference(
        [read_image_bgr(user_images / 'plain.jpg'), read_image_bgr(user_images / 'alpha.png')]))))
    for stem in ('plain', 'large', 'alpha'):
        source = next(user_images.glob(f'{stem}.*'))
        image = read_image_bgr(source)
        labels = read_label_map(tmp_path / 'out' / 'parsing' / f'{stem}.png', role='pred')
        assert labels.shape == image.shape[:2]
        if stem in direct:
            np.testing.assert_array_equal(labels, direct[stem])
        overlay = cv2.imread(str(tmp_path / 'out' / 'overlays' / f'{stem}.png'))
        assert overlay.shape[0] >= image.shape[0] and overlay.shape[1] > image.shape[1]  # legend beside
    assert Image.open(tmp_path / 'out' / 'parsing' / 'plain.png').mode == 'P'  # ids with LIP colours


def test_no_overlays_and_bad_inputs(user_images, parsing_checkpoint, pose_checkpoint, tmp_path):
    predict([user_images / 'grey.png'], tmp_path / 'bare', config=PARSING_CONFIG, checkpoint=parsing_checkpoint,
            device='cpu', overlays=False)
    assert not (tmp_path / 'bare' / 'overlays').exists() and (tmp_path / 'bare' / 'parsing' / 'grey.png').is_file()
    (tmp_path / 'other').mkdir()
    shutil.copy(user_images / 'grey.png', tmp_path / 'other' / 'grey.png')
    common = dict(config=POSE_CONFIG, checkpoint=pose_checkpoint, device='cpu')
    with pytest.raises(LipToolkitError, match="two inputs share the name 'grey'"):
        predict([user_images, tmp_path / 'other'], tmp_path / 'o', **common)
    with pytest.raises(LipToolkitError, match='notes.txt.*not an image'):
        predict([user_images / 'notes.txt'], tmp_path / 'o', **common)
    with pytest.raises(LipToolkitError, match='input not found'):
        predict([tmp_path / 'missing.jpg'], tmp_path / 'o', **common)
    with pytest.raises(LipToolkitError, match='checkpoint not found'):
        predict([user_images], tmp_path / 'o', config=POSE_CONFIG, checkpoint=tmp_path / 'none.pth')
    with pytest.raises(LipToolkitError, match='--scales applies to parsing'):
        predict([user_images / 'grey.png'], tmp_path / 'o', scales=(1.0, 1.5), **common)
    assert not (tmp_path / 'o').exists()  # nothing written for refused runs


def write_ensemble(path, config, checkpoints, weights, **settings):
    members = [dict(config=config, checkpoint=str(c), weight=w, name=f'm{i}')
               for i, (c, w) in enumerate(zip(checkpoints, weights))]
    lines = [f'{key} = {value!r}' for key, value in settings.items()] + [f'members = {members!r}']
    path.write_text('\n'.join(lines) + '\n')
    return path


def test_pose_ensemble_matches_the_split_ensemble(synthetic_lip, pose_checkpoint, tmp_path):
    """Predicting the test images with --ensemble gives the rows `lip-toolkit ensemble` writes for the split."""
    from lip_toolkit.ensemble_config import load_ensemble
    from lip_toolkit.pose.ensemble import ensemble_pose
    from lip_toolkit.pose.inference import build_pose_model
    from lip_toolkit.pose.lip_csv import read_lip_pred_csv
    other = save_initial_weights(POSE_CONFIG, build_pose_model, tmp_path / 'other.pth', seed=1)
    # flip is off to halve the work: flip itself is covered by the single-model test above
    spec_file = write_ensemble(tmp_path / 'pose_ens.py', POSE_CONFIG, [pose_checkpoint, other], [1.0, 3.0],
                               flip=False)
    ensemble_pose(load_ensemble(spec_file), split='test', data_root=synthetic_lip, out=tmp_path / 'split.csv')
    result = predict([synthetic_lip / 'Testing_images' / 'testing_images'], tmp_path / 'out', ensemble=spec_file,
                     device='cpu', overlays=False)
    assert result['track'] == 'pose'
    split_names, split_rows = read_lip_pred_csv(tmp_path / 'split.csv')
    names, rows = read_lip_pred_csv(result['csv'])
    by_name = dict(zip(names, rows))
    np.testing.assert_array_equal(np.stack([by_name[n] for n in split_names]), split_rows)


def test_parsing_ensemble_averages_the_members(user_images, parsing_checkpoint, tmp_path):
    from lip_toolkit.ensemble_config import load_ensemble
    from lip_toolkit.parsing.ensemble import combine_outputs
    from lip_toolkit.parsing.inference import ParsingLogitPredictor, build_parsing_model
    from lip_toolkit.parsing.label_io import read_label_map
    other = save_initial_weights(PARSING_CONFIG, build_parsing_model, tmp_path / 'other.pth', seed=1)
    spec_file = write_ensemble(tmp_path / 'parsing_ens.py', PARSING_CONFIG, [parsing_checkpoint, other],
                               [1.0, 2.0], average='softmax')
    images = [user_images / 'grey.png']
    result = predict(images, tmp_path / 'out', ensemble=spec_file, device='cpu', overlays=False)
    assert result['track'] == 'parsing'
    spec = load_ensemble(spec_file)
    members = [ParsingLogitPredictor.from_config(PARSING_CONFIG, m.checkpoint, device='cpu', output='softmax')
               for m in spec.members]
    decoded = [read_image_bgr(path) for path in images]
    outputs = [member(decoded) for member in members]
    for index, path in enumerate(images):
        expected = combine_outputs([o[index] for o in outputs], spec.normalised_weights()).argmax(axis=0)
        np.testing.assert_array_equal(read_label_map(tmp_path / 'out' / 'parsing' / f'{path.stem}.png', 'pred'),
                                      expected)
    with pytest.raises(LipToolkitError, match='not both'):
        predict(images, tmp_path / 'o', ensemble=spec_file, config=PARSING_CONFIG, checkpoint=other)


@pytest.mark.slow
def test_parsing_ensemble_matches_the_split_ensemble(synthetic_lip, parsing_checkpoint, tmp_path):
    from lip_toolkit.ensemble_config import load_ensemble
    from lip_toolkit.parsing.ensemble import ensemble_parsing
    from lip_toolkit.parsing.inference import build_parsing_model
    from lip_toolkit.parsing.label_io import read_label_map
    other = save_initial_weights(PARSING_CONFIG, build_parsing_model, tmp_path / 'other.pth', seed=1)
    spec_file = write_ensemble(tmp_path / 'parsing_ens.py', PARSING_CONFIG, [parsing_checkpoint, other],
                               [1.0, 1.0], average='softmax')
    ensemble_parsing(load_ensemble(spec_file), split='test', data_root=synthetic_lip, out=tmp_path / 'split')
    predict([synthetic_lip / 'Testing_images' / 'testing_images'], tmp_path / 'out', ensemble=spec_file,
            device='cpu')
    split_pngs = sorted((tmp_path / 'split').glob('*.png'))
    assert len(split_pngs) == 8
    for png in split_pngs:
        np.testing.assert_array_equal(read_label_map(tmp_path / 'out' / 'parsing' / png.name, 'pred'),
                                      read_label_map(png, 'pred'))
    with pytest.raises(LipToolkitError, match='not both'):
        predict([tmp_path], tmp_path / 'o', ensemble=spec_file, config=PARSING_CONFIG, checkpoint=other)


@pytest.fixture
def damaged_folder(tmp_path, real_lip_dir):
    """One good photo, one file that is no image at all, one JPEG cut in half (its header reads fine)."""
    folder = tmp_path / 'mixed'
    folder.mkdir()
    real = sorted((real_lip_dir / 'images').glob('*.jpg'))
    shutil.copy(real[0], folder / 'good.jpg')
    (folder / 'broken.jpg').write_bytes(b'this is not a JPEG')
    data = real[1].read_bytes()
    (folder / 'truncated.jpg').write_bytes(data[:len(data) // 2])
    return folder


def _no_model_may_load(monkeypatch):
    from lip_toolkit.pose.inference import PoseHeatmapPredictor

    def refuse(*args, **kwargs):
        raise AssertionError('the model was loaded before the inputs and the output folder were checked')
    monkeypatch.setattr(PoseHeatmapPredictor, 'from_config', refuse)


def test_on_error_skip_leaves_unreadable_images_out_and_lists_them(damaged_folder, pose_checkpoint, tmp_path):
    from lip_toolkit.pose.lip_csv import read_lip_pred_csv
    result = predict([damaged_folder], tmp_path / 'out', config=POSE_CONFIG, checkpoint=pose_checkpoint,
                     device='cpu', on_error='skip')
    assert result['num_images'] == 1 and [f['image'] for f in result['files']] == [str(damaged_folder / 'good.jpg')]
    reasons = {entry['image']: entry['error'] for entry in result['skipped']}
    assert set(reasons) == {str(damaged_folder / 'broken.jpg'), str(damaged_folder / 'truncated.jpg')}
    assert 'not an image file' in reasons[str(damaged_folder / 'broken.jpg')]
    assert 'truncated' in reasons[str(damaged_folder / 'truncated.jpg')]
    assert read_lip_pred_csv(tmp_path / 'out' / 'keypoints.csv')[0] == ['good.jpg']
    assert sorted(p.name for p in (tmp_path / 'out' / 'overlays').iterdir()) == ['good.png']


def test_unreadable_image_stops_before_the_model_loads(damaged_folder, pose_checkpoint, tmp_path, monkeypatch):
    _no_model_may_load(monkeypatch)
    with pytest.raises(LipToolkitError, match='broken.jpg.*not an image file'):
        predict([damaged_folder], tmp_path / 'out', config=POSE_CONFIG, checkpoint=pose_checkpoint, device='cpu')
    with pytest.raises(LipToolkitError, match='no readable image among 1'):
        predict([damaged_folder / 'broken.jpg'], tmp_path / 'out', config=POSE_CONFIG, checkpoint=pose_checkpoint,
                on_error='skip')
    assert not (tmp_path / 'out').exists()


def test_unusable_output_folder_is_refused_before_the_model_loads(user_images, pose_checkpoint, tmp_path,
                                                                 monkeypatch):
    import os
    _no_model_may_load(monkeypatch)
    common = dict(config=POSE_CONFIG, checkpoint=pose_checkpoint, device='cpu')
    (tmp_path / 'a_file').write_text('x')
    with pytest.raises(LipToolkitError, match='a_file is a file, not a folder'):
        predict([user_images / 'plain.jpg'], tmp_path / 'a_file' / 'out', **common)
    with pytest.raises(LipToolkitError, match='output exists and is not a folder'):
        predict([user_images / 'plain.jpg'], tmp_path / 'a_file', **common)
    if os.geteuid() != 0:  # permission bits do not stop root
        locked = tmp_path / 'locked'
        locked.mkdir(mode=0o555)
        with pytest.raises(LipToolkitError, match='not writable'):
            predict([user_images / 'plain.jpg'], locked / 'out', **common)


def test_joints_below_the_keypoint_threshold_are_not_drawn(user_images, pose_checkpoint, tmp_path):
    """(With threshold 0 every joint is drawn: test_pose_outputs_match_the_evaluation_predictor.)"""
    predict([user_images / 'plain.jpg'], tmp_path / 'out', config=POSE_CONFIG, checkpoint=pose_checkpoint,
            device='cpu', kpt_thr=1e9)
    overlay = cv2.imread(str(tmp_path / 'out' / 'overlays' / 'plain.png'))
    assert np.array_equal(overlay, read_image_bgr(user_images / 'plain.jpg'))  # every joint below: photo untouched
    # The JSON keeps every joint and its score whatever the threshold.
    assert len(json.loads((tmp_path / 'out' / 'keypoints' / 'plain.json').read_text())['joints']) == 16
