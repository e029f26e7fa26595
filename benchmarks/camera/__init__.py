"""The camera-loop benchmark: per-frame cost, 30 fps deadline runs and resident memory of edge_runtime's loop."""
