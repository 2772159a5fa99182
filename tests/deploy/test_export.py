"""`export`: the file alone is enough to use the model, its parity is proven before it is written, refusals write
nothing."""
import json

import cv2
import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError

from .conftest import FIXED_SHAPE, initial_weights, moving_offsets

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py

LIP_CLASS_COUNT = 20
# configs/_base_/parsing_ce2p_r101-d16.py and configs/_base_/pose_hrnet_w32.py: ImageNet statistics on RGB.
IMAGENET_MEAN, IMAGENET_STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
DEFORMABLE_CONFIG = 'configs/demo/parsing_ce2p-aspoc_dcn-r50-tiny_30e_synthetic-96x96.py'


def metadata_of(path):
    """Read with the onnx package itself, not with the toolkit's reader."""
    import onnx
    return {prop.key: json.loads(prop.value) for prop in onnx.load(str(path)).metadata_props}


def standalone_input(image_bgr, metadata):
    """What a user without the toolkit does from the metadata alone: resize, order channels, normalise, NCHW."""
    height, width = metadata['input_size']
    image = cv2.resize(image_bgr, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if metadata['channel_order'] == 'RGB':
        image = image[:, :, ::-1]
    image = (image - np.array(metadata['mean'], np.float32)) / np.array(metadata['std'], np.float32)
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None])


def test_parsing_metadata_holds_what_a_user_needs(tiny_parsing):
    meta = metadata_of(tiny_parsing['onnx'])
    assert meta['track'] == 'parsing' and meta['lip_toolkit_format'] == 1 and meta['opset'] == 17
    assert meta['input_size'] == [96, 96] and meta['keep_ratio'] is True
    assert meta['channel_order'] == 'RGB'
    np.testing.assert_allclose(meta['mean'], IMAGENET_MEAN)
    np.testing.assert_allclose(meta['std'], IMAGENET_STD)
    assert len(meta['class_names']) == LIP_CLASS_COUNT and meta['class_names'][14:16] == ['Left-arm', 'Right-arm']
    assert meta['flip_pairs'] == [[14, 15], [16, 17], [18, 19]]
    assert meta['inputs'] == [dict(name='image', shape=['batch', 3, 'height', 'width'])]
    assert meta['outputs'] == [dict(name='logits', shape=['batch', LIP_CLASS_COUNT, 'height', 'width'])]
    assert meta['parity']['argmax_agreement'] >= 0.999


def test_pose_metadata_holds_what_a_user_needs(tiny_pose):
    meta = metadata_of(tiny_pose['onnx'])
    assert meta['track'] == 'pose' and meta['input_size'] == [128, 96] and meta['channel_order'] == 'RGB'
    np.testing.assert_allclose(meta['mean'], IMAGENET_MEAN)
    assert meta['joint_names'][:3] == ['R_Ankle', 'R_Knee', 'R_Hip'] and len(meta['joint_names']) == 16
    # LIP's left/right joints (docs/pose_data.md): ankles 0-5, knees 1-4, hips 2-3, wrists 10-15, elbows 11-14,
    # shoulders 12-13
    assert meta['flip_pairs'] == [[0, 5], [1, 4], [2, 3], [10, 15], [11, 14], [12, 13]]
    assert meta['outputs'] == [dict(name='heatmaps', shape=['batch', 16, 32, 24])]
    assert meta['codec']['type'] == 'MSRAHeatmap'


@pytest.mark.parametrize('exported', ['tiny_parsing', 'tiny_parsing_fixed'])
def test_the_file_alone_reproduces_mmsegs_own_inference(exported, request):
    """Preprocessing from the metadata only, run by a bare onnxruntime session, against MMSeg's inference API
    (its test pipeline resizing to the metadata's input size: the config's, or the fixed export's ``shape``)."""
    import onnxruntime as ort
    from mmseg.apis import inference_model

    from lip_toolkit.deploy.export import synthetic_sample
    from lip_toolkit.parsing.inference import build_parsing_model
    from lip_toolkit.core.runner import load_config
    model = request.getfixturevalue(exported)
    meta = metadata_of(model['onnx'])
    height, width = meta['input_size']
    image = cv2.resize(synthetic_sample(3)[0], (width, height), interpolation=cv2.INTER_LINEAR)  # no resize left
    session = ort.InferenceSession(str(model['onnx']), providers=['CPUExecutionProvider'])
    logits = session.run(None, {'image': standalone_input(image, meta)})[0][0]
    cfg = load_config(model['config'])
    segmentor = build_parsing_model(cfg, model['checkpoint'], 'cpu')
    for step in cfg.test_pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (width, height)  # mmcv scales are (w, h)
    segmentor.cfg = cfg
    expected = inference_model(segmentor, image).seg_logits.data.numpy()
    assert logits.shape == expected.shape == (LIP_CLASS_COUNT, height, width)
    np.testing.assert_allclose(logits, expected, atol=1e-4)
    assert (logits.argmax(0) == expected.argmax(0)).all()


def test_a_fixed_shape_export_is_static_at_that_size(tiny_parsing_fixed):
    import onnx
    meta = metadata_of(tiny_parsing_fixed['onnx'])
    assert meta['input_size'] == list(FIXED_SHAPE) and meta['dynamic_hw'] is False
    assert meta['inputs'] == [dict(name='image', shape=['batch', 3, *FIXED_SHAPE])]
    assert meta['outputs'] == [dict(name='logits', shape=['batch', LIP_CLASS_COUNT, *FIXED_SHAPE])]
    assert meta['parity']['checked'] == '2 images at 80x64' and meta['parity']['argmax_agreement'] >= 0.999
    # the graph's input, read by onnx itself: ONNX Runtime derives every inner shape from it
    graph_input = onnx.load(str(tiny_parsing_fixed['onnx'])).graph.input
    assert [[d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim] for value in graph_input] == \
        [['batch', 3, *FIXED_SHAPE]]


@pytest.mark.parametrize('shape', [(0, 64), (-80, 64), (80,), (80, 64, 3), (80.5, 64)])
def test_a_bad_shape_is_refused_and_nothing_written(tiny_parsing, tmp_path, shape):
    from lip_toolkit.deploy import export_model
    with pytest.raises(LipToolkitError, match='--shape takes a height and a width, whole numbers of at least 1') as info:
        export_model(tiny_parsing['config'], tiny_parsing['checkpoint'], tmp_path / 'model.onnx', shape=shape)
    assert len(info.value.one_line().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('values', [['0', '64'], ['-8', '64']])
def test_the_export_command_refuses_a_size_below_one(tiny_parsing, tmp_path, capsys, values):
    from lip_toolkit.cli import main
    assert main(['export', tiny_parsing['config'], str(tiny_parsing['checkpoint']), '--out',
                 str(tmp_path / 'model.onnx'), '--shape', *values]) == 2
    err = capsys.readouterr().err
    assert "Invalid value for '--shape'" in err and 'Traceback' not in err
    assert list(tmp_path.iterdir()) == []


def test_a_pose_model_refuses_another_shape_in_one_line(tiny_pose, tmp_path, capsys):
    from lip_toolkit.cli import main
    assert main(['export', tiny_pose['config'], str(tiny_pose['checkpoint']), '--out', str(tmp_path / 'pose.onnx'),
                 '--shape', '64', '48']) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "pose models are exported at their config's input size, 128x96 (already fixed)" in err
    assert list(tmp_path.iterdir()) == []


def test_the_pose_file_alone_gives_mmposes_tensor_output(tiny_pose):
    import onnxruntime as ort
    import torch

    from lip_toolkit.core.runner import load_config
    from lip_toolkit.deploy.export import synthetic_sample
    from lip_toolkit.pose.inference import build_pose_model
    meta = metadata_of(tiny_pose['onnx'])
    inputs = standalone_input(synthetic_sample(4)[0], meta)
    session = ort.InferenceSession(str(tiny_pose['onnx']), providers=['CPUExecutionProvider'])
    heatmaps = session.run(None, {'image': np.concatenate([inputs, inputs[:, :, :, ::-1]])})[0]
    model = build_pose_model(load_config(tiny_pose['config']), tiny_pose['checkpoint'], 'cpu')
    with torch.no_grad():  # MMPose's tensor mode: backbone + head forward
        expected = model(torch.from_numpy(np.concatenate([inputs, inputs[:, :, :, ::-1]]).copy()), None,
                         mode='tensor').numpy()
    np.testing.assert_allclose(heatmaps, expected, atol=1e-5)


def test_export_refuses_and_writes_nothing_when_runtime_disagrees(tiny_parsing, tmp_path, monkeypatch):
    from lip_toolkit.deploy import export_model
    from lip_toolkit.deploy.runtime import OnnxRuntimeNetwork
    run = OnnxRuntimeNetwork.run
    # a runtime whose logits are off by a little more than the tolerance (1e-3 x the logits' scale)
    monkeypatch.setattr(OnnxRuntimeNetwork, 'run', lambda self, *a: [out + 0.05 for out in run(self, *a)])
    out = tmp_path / 'model.onnx'
    out.write_bytes(b'an earlier export')
    with pytest.raises(LipToolkitError, match='output exists'):  # the toolkit's rule for existing outputs
        export_model(tiny_parsing['config'], tiny_parsing['checkpoint'], out)
    with pytest.raises(LipToolkitError, match=r'disagrees with PyTorch .* max \|diff\| 0\.05.*nothing written'):
        export_model(tiny_parsing['config'], tiny_parsing['checkpoint'], out, overwrite=True)
    assert out.read_bytes() == b'an earlier export'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.onnx']  # no temporary file left


DEFORMABLE_CASES = [  # in, out, kernel, stride, padding, dilation, groups, deform_groups, bias
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=1, padding=1, dilation=1, groups=1, deform_groups=1,
         bias=False),
    dict(in_channels=8, out_channels=4, kernel_size=3, stride=2, padding=1, dilation=1, groups=1, deform_groups=2,
         bias=True),
    dict(in_channels=6, out_channels=6, kernel_size=3, stride=2, padding=3, dilation=3, groups=3, deform_groups=3,
         bias=True),
    dict(in_channels=4, out_channels=2, kernel_size=(3, 1), stride=1, padding=(1, 0), dilation=1, groups=1,
         deform_groups=1, bias=True),
]


@pytest.mark.parametrize('case', DEFORMABLE_CASES, ids=lambda c: f"s{c['stride']}d{c['dilation']}g{c['groups']}"
                                                                f"dg{c['deform_groups']}k{c['kernel_size']}")
def test_deformable_layer_runs_in_onnx_runtime_as_mmcvs_layer_computes(case, tmp_path):
    """The exported DCNv2TV (ONNX's DeformConv, run by ONNX Runtime) against mmcv's ModulatedDeformConv2dPack, the
    reference DCNv2, on the same weights, with offsets of a few pixels and at a size other than the traced one."""
    pytest.importorskip('onnxruntime')
    import onnxruntime as ort
    import torch
    mmcv_ops = pytest.importorskip('mmcv.ops')

    from lip_toolkit.deploy.export import DEFORM_CONV_OPSET, _export
    from lip_toolkit.parsing.models.deform_conv import ModulatedDeformConv2dTV
    torch.manual_seed(0)
    reference = mmcv_ops.ModulatedDeformConv2dPack(**case).eval()
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter.uniform_(-1.0, 1.0)  # offset/mask conv included: samples move by fractions of pixels
    layer = ModulatedDeformConv2dTV(**case).eval()
    layer.load_state_dict(reference.state_dict())
    traced = torch.randn(1, case['in_channels'], 9, 11)
    spec = dict(network=layer, module=layer, trace=(traced,), input_names=['image'], output_names=['logits'])
    _export(spec, str(tmp_path / 'layer.onnx'), DEFORM_CONV_OPSET, dynamic_hw=True)
    session = ort.InferenceSession(str(tmp_path / 'layer.onnx'), providers=['CPUExecutionProvider'])
    for x in (torch.randn(2, case['in_channels'], 9, 11), torch.randn(1, case['in_channels'], 13, 7)):
        with torch.no_grad():
            expected = reference(x).numpy()
            plain = torch.nn.functional.conv2d(x, reference.weight, reference.bias, reference.stride,
                                               reference.padding, reference.dilation, reference.groups).numpy()
        got = session.run(None, {'image': x.numpy()})[0]
        assert np.abs(plain - expected).max() > 0.1  # the offsets matter
        np.testing.assert_allclose(got, expected, atol=1e-4)


def test_deformable_model_exports_at_opset_19_with_moving_offsets(tmp_path):
    """The tiny DCN demo model exports (DeformConv from opset 19, the default for it), with non-zero offsets."""
    pytest.importorskip('onnxruntime')
    from lip_toolkit.deploy import export_model
    checkpoint = moving_offsets(initial_weights(DEFORMABLE_CONFIG, tmp_path / 'dcn.pth'))
    report = export_model(DEFORMABLE_CONFIG, checkpoint, tmp_path / 'dcn.onnx')
    assert report['opset'] == 19 and metadata_of(tmp_path / 'dcn.onnx')['opset'] == 19
    assert report['dynamic_hw'] and report['parity']['checked'] == '2 images at 96x96 and 1 at 72x72'
    assert report['parity']['argmax_agreement'] >= 0.999


def test_deformable_model_at_an_older_opset_is_refused_before_exporting(tmp_path, monkeypatch, capsys):
    pytest.importorskip('onnxruntime')
    from lip_toolkit.cli import main
    from lip_toolkit.deploy import export as export_module
    checkpoint = initial_weights(DEFORMABLE_CONFIG, tmp_path / 'dcn.pth')
    monkeypatch.setattr(export_module, '_export', lambda *a: pytest.fail('the exporter must not run'))
    assert main(['export', DEFORMABLE_CONFIG, str(checkpoint), '--out', str(tmp_path / 'dcn.onnx'),
                 '--opset', '17']) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'export it with --opset 19 or later' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['dcn.pth']  # nothing written


def test_mmcvs_deformable_layer_is_refused_in_one_line_naming_it(tmp_path, capsys):
    from lip_toolkit.deploy.export import refuse_unexportable
    from lip_toolkit.parsing.models.deform_conv import ModulatedDeformConv2dTV
    from mmcv.ops import ModulatedDeformConv2dPack
    import torch
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), ModulatedDeformConv2dPack(4, 4, 3, padding=1))
    with pytest.raises(LipToolkitError) as error:
        refuse_unexportable(model, 'dcn.py')
    assert 'deformable convolution' in error.value.one_line() and 'ModulatedDeformConv2dPack' in str(error.value)
    assert "type='DCNv2TV'" in str(error.value)  # the way out
    refuse_unexportable(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1)), 'plain.py')  # plain layers pass
    refuse_unexportable(torch.nn.Sequential(ModulatedDeformConv2dTV(4, 4, 3, padding=1)), 'dcn_tv.py')  # exported


def test_export_output_name_and_folder_are_checked_first(tiny_parsing, tmp_path):
    from lip_toolkit.deploy import export_model
    with pytest.raises(LipToolkitError, match='must be a .onnx file'):
        export_model(tiny_parsing['config'], tiny_parsing['checkpoint'], tmp_path / 'model.pth')
    with pytest.raises(LipToolkitError, match='output folder not found'):
        export_model(tiny_parsing['config'], tiny_parsing['checkpoint'], tmp_path / 'missing' / 'model.onnx')


def test_export_command_prints_the_parity_on_the_users_sample(tiny_pose, real_lip_dir, tmp_path, capsys):
    from lip_toolkit.cli import main
    sample = sorted((real_lip_dir / 'images').glob('*.jpg'))[0]
    out = tmp_path / 'pose.onnx'
    assert main(['export', tiny_pose['config'], str(tiny_pose['checkpoint']), '--out', str(out), '--sample',
                 str(sample)]) == 0
    printed = capsys.readouterr().out
    assert f'parity on {sample} (2 images at 128x96): max |heatmap diff|' in printed
    assert 'argmax agreement 100.000 % of 32' in printed  # 2 images x 16 joints
    assert f'exported pose model to {out} (opset 17; image[batch,3,128,96] -> heatmaps[batch,16,32,24])' in printed
    assert metadata_of(out)['parity']['checked'] == '2 images at 128x96'
