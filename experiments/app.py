"""Former home of the experiment apps' shared plumbing, now :mod:`experiments.runner`; these names are
re-exported so that existing imports keep working."""

from experiments.runner import (  # noqa: F401
    APP_CONFIG_DIR,
    RunnerError,
    checked_entry,
    elapsed,
    fail,
    known_summary_metrics,
    load_run_config,
    prevalidate,
    print_table,
    seed_list,
)
