"""Validation experiments: virtual versions of the studies behind EVIDENCE.md §B, run with the model
and compared with the published effect sizes (`scsim validate-model`).

Each experiment file under `experiments/validation/` names a design (arms of scenario overrides,
seeds, replications), the quantity the study estimated, and the published range with its source.
Nothing here changes the model: the estimates come from the runs' accumulators and final state.
"""
