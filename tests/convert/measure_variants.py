"""What reading a norm layer wrongly does to a converted model: the figures quoted in docs/convert.md.

Run from the ``tests`` folder: ``cd tests && python -m convert.measure_variants``. For each test network of
``tests/convert`` (calibrated random weights, signed norm weights) it converts the reference file both ways and
prints how many classes win somewhere in the reference output, the share of pixels whose argmax agrees with the
reference, and the largest logit difference relative to the largest logit.
"""
import dataclasses

import torch

from lip_toolkit.convert import REFERENCES, ce2p
from lip_toolkit.convert.common import apply_spec, build_target_model, target_shapes_of

from ._reference_forward import ce2p_forward, classes_alive, hrnet_seg_forward
from .test_ce2p import DEPTH_50, R50_LAYERS, reference_weights as ce2p_weights
from .test_hrnet_seg import SMALL_EXTRA, SMALL_OPTIONS, _image, reference_weights as hrnet_weights


def _report(label, expected, actual):
    agree = (actual.argmax(1) == expected.argmax(1)).double().mean().item()
    ratio = ((actual - expected).abs().max() / expected.abs().max()).item()
    print(f'{label}: {classes_alive(expected)} classes alive, argmax agrees on {100 * agree:.1f} % of pixels, '
          f'max |difference| = {ratio:.2e} x max |logit|')


def main():
    torch.set_num_threads(1)
    spec = REFERENCES['hrnet-seg']
    model = build_target_model(spec.default_config, SMALL_OPTIONS).double().eval()
    image = _image(2)
    for file_variant in ('inplace-abn', 'bn'):
        source = hrnet_weights(file_variant)
        prefixed = {f'model.{key}': value for key, value in source.items()}
        with torch.no_grad():
            expected = hrnet_seg_forward(source, image, SMALL_EXTRA, kind=file_variant)
            for read_as in ('inplace-abn', 'bn'):
                if file_variant == 'bn' and read_as == 'inplace-abn':
                    continue  # refused: a file with counters on every norm is not InPlaceABN
                converted, _ = apply_spec(prefixed, spec, target_shapes_of(model), variant=read_as)
                model.load_state_dict(converted, strict=True)
                actual = model.decode_head.forward(model.backbone(image))
                _report(f'HRNet-Seg small, {file_variant} file converted as {read_as}', expected, actual)

    spec = REFERENCES['ce2p']
    model = build_target_model(spec.default_config, DEPTH_50).double().eval()
    source = ce2p_weights(ce2p.reference_keys(20, R50_LAYERS), R50_LAYERS, ce2p.CE2P_HEAD_NAMES)
    prefixed = {f'module.{key}': value for key, value in source.items()}
    image = torch.randn(1, 3, 49, 57, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        expected = ce2p_forward(source, image, R50_LAYERS, ce2p.CE2P_HEAD_NAMES)[1]
        for label, candidate in (('|w| + 1e-5', spec), ('w unchanged', dataclasses.replace(
                spec, abn_module=lambda module: False))):
            converted, _ = apply_spec(prefixed, candidate, target_shapes_of(model))
            model.load_state_dict(converted, strict=True)
            actual = model.decode_head.forward(model.backbone(image))[1]
            _report(f'CE2P-R50 seg2, InPlaceABN weights as {label}', expected, actual)


if __name__ == '__main__':
    main()
