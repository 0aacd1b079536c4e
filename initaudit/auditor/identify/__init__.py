"""What produced each tensor: the initialisation scheme its statistics fit, the layer kind that owns
it with torch's own default, and whether the weights look trained rather than initialised.
"""
