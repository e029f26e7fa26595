"""The ELPV accuracy benchmark: train the recipe from scratch, convert to int8, evaluate and time it."""
