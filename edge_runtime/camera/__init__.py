"""The camera loop: capture the newest frame, classify it on worker threads, report in frame order."""
