"""`python -m edge_runtime doctor`: what this device has (Python, backend, numpy, cameras, Edge TPU, CPU, memory) and what follows.

One module an area, each check a plain function over facts passed in (file texts, folder roots, probe
results), so tests feed fakes; `cli.py` gathers the real facts and `report.py` prints them.
"""
