"""Calibration of the no-plan world to published moments by simulated method of moments (SMM).

spec: the calibration file; moments: what a set of runs says about the world; fit: the search
(Latin hypercube, then Nelder-Mead, common random numbers throughout) and how well each
parameter is identified; writeback: the calibrated values into the scenario file; command: `scsim calibrate`.
"""
