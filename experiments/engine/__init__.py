"""The engine every experiment app runs on: settings (declared once), the runner (configs in, typed
run records out; serial, local cores or Ray; resume), the posterior, statistics, tables and rendering
(reports and figures). Nothing here knows a particular experiment."""
