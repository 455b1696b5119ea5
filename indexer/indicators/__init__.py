"""Practice indicators: the figures a report gives (调解成功率98%), each with its kind and source."""

from indexer.indicators.extract import extract_indicators

__all__ = ["extract_indicators"]
