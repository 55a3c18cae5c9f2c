"""Experiments: comparisons with common random numbers, sweeps over designs, executors and the results store."""
