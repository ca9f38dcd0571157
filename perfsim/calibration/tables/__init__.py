"""Published measured-kernel tables (NVIDIA aiconfigurator-core, or a CSV in the same terms)
mapped onto the perfsim ops that price the same work, for fitting and fidelity reports.

Only the systems in `reader.ALLOWED_SYSTEMS` may be read: the package's other systems are kept
for held-out validation of this project, and the reader refuses them by name.
"""
