"""Documents: evidence files, the livret PDF and CSV exports."""
