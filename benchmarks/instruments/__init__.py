"""The shared instruments of every benchmark: timing, statistics, machine, memory, frames, models, clients."""
