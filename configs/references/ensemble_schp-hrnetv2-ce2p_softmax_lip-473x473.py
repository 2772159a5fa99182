# The three released LIP parsers as one ensemble: SCHP (59.36), HRNetV2-W48 (56.04) and CE2P (53.88) on LIP val,
# each run by its reference config (its own input size, colour order and normalisation), softmax maps averaged
# with equal weights at each image's original size, flip test for all three. No published number exists for
# this combination; `lip-toolkit ensemble` reports what it scores. Convert the released files first:
#   lip-toolkit convert schp exp-schp-201908261155-lip.pth checkpoints/schp_lip.pth
#   lip-toolkit convert hrnet-seg HRNET_LIP.pth checkpoints/hrnetv2-w48_lip.pth
#   lip-toolkit convert ce2p LIP_epoch_149.pth checkpoints/ce2p_lip.pth
#   lip-toolkit ensemble configs/references/ensemble_schp-hrnetv2-ce2p_softmax_lip-473x473.py --out val_pngs
track = 'parsing'
average = 'softmax'
flip = True
scales = (1.0, )
members = [
    dict(config='references/schp_r101_lip-473x473.py', checkpoint='checkpoints/schp_lip.pth', name='SCHP'),
    dict(config='references/hrnetv2-w48_lip-473x473.py', checkpoint='checkpoints/hrnetv2-w48_lip.pth',
         name='HRNetV2-W48'),
    dict(config='references/ce2p_r101_lip-473x473.py', checkpoint='checkpoints/ce2p_lip.pth', name='CE2P'),
]
