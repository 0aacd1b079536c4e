"""What the model does with each tensor when it runs: the activation each layer's output meets, the
role of each parameter from the operators that consume it, residual sums, the example input the
probe feeds, and the forward/backward signal through depth.
"""
