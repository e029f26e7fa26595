"""`--serve`: the camera loop's web view, Server-Sent Events, Prometheus metrics and health check, standard library only."""
