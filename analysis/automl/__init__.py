"""The AutoML core of PROMISE: plain functions and dataclasses over paths and DataFrames.

Nothing here imports Django; the Celery tasks and the `discover` command call it.
"""
