"""Conversion stage: a Keras model to .tflite in any mode (convert.modes), with TFLite Metadata and labels, gated and carded."""
