"""The engine every step runs on: the plan, the runner, the state, the lock,
following a detached build, the preflight and the report. Steps are data; this runs them."""
