"""The full benchmark report: the MobileNet table, peers, camera loop and float vs int8, as Markdown and charts."""
