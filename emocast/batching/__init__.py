"""Batch generation (``emocast batch``, :func:`emocast.batch`): a job list (CSV or JSONL), a job table
in SQLite beside the outputs, and local worker processes or Ray tasks that keep their models warm."""
from .jobs import BatchJob, JobListError, read_jobs
from .table import JobTable

__all__ = ["BatchJob", "JobListError", "read_jobs", "JobTable"]
