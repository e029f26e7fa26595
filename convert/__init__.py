"""Keras model to full-integer int8 .tflite with TFLite Metadata and labels."""
