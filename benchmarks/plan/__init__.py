"""The planner: which models fit a per-frame time budget on this machine, and which to use."""
