"""Count the parameters of the model zoo's configs and print them beside the published reference numbers.

Usage::

    python benchmarks/count_params.py --track pose            # the table of docs/pose_models.md
    python benchmarks/count_params.py --track pose --markdown
    python benchmarks/count_params.py --track parsing --markdown   # the table of docs/parsing_models.md

Each model is built from its config exactly as training builds it (ImageNet ``init_cfg`` dropped: nothing is
read or downloaded) and its trainable and non-trainable parameters are summed (buffers such as BN statistics are
not parameters). Each track is a list of rows ``(config, reference millions or None, source of the reference)``;
add a track by adding a list to ``TRACKS``.
"""
import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# HRNet paper (Sun et al., CVPR 2019) Table 1: HRNet-W32 28.5M; SimpleBaseline ResNet-152 68.6M, the network
# PoseFix uses (its conv1 takes 16 more input channels: 16 x 64 x 7 x 7 = 0.05M).
POSE_ROWS = [
    ('configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py', 28.5, 'HRNet paper, Table 1 (W32)'),
    ('configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-trainval-coco-aic-512x384.py', 28.5,
     'HRNet paper, Table 1 (W32)'),
    ('configs/pose/mspn/td-hm_4xmspn50_8xb32-210e_lip-coco-384x288.py', None, 'not published (MSPN paper, README)'),
    ('configs/pose/mspn/td-hm_4xmspn50_8xb32-210e_lip-trainval-coco-aic-512x384.py', None,
     'not published (MSPN paper, README)'),
    ('configs/pose/posefix/posefix_res152_8xb16-140e_lip-coco-384x288.py', 68.6,
     'SimpleBaseline R-152 (HRNet paper, Table 1) + 0.05M conv1'),
    ('configs/demo/pose_hrnet-tiny_lip-128x96.py', None, 'tiny demo model'),
    ('configs/demo/pose_hrnet-tiny_1xb8-23e_lip-128x96.py', None, 'tiny demo model (the demo\'s schedule)'),
    ('configs/demo/pose_mspn-tiny_lip-128x96.py', None, 'tiny demo model'),
    ('configs/demo/pose_posefix-tiny_lip-128x96.py', None, 'tiny demo model'),
    ('configs/demo/pose_posefix-tiny_1xb16-20e_lip-128x96.py', None, 'tiny demo model (the demo\'s schedule)'),
]

# Parsing references: the HRNet-Seg README gives 65.8M for its LIP HRNetV2-W48. No CE2P total is published, so
# the CE2P-OCNet rows add the backbone's published ImageNet size (minus the 1000-way fc; the ResNet-101s have
# MMSeg's V1c deep stem: +0.02M) to the head counted from the CE2P/OCNet layer lists (16.20M; tests/parsing/
# test_models_fullsize.py derives both). ImageNet sizes: ResNet-101 44.55M (torchvision), SE-ResNet-152 66.82M
# (SENet paper), SCNet-101 44.57M (SCNet paper); DCNv2 offsets on stages 2-4 add 1.93M.
PARSING_ROWS = [
    ('configs/parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py', 58.72,
     'R-101 42.52M (44.55 - fc + V1c stem) + CE2P/ASP-OC head 16.20M'),
    ('configs/parsing/ce2p/ce2p-aspoc_seresnet152-d16_4xb10-150e_lip-trainval-mhp-576x576.py', 80.98,
     'SE-R-152 64.77M (66.82 - fc) + head 16.20M'),
    ('configs/parsing/ce2p/ce2p-aspoc_scnet101-d16_4xb10-150e_lip-trainval-mhp-576x576.py', 58.73,
     'SCNet-101 42.52M (44.57 - fc) + head 16.20M'),
    ('configs/parsing/ce2p/ce2p-aspoc_dcn-r101-d16_4xb10-150e_lip-trainval-mhp-576x576.py', 60.65,
     'R-101 42.52M + DCNv2 offsets 1.93M + head 16.20M'),
    ('configs/parsing/hrnet/fcn_hrnetv2-w48_4xb10-150e_lip-480x480.py', 65.8, 'HRNet-Seg README (LIP, W48)'),
    ('configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py', None, 'tiny demo model'),
    ('configs/demo/parsing_ce2p-aspoc_r18-d16-tiny_1xb4-20e_synthetic-128x96.py', None,
     'tiny demo model (the demo\'s: stride 16, 128x96, wider decoder)'),
    ('configs/demo/parsing_ce2p-aspoc_seresnet50-tiny_30e_synthetic-96x96.py', None, 'tiny demo model'),
    ('configs/demo/parsing_ce2p-aspoc_scnet50-tiny_30e_synthetic-96x96.py', None, 'tiny demo model'),
    ('configs/demo/parsing_ce2p-aspoc_dcn-r50-tiny_30e_synthetic-96x96.py', None, 'tiny demo model'),
    ('configs/demo/parsing_fcn_hrnetv2-tiny_30e_synthetic-96x96.py', None, 'tiny demo model'),
]

TRACKS = {'pose': POSE_ROWS, 'parsing': PARSING_ROWS}


def count_pose_params(config: str) -> int:
    """Parameters of the model an MMPose config builds."""
    from lip_toolkit.pose.inference import _as_config, build_pose_model
    model = build_pose_model(_as_config(str(REPO_ROOT / config)), device='cpu')
    return sum(p.numel() for p in model.parameters())


def count_parsing_params(config: str) -> int:
    """Parameters of the segmentor an MMSeg config builds."""
    from lip_toolkit.parsing.inference import _as_config, build_parsing_model
    model = build_parsing_model(_as_config(str(REPO_ROOT / config)), device='cpu')
    return sum(p.numel() for p in model.parameters())


COUNTERS = {'pose': count_pose_params, 'parsing': count_parsing_params}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--track', choices=sorted(TRACKS), required=True)
    parser.add_argument('--markdown', action='store_true', help='print a markdown table')
    args = parser.parse_args(argv)
    rows = []
    for config, reference, source in TRACKS[args.track]:
        millions = COUNTERS[args.track](config) / 1e6
        rows.append((Path(config).name, millions, reference, source))
    if args.markdown:
        print('| config | parameters (M) | reference (M) | reference source |')
        print('|---|---:|---:|---|')
        for name, millions, reference, source in rows:
            print(f'| `{name}` | {millions:.2f} | {"-" if reference is None else f"{reference:.1f}"} | {source} |')
    else:
        width = max(len(r[0]) for r in rows)
        for name, millions, reference, source in rows:
            ref = '-' if reference is None else f'{reference:.1f}'
            print(f'{name:<{width}}  {millions:8.2f}M  ref {ref:>6}  {source}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
