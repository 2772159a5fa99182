# The demo's tiny PoseFix (`lip-toolkit demo`): the tiny config below for 20 epochs, so its learning-rate step
# (epoch 30) never comes: after the warm-up the refiner trains at its initial rate to the end. Measured in the demo
# (its pose members' heatmap ensemble at 56.09 PCKh on val, seed 0, one torch thread): refined to 59.68 by this
# one; annealing the rate (cosine to 0) did worse: 54.09 at 20 epochs, 49.10 at 15, below the input.
_base_ = ['./pose_posefix-tiny_lip-128x96.py']
train_cfg = dict(max_epochs=20, val_interval=20)
