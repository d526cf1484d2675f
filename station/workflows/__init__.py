"""The Qt-free camp workflows. Each step is one database transaction; long steps are job objects with a
progress callback and cancellation (:mod:`station.workflows.jobs`). The UI, the CLI demo and the tests
drive exactly these functions."""
