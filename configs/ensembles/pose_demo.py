# The demo's pose ensemble: the two tiny HRNets `make demo` (`lip-toolkit demo --out demo_out`) trains from
# different seeds, heatmaps averaged (each with flip test) and decoded once, then refined by the demo's tiny
# PoseFix. Run from the repository folder after `make demo`:
#   lip-toolkit ensemble configs/ensembles/pose_demo.py --data-root demo_out/data --out val.csv
# tests/test_demo.py keeps these members and checkpoints in step with lip_toolkit/demo.py.
track = 'pose'
flip = True
members = [
    dict(config='demo/pose_hrnet-tiny_1xb8-23e_lip-128x96.py',
         checkpoint='demo_out/work_dirs/hrnet-tiny-seed1/epoch_23.pth', name='hrnet-tiny-seed1'),
    dict(config='demo/pose_hrnet-tiny_1xb8-23e_lip-128x96.py',
         checkpoint='demo_out/work_dirs/hrnet-tiny-seed2/epoch_23.pth', name='hrnet-tiny-seed2'),
]
refiner = dict(config='demo/pose_posefix-tiny_1xb16-20e_lip-128x96.py',
               checkpoint='demo_out/work_dirs/posefix-tiny/epoch_20.pth', name='posefix-tiny')
