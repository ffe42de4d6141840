"""The Jupyter execution engine: plans which notebooks run for which study and evaluator,
keeps the output folders clean (lock, temporary files, old results), runs the notebooks in
long-lived workers on kernels forked from a preloaded kernel server, and records each run."""
