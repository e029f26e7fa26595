"""On-device image classification over a TFLite interpreter; never imports TensorFlow."""
