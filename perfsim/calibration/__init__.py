"""Fitting a profile's efficiency parameters to measurements, and writing the calibration block.

The measurements themselves come from `perfsim.calibrate` (torch microbenchmarks, needs torch).
"""
