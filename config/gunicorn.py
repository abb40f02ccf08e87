"""gunicorn's settings (``gunicorn -c config/gunicorn.py config.wsgi``): with
``PROMETHEUS_MULTIPROC_DIR`` set, a worker that exits takes its live gauges
(pooled connections) out of /metrics (config/metrics.py)."""

import os

from prometheus_client import multiprocess


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
