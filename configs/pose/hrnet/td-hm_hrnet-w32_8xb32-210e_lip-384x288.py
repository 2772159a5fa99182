# HRNet-W32, 384x288, trained on LIP train only.
# Target (the seed's LIP test PCKh@0.5): 88.2
_base_ = ['../../_base_/pose_hrnet_w32.py']
