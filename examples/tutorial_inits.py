"""Snippets in the style of an initialisation tutorial: several are bugs in a real model."""

import torch.nn as nn
from torch.nn import init

# The classic deprecated spelling (IA104) on a network whose first layer feeds a ReLU (IA103).
net1 = nn.Sequential(
    nn.Linear(30, 40), nn.ReLU(),
    nn.Linear(40, 50), nn.ReLU(),
    nn.Linear(50, 10),
)
init.xavier_uniform(net1[0].weight)

# Constant weights never break symmetry (IA102).
linear = nn.Linear(5, 2)
nn.init.constant_(linear.weight, 2)

# Identity and orthogonal initialisations are legitimate schemes: not reported.
square = nn.Linear(5, 5)
nn.init.eye_(square.weight)
rnn_like = nn.Linear(64, 64)
nn.init.orthogonal_(rnn_like.weight)
