"""`--backend onnxruntime`: the exported tiny demo models give PyTorch's labels and joints through predict and
evaluate, with the same test-time geometry, flip and scales; wrong files and missing packages get one line."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from lip_toolkit.cli import main
from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.paths import REPO_ROOT

from .conftest import (FIXED_SHAPE, PARSING_CONFIG, POSE_CONFIG, initial_weights, moving_offsets, several_classes,
                       varied_labels)

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def real_images(real_lip_dir, tmp_path, count=4):
    """A folder with a few real LIP val images (people of several sizes and aspect ratios)."""
    import shutil
    folder = tmp_path / 'images'
    folder.mkdir()
    for path in sorted((real_lip_dir / 'images').glob('*.jpg'))[:count]:
        shutil.copy(path, folder / path.name)
    return folder


def test_parsing_predict_gives_pytorchs_labels_with_flip_and_scales(tiny_parsing, real_lip_dir, tmp_path):
    from PIL import Image

    from lip_toolkit.predict import predict
    images = real_images(real_lip_dir, tmp_path)
    outputs = {}
    for backend, weights in (('pytorch', tiny_parsing['checkpoint']), ('onnxruntime', tiny_parsing['onnx'])):
        # scale 0.75 runs the network at 72x72: the export's dynamic height and width
        predict([images], tmp_path / backend, config=tiny_parsing['config'], checkpoint=weights, device='cpu',
                flip=True, scales=(0.75, 1.0), overlays=False, backend=backend)
        outputs[backend] = {p.name: np.asarray(Image.open(p)) for p in (tmp_path / backend / 'parsing').iterdir()}
    assert sorted(outputs['pytorch']) == sorted(outputs['onnxruntime']) and len(outputs['pytorch']) == 4
    assert several_classes(outputs['pytorch'].values())
    for name, labels in outputs['pytorch'].items():
        agreement = (labels == outputs['onnxruntime'][name]).mean()
        assert agreement >= 0.999, (name, agreement)


def test_parsing_logits_are_pytorchs_with_flip_and_scales(tiny_parsing, real_lip_dir):
    # Logits, not only labels: a random tiny network's argmax is nearly constant, its logits are not.
    from lip_toolkit.core.image_io import read_image_bgr
    from lip_toolkit.parsing.inference import ParsingLogitPredictor
    images = [read_image_bgr(p) for p in sorted((real_lip_dir / 'images').glob('*.jpg'))[:3]]
    logits = {backend: ParsingLogitPredictor.from_config(tiny_parsing['config'], weights, device='cpu', flip=True,
                                                         scales=(0.75, 1.0), backend=backend)(images)
              for backend, weights in (('pytorch', tiny_parsing['checkpoint']), ('onnxruntime', tiny_parsing['onnx']))}
    for expected, got in zip(logits['pytorch'], logits['onnxruntime']):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_pose_predict_gives_pytorchs_joints_with_flip(tiny_pose, real_lip_dir, tmp_path):
    from lip_toolkit.predict import predict
    images = real_images(real_lip_dir, tmp_path)
    joints = {}
    for backend, weights in (('pytorch', tiny_pose['checkpoint']), ('onnxruntime', tiny_pose['onnx'])):
        predict([images], tmp_path / backend, config=tiny_pose['config'], checkpoint=weights, device='cpu',
                overlays=False, backend=backend)
        joints[backend] = {p.name: [(j['x'], j['y']) for j in json.loads(p.read_text())['joints']]
                           for p in (tmp_path / backend / 'keypoints').iterdir()}
        assert (tmp_path / backend / 'keypoints.csv').is_file()
    assert joints['pytorch'].keys() == joints['onnxruntime'].keys()
    for name, points in joints['pytorch'].items():
        np.testing.assert_allclose(joints['onnxruntime'][name], points, atol=0.011)  # JSON keeps 2 decimals


def test_evaluate_with_onnxruntime_gives_pytorchs_joints_labels_and_scores(tiny_pose, tiny_parsing, synthetic_lip,
                                                                         tmp_path):
    from PIL import Image

    from lip_toolkit.evaluation import evaluate_model
    from lip_toolkit.pose.lip_csv import read_lip_pred_csv
    runs = {}
    for model, options in ((tiny_pose, {}), (tiny_parsing, dict(scales='0.75,1'))):
        for backend, weights in (('pytorch', model['checkpoint']), ('onnxruntime', model['onnx'])):
            out = tmp_path / f"{model['report']['track']}-{backend}"
            out = out.with_suffix('.csv') if model is tiny_pose else out
            scores = evaluate_model(model['config'], weights, data_root=synthetic_lip, device='cpu', flip=True,
                                    out=out, backend=backend, **options)
            runs[model['report']['track'], backend] = scores, out
    (pose_torch, csv_torch), (pose_ort, csv_ort) = runs['pose', 'pytorch'], runs['pose', 'onnxruntime']
    names, joints = read_lip_pred_csv(csv_torch)
    assert len(names) == 24 and read_lip_pred_csv(csv_ort)[0] == names
    # the CSV holds whole pixels: a sub-pixel difference may round the other way, never by more than one
    differences = np.abs(read_lip_pred_csv(csv_ort)[1] - joints)
    assert np.nanmax(differences) <= 1 and np.nanmean(differences == 0) >= 0.95
    assert pose_ort['PCKh'] == pytest.approx(pose_torch['PCKh'], abs=0.01)
    (parsing_torch, pngs_torch), (parsing_ort, pngs_ort) = runs['parsing', 'pytorch'], runs['parsing', 'onnxruntime']
    labels = {backend: {p.name: np.asarray(Image.open(p)) for p in folder.rglob('*.png')}
              for backend, folder in (('pytorch', pngs_torch), ('onnxruntime', pngs_ort))}
    assert len(labels['pytorch']) == 24 and labels['pytorch'].keys() == labels['onnxruntime'].keys()
    assert several_classes(labels['pytorch'].values())
    for name, expected in labels['pytorch'].items():
        assert (labels['onnxruntime'][name] == expected).mean() >= 0.999, name
    assert parsing_ort['mIoU'] == pytest.approx(parsing_torch['mIoU'], abs=0.01)


def other_demo_configs():
    """The demo configs the fixtures do not cover; the pose ones by default (MSPN's last-stage output, PoseFix's two
    inputs: other network calls), the parsing ones (other backbones of the fixture's CE2P, HRNetV2) slow."""
    configs = sorted(str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / 'configs' / 'demo').glob('*.py'))
    return [pytest.param(config, id=Path(config).stem, marks=[] if 'pose_' in config else [pytest.mark.slow])
            for config in configs if config not in (PARSING_CONFIG, POSE_CONFIG)]


@pytest.mark.parametrize('config', other_demo_configs())
def test_every_other_demo_model_round_trips_through_onnxruntime(config, real_lip_dir, synthetic_lip, tmp_path):
    """Exported, then predicted (PoseFix: refining LIP val's joints through evaluate --input) by both backends:
    the same joints and labels."""
    from PIL import Image

    from lip_toolkit.core.runner import config_track, load_config
    from lip_toolkit.deploy import export_model
    from lip_toolkit.evaluation import evaluate_model
    from lip_toolkit.pose.lip_csv import read_lip_pred_csv
    from lip_toolkit.predict import predict
    checkpoint = initial_weights(config, tmp_path / 'model.pth')
    if '_dcn-' in config:
        moving_offsets(checkpoint)
    if 'parsing_' in config:
        varied_labels(checkpoint)
    export_model(config, checkpoint, tmp_path / 'model.onnx')
    weights = dict(pytorch=checkpoint, onnxruntime=tmp_path / 'model.onnx')
    if 'posefix' in config:
        coarse = synthetic_lip / 'TrainVal_pose_annotations' / 'lip_val_set.csv'
        for backend in weights:
            evaluate_model(config, weights[backend], data_root=synthetic_lip, device='cpu', input_csv=coarse,
                           out=tmp_path / f'{backend}.csv', backend=backend)
        names, joints = read_lip_pred_csv(tmp_path / 'pytorch.csv')
        assert len(names) == 24 and read_lip_pred_csv(tmp_path / 'onnxruntime.csv')[0] == names
        # whole pixels: a sub-pixel difference may round the other way, never by more than one
        assert np.nanmax(np.abs(read_lip_pred_csv(tmp_path / 'onnxruntime.csv')[1] - joints)) <= 1
        return
    images = real_images(real_lip_dir, tmp_path, 2)
    for backend in weights:
        predict([images], tmp_path / backend, config=config, checkpoint=weights[backend], device='cpu', flip=True,
                overlays=False, backend=backend)
    if config_track(load_config(config), config) == 'pose':
        joints = {backend: [[(j['x'], j['y']) for j in json.loads(p.read_text())['joints']]
                            for p in sorted((tmp_path / backend / 'keypoints').iterdir())] for backend in weights}
        assert len(joints['pytorch']) == 2
        np.testing.assert_allclose(joints['onnxruntime'], joints['pytorch'], atol=0.011)  # JSON keeps 2 decimals
    else:
        labels = {backend: [np.asarray(Image.open(p)) for p in sorted((tmp_path / backend / 'parsing').iterdir())]
                  for backend in weights}
        assert len(labels['pytorch']) == 2
        for expected, got in zip(labels['pytorch'], labels['onnxruntime']):
            assert (got == expected).mean() >= 0.999
        # and the logits: some random backbones give one class nearly everywhere, whatever the class layer
        from lip_toolkit.core.image_io import read_image_bgr
        from lip_toolkit.parsing.inference import ParsingLogitPredictor
        pictures = [read_image_bgr(p) for p in sorted(images.iterdir())]
        logits = [ParsingLogitPredictor.from_config(config, weights[backend], device='cpu', flip=True,
                                                    backend=backend)(pictures) for backend in weights]
        for expected, got in zip(*logits):
            np.testing.assert_allclose(got, expected, atol=1e-4 * max(1.0, np.abs(expected).max()))


def test_evaluate_command_takes_the_backend_option(tiny_pose, synthetic_lip, tmp_path, capsys):
    code = main(['evaluate', tiny_pose['config'], str(tiny_pose['onnx']), '--backend', 'onnxruntime',
                 '--data-root', str(synthetic_lip), '--device', 'cpu', '--json', str(tmp_path / 'scores.json')])
    assert code == 0
    assert 'PCKh' in json.loads((tmp_path / 'scores.json').read_text())


@pytest.mark.parametrize('backend, weights, message', [
    ('pytorch', 'onnx', 'this is an exported ONNX model: run it with --backend onnxruntime'),
    ('onnxruntime', 'checkpoint', '--backend onnxruntime runs a .onnx file'),
])
def test_a_file_for_the_other_backend_gets_one_line(tiny_parsing, real_lip_dir, tmp_path, capsys, backend, weights,
                                                   message):
    images = real_images(real_lip_dir, tmp_path, 1)
    code = main(['predict', tiny_parsing['config'], str(tiny_parsing[weights]), str(images), '--out',
                 str(tmp_path / 'out'), '--backend', backend])
    err = capsys.readouterr().err.strip()
    assert code == 1 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / 'out').exists()


def test_a_model_exported_from_another_preprocessing_is_refused(tiny_parsing, real_lip_dir, tmp_path, capsys):
    code = main(['predict', tiny_parsing['config'], str(tiny_parsing['onnx']), str(real_images(real_lip_dir,
                 tmp_path, 1)), '--out', str(tmp_path / 'out'), '--backend', 'onnxruntime', '--cfg-options',
                 'model.data_preprocessor.bgr_to_rgb=False'])
    err = capsys.readouterr().err
    assert code == 1 and 'exported from another config: channel_order is RGB here, BGR in' in err


def at_fixed_shape():
    """Config overrides that give the tiny config the fixed export's input size (the predictors' geometry)."""
    return {'model.test_cfg.input_size': list(FIXED_SHAPE)}


def test_a_fixed_size_export_gives_pytorchs_labels_and_logits_at_its_size(tiny_parsing_fixed, real_lip_dir, tmp_path):
    from PIL import Image

    from lip_toolkit.core.image_io import read_image_bgr
    from lip_toolkit.parsing.inference import ParsingLogitPredictor
    from lip_toolkit.predict import predict
    images = real_images(real_lip_dir, tmp_path, 3)
    weights = dict(pytorch=tiny_parsing_fixed['checkpoint'], onnxruntime=tiny_parsing_fixed['onnx'])
    labels = {}
    for backend in weights:
        predict([images], tmp_path / backend, config=tiny_parsing_fixed['config'], checkpoint=weights[backend],
                device='cpu', flip=True, overlays=False, backend=backend, cfg_options=at_fixed_shape())
        labels[backend] = {p.name: np.asarray(Image.open(p)) for p in (tmp_path / backend / 'parsing').iterdir()}
    assert sorted(labels['pytorch']) == sorted(labels['onnxruntime']) and len(labels['pytorch']) == 3
    assert several_classes(labels['pytorch'].values())
    for name, expected in labels['pytorch'].items():
        assert (labels['onnxruntime'][name] == expected).mean() >= 0.999, name
    pictures = [read_image_bgr(p) for p in sorted(images.iterdir())]
    predictors = {backend: ParsingLogitPredictor.from_config(tiny_parsing_fixed['config'], weights[backend],
                                                             device='cpu', flip=True, backend=backend,
                                                             cfg_options=at_fixed_shape()) for backend in weights}
    assert predictors['pytorch'].input_size == FIXED_SHAPE  # the network ran at the export's size
    for expected, got in zip(*(predictor(pictures) for predictor in predictors.values())):
        np.testing.assert_allclose(got, expected, atol=1e-5 * max(1.0, np.abs(expected).max()))


def test_a_fixed_size_export_under_a_config_of_another_size_is_refused_in_one_line(tiny_parsing_fixed, real_lip_dir,
                                                                                  tmp_path, capsys):
    code = main(['predict', tiny_parsing_fixed['config'], str(tiny_parsing_fixed['onnx']),
                 str(real_images(real_lip_dir, tmp_path, 1)), '--out', str(tmp_path / 'out'), '--backend',
                 'onnxruntime'])
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1, err
    assert 'this export takes 80x64 inputs only (fixed height and width)' in err and 'tests at 96x96' in err
    assert '--cfg-options model.test_cfg.input_size=[80,64]' in err
    assert not (tmp_path / 'out').exists()


def test_a_fixed_size_export_refuses_other_scales_in_one_line(tiny_parsing_fixed, real_lip_dir):
    from lip_toolkit.core.image_io import read_image_bgr
    from lip_toolkit.parsing.inference import ParsingLogitPredictor
    predictor = ParsingLogitPredictor.from_config(tiny_parsing_fixed['config'], tiny_parsing_fixed['onnx'],
                                                  device='cpu', scales=(0.75, 1.0), backend='onnxruntime',
                                                  cfg_options=at_fixed_shape())
    image = read_image_bgr(sorted((real_lip_dir / 'images').glob('*.jpg'))[0])
    with pytest.raises(LipToolkitError, match='takes 80x64 inputs only, not 60x48') as info:
        predictor([image])
    assert len(info.value.one_line().splitlines()) == 1


@pytest.mark.parametrize('argv', [
    ['export', 'configs/demo/pose_hrnet-tiny_lip-128x96.py', 'x.pth', '--out', 'x.onnx'],
    ['predict', 'configs/demo/pose_hrnet-tiny_lip-128x96.py', 'x.onnx', 'images', '--out', 'out', '--backend',
     'onnxruntime'],
    ['evaluate', 'configs/demo/pose_hrnet-tiny_lip-128x96.py', 'x.onnx', '--backend', 'onnxruntime', '--data-root',
     'data'],
])
def test_missing_onnx_packages_say_how_to_install(argv, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'x.pth').write_bytes(b'')
    (tmp_path / 'x.onnx').write_bytes(b'')
    (tmp_path / 'images').mkdir()
    from lip_toolkit.core.image_io import write_image
    write_image(tmp_path / 'images' / 'a.png', np.zeros((8, 8, 3), np.uint8))
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)  # import fails
    monkeypatch.setitem(sys.modules, 'onnx', None)
    argv = [str(repo_path(a)) if a.startswith('configs/') else a for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'lip-toolkit[onnx]'" in err and 'is not installed' in err


def repo_path(relative):
    """A path of this repository (the test runs in a temporary working folder)."""
    from pathlib import Path
    return Path(__file__).resolve().parents[2] / relative
