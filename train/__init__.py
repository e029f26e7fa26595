"""Training stage: load or export a dataset, build a registered model, fit it, evaluate it, ensemble models."""
