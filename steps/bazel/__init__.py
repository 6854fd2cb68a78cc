"""Bazel build output: parsing, time estimates, exit codes and Build Event Protocol files."""
