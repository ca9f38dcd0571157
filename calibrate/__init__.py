"""Torch microbenchmarks and real-model validation runs that calibrate perfsim's hardware profiles.

Needs torch (`pip install "perfsim[calibrate]"`); `import perfsim` never imports this package.
"""
