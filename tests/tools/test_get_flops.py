"""get-flops: FLOPs and parameters with mmengine's analysis tools, checked against counts made here by hand."""
import torch
from torch import nn

from lip_toolkit.cli import main
from lip_toolkit.core.runner import load_config
from lip_toolkit.pose.inference import build_pose_model
from lip_toolkit.tools.get_flops import get_flops

POSE_CONFIG = 'configs/demo/pose_hrnet-tiny_lip-128x96.py'


def counted_by_hand(model, shape):
    """FLOPs by fvcore's rules, counted with forward hooks from the layers' own shapes:

    * Conv2d: in_channels/groups x kh x kw multiply-adds per output element; ConvTranspose2d: out_channels/groups
      x kh x kw per input element;
    * BatchNorm2d at test time: 2 per element with an affine part (scale and shift), else 1;
    * Upsample: 1 per output element (nearest), 4 (bilinear).
    (The tiny HRNet has no linear or attention layers; activations and additions are not counted.)"""
    total = []

    def hook(module, inputs, output):
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            kh, kw = module.kernel_size
            if isinstance(module, nn.ConvTranspose2d):
                total.append(inputs[0].numel() * module.out_channels // module.groups * kh * kw)
            else:
                total.append(output.numel() * module.in_channels // module.groups * kh * kw)
        elif isinstance(module, nn.BatchNorm2d):
            total.append(inputs[0].numel() * (2 if module.affine else 1))
        elif isinstance(module, nn.Upsample):
            total.append(output.numel() * (1 if module.mode == 'nearest' else 4))
    kinds = (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, nn.Upsample)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]
    with torch.no_grad():
        model._forward(torch.zeros(1, 3, *shape))
    for handle in handles:
        handle.remove()
    return sum(total)


def test_flops_and_params_match_counts_made_by_hand():
    result = get_flops(POSE_CONFIG)
    model = build_pose_model(load_config(POSE_CONFIG), None, 'cpu')
    assert result['track'] == 'pose' and result['shape'] == (128, 96)  # codec input_size (96, 128) is w, h
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert result['flops'] == counted_by_hand(model, (128, 96))
    assert '| model' in result['table']


def test_command_refuses_a_size_the_network_cannot_take(capsys):
    assert main(['get-flops', POSE_CONFIG, '--shape', '64', '48']) == 1
    err = capsys.readouterr().err
    assert err.startswith(f'error: {POSE_CONFIG}: the model does not run on a 64 x 48 input') and err.count('\n') == 1
    assert 'multiples of 32' in err
