"""The MobileNet models of TFLite's hosted-models table, with the figures that table publishes."""

from __future__ import annotations

from dataclasses import dataclass

PUBLISHED_SOURCE = (
    "TFLite hosted models / image classification guide (Pixel 3 CPU, 4 threads; Pixel 4 CPU for "
    "V1 quant); MACs from the MobileNet V1 and V2 papers and model zoos"
)


@dataclass(frozen=True)
class TableModel:
    """One row of the published table and which registry architecture it is.

    Attributes:
      name: The table's name, e.g. 'MobileNet_V1_1.0_224_quant'.
      version: 1 or 2 (MobileNet V1 or V2).
      alpha: Width multiplier.
      size: Input side in pixels.
      quantized: True for the int8 (uint8 I/O) rows, False for float32.
      pixel3_ms: Published latency, Pixel 3 CPU, 4 threads.
      pixel4_ms: Published latency, Pixel 4 CPU, where the table gives one.
      size_mb: Published .tflite size, MB.
      top1: Published ImageNet top-1 accuracy, percent.
      macs_millions: MACs of one inference, published with the architecture.
    """

    name: str
    version: int
    alpha: float
    size: int
    quantized: bool
    pixel3_ms: float
    pixel4_ms: float | None
    size_mb: float
    top1: float
    macs_millions: float

    @property
    def registry(self) -> str:
        """The train.model_spec registry name of the row's architecture (built by instruments.reference)."""
        return f"mobilenet_v{self.version}"

    @property
    def quantize(self) -> str:
        """The convert stage's quantization mode for this row."""
        return "int8" if self.quantized else "float32"


TABLE_MODELS: tuple[TableModel, ...] = (
    TableModel("MobileNet_V1_1.0_224_quant", 1, 1.0, 224, True, 13.0, 5.0, 4.3, 70.0, 569),
    TableModel("MobileNet_V2_1.0_224_quant", 2, 1.0, 224, True, 12.0, None, 3.4, 70.8, 300),
    TableModel("MobileNet_V1_0.25_128_quant", 1, 0.25, 128, True, 0.8, None, 0.5, 39.5, 14),
    TableModel("MobileNet_V1_1.0_224", 1, 1.0, 224, False, 24.0, None, 16.9, 71.0, 569),
    TableModel("MobileNet_V2_1.0_224", 2, 1.0, 224, False, 17.5, None, 14.0, 71.8, 300),
)

# The quick run keeps the smallest model and one float/int8 pair, so every section has data.
QUICK_MODELS = ("MobileNet_V1_0.25_128_quant", "MobileNet_V1_1.0_224_quant", "MobileNet_V1_1.0_224")


def table_model(name: str) -> TableModel:
    """The table row called `name`.

    Raises:
      ValueError: No row has that name; the message lists them.
    """
    for model in TABLE_MODELS:
        if model.name == name:
            return model
    raise ValueError(f"unknown table model {name!r}; choose from: {', '.join(m.name for m in TABLE_MODELS)}")
