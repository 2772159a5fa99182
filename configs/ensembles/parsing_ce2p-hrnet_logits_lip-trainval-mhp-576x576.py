# The seed's parsing ensemble (2nd place, LIP 2019 single-person parsing): the models trained on LIP train+val and
# the multi-human parsing crops at 576x576, each with flip test (left/right channels swapped), logits averaged
# with equal weights at each image's original size. The seed does not record which of its models it averaged;
# these are its five all-data 576 models (their LIP test mIoU in the comments).
# Seed's LIP test mIoU: 62.17 (best member, CE2P-OCNet DeResNet-101) -> 64.00 (averaged logits).
# Averaged softmax maps instead: parsing_ce2p-hrnet_softmax_lip-trainval-mhp-576x576.py (64.13).
#   lip-toolkit ensemble configs/ensembles/parsing_ce2p-hrnet_logits_lip-trainval-mhp-576x576.py --out val_pngs
track = 'parsing'
average = 'logits'
flip = True
scales = (1.0, )
members = [
    dict(config='parsing/ce2p/ce2p-aspoc_dcn-r101-d16_4xb10-150e_lip-trainval-mhp-576x576.py',  # 62.17
         checkpoint='work_dirs/ce2p-aspoc_dcn-r101-d16_4xb10-150e_lip-trainval-mhp-576x576/epoch_150.pth',
         name='CE2P-OCNet DeResNet-101'),
    dict(config='parsing/hrnet/fcn_hrnetv2-w48_4xb10-150e_lip-trainval-mhp-576x576.py',  # 61.96
         checkpoint='work_dirs/fcn_hrnetv2-w48_4xb10-150e_lip-trainval-mhp-576x576/epoch_150.pth',
         name='HRNetV2-W48'),
    dict(config='parsing/ce2p/ce2p-aspoc_scnet101-d16_4xb10-150e_lip-trainval-mhp-576x576.py',  # 61.23
         checkpoint='work_dirs/ce2p-aspoc_scnet101-d16_4xb10-150e_lip-trainval-mhp-576x576/epoch_150.pth',
         name='CE2P-OCNet SCNet-101'),
    dict(config='parsing/ce2p/ce2p-aspoc_seresnet152-d16_4xb10-150e_lip-trainval-mhp-576x576.py',  # 61.00
         checkpoint='work_dirs/ce2p-aspoc_seresnet152-d16_4xb10-150e_lip-trainval-mhp-576x576/epoch_150.pth',
         name='CE2P-OCNet SE-ResNet-152'),
    dict(config='parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-trainval-mhp-576x576.py',  # 60.65
         checkpoint='work_dirs/ce2p-aspoc_r101-d16_4xb10-150e_lip-trainval-mhp-576x576/epoch_150.pth',
         name='CE2P-OCNet R-101'),
]
