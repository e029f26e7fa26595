"""Training stage: export a dataset to class folders, load it, build a registered model and fit it."""
