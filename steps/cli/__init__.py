"""The headless command line: emlsetup plan, detect, check, run, resume, report, status,
export and model."""
