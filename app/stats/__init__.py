"""Mastery statistics, item analysis, evaluations (targets) and the acceptance report."""
