# LIP HRNet-W32 at 384x288 initialised from MMPose's COCO HRNet-W32 384x288 (td-hm_hrnet-w32_8xb64-210e_coco-
# 384x288-ca5956af_20220909.pth, COCO val AP 0.761) instead of ImageNet: COCO's 17-joint head does not fit LIP's
# 16 joints, so only the backbone is taken (init_cfg Pretrained with prefix='backbone.'); the head starts fresh.
# The same works for any MMPose HRNet checkpoint of the same width (W48: change the backbone widths too).
# Published: no LIP number for this initialisation. Train, then evaluate as any LIP pose config:
#   lip-toolkit train configs/references/hrnet-w32_coco-init_lip-384x288.py
# The checkpoint is a LOCAL file (nothing is downloaded); override it with
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = ['../_base_/pose_hrnet_w32.py']

coco_checkpoint = 'checkpoints/td-hm_hrnet-w32_8xb64-210e_coco-384x288-ca5956af_20220909.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=coco_checkpoint, prefix='backbone.')))
