# The seed's final pose system: the HRNet-W32 + MSPN heatmap average, then PoseFix (ResNet-152, 384x288, trained
# on LIP train+val + COCO) refining the decoded joints.
# Seed's LIP test PCKh: 92.0 (best member) -> 92.6 (ensemble + PoseFix).
#   lip-toolkit ensemble configs/ensembles/pose_hrnet-w32-mspn-posefix_lip-trainval-coco-aic-512x384.py \
#       --split test --out test_pred.csv
_base_ = ['./pose_hrnet-w32-mspn_lip-trainval-coco-aic-512x384.py']
refiner = dict(config='pose/posefix/posefix_res152_8xb16-140e_lip-trainval-coco-384x288.py',
               checkpoint='work_dirs/posefix_res152_8xb16-140e_lip-trainval-coco-384x288/epoch_140.pth',
               name='PoseFix R-152')
