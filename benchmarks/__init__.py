"""Benchmarks of the chain: one command line (`python -m benchmarks`), a sub-package per program.

instruments/ holds what every program measures with (latency, statistics, machine, memory, MACs,
frames and videos, the reference-model builder, the clients' timing); suite/ is the full report
(`run`, `latency`, `peers`, `report`, `machine`); camera/, plan/ and elpv/ are the other programs.
Results by machine live in benchmarks/results/<machine>/ (see benchmarks/__main__.py).
"""
