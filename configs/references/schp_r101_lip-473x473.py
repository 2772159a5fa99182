# SCHP's released LIP model (GoGoDuck912/Self-Correction-Human-Parsing, exp-schp-201908261155-lip.pth) run as
# its evaluate.py --flip runs it. Published: 59.36 LIP val mIoU (SCHP README). Convert, then evaluate:
#   lip-toolkit convert schp exp-schp-201908261155-lip.pth schp_lip.pth
#   lip-toolkit evaluate configs/references/schp_r101_lip-473x473.py schp_lip.pth --data-root LIP
# Expected: 59.36 up to GPU/CPU arithmetic (network, normalisation, fused output, flip and test-time geometry --
# SCHP's affine warp, which anchors the input one pixel differently from CE2P's -- are the reference's).
#
# Network (networks/AugmentCE2P.py): CE2P's, unchanged: deep-stem ResNet-101 at output stride 16, PSP, edge
# branch, decoder, fusion; InPlaceABNSync = BN (+ReLU in the backbone, activation='none') / BN + LeakyReLU(0.01).
_base_ = ['./ce2p_r101_lip-473x473.py']
model = dict(
    # pretrained_settings['resnet101']: input space BGR, range [0, 1], mean (0.406, 0.456, 0.485),
    # std (0.225, 0.224, 0.229), i.e. ImageNet's statistics in B, G, R order.
    data_preprocessor=dict(mean=[103.53, 116.28, 123.675], std=[57.375, 57.12, 58.395], bgr_to_rgb=False),
    # evaluate.py --flip: the mirrored image's logits are mirrored back with channels 14/15, 16/17, 18/19
    # swapped and averaged with the original's. The README's own command (`python evaluate.py --model-restore
    # CKPT`) does not pass --flip, and the README does not say which setting gave 59.36: `lip-toolkit evaluate
    # ... --no-flip` runs that command's setting.
    test_cfg=dict(flip=True, warp='schp'))
