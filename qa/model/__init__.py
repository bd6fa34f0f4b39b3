"""The embedding model: the bundled weights converted, exported to ONNX, and run."""
