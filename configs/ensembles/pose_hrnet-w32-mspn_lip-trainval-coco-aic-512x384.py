# The seed's pose ensemble (1st place, LIP 2019 single-person pose): HRNet-W32 and 4xMSPN-50, both 512x384 and
# trained on LIP train+val + COCO + AI Challenger (each 92.0 PCKh on the LIP test set), heatmaps of both (each
# with flip test) averaged with equal weights and decoded once. PoseFix on top: pose_hrnet-w32-mspn-posefix_*.py.
# Seed's LIP test PCKh: 92.0 (best member) -> 92.6 (this average + PoseFix).
# Checkpoints: where `lip-toolkit train CONFIG` leaves them (work_dirs/<config name>/epoch_<last>.pth); relative
# paths are looked up from the current folder, then from this file's folder. Run:
#   lip-toolkit ensemble configs/ensembles/pose_hrnet-w32-mspn_lip-trainval-coco-aic-512x384.py --out val.csv
track = 'pose'
flip = True
members = [
    dict(config='pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-trainval-coco-aic-512x384.py',
         checkpoint='work_dirs/td-hm_hrnet-w32_8xb32-210e_lip-trainval-coco-aic-512x384/epoch_210.pth',
         weight=1.0, name='HRNet-W32 512x384'),
    dict(config='pose/mspn/td-hm_4xmspn50_8xb32-210e_lip-trainval-coco-aic-512x384.py',
         checkpoint='work_dirs/td-hm_4xmspn50_8xb32-210e_lip-trainval-coco-aic-512x384/epoch_210.pth',
         weight=1.0, name='4xMSPN-50 512x384'),
]
