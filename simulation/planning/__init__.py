"""The planner's questions: the best lever mix for a budget (`optimize`), how candidate policies hold up
over what is not known (`robustness`), and under which conditions the plan fails (`discover`).

Modules, one job each:
    spec        the experiment files of optimize and robustness (validated, errors with file and line)
    ensemble    the uncertainty ensemble: parameter sets and/or a Latin hypercube
    outcomes    per-run horizon outcomes and their statistics over the ensemble
    evaluate    candidates x ensemble x replications through the sweep executors, stored like a sweep
    optimize    the batch-synchronous search (Optuna) and the re-evaluated Pareto set
    robustness  mean, 10th percentile, maximum regret and satisficing share, each with an interval
    discover    PRIM scenario discovery (EMA Workbench) on a robustness, optimize or sweep folder
    report      the report sections "Options for the budget" and "When the plan fails"
    command     what the `scsim optimize|robustness|discover` commands call
"""
