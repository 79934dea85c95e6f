"""One run folder on disk: atomic writes, the run's identity (config hash) and provenance, reading
finished runs back. The runner and the command line both write through it."""
