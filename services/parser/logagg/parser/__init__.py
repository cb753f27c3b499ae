"""The parser service: raw log lines in, ECS events out.

The parsing itself (:func:`parse_line`, :func:`parse_batch`) is pure; the RQ job around
it lives in :mod:`logagg.parser.jobs` and the worker in :mod:`logagg.parser.__main__`.
"""

from logagg.parser.config import ParserConfig
from logagg.parser.event import BatchIdentity
from logagg.parser.parsing import parse_batch, parse_line, parse_lines

__all__ = ["BatchIdentity", "ParserConfig", "parse_batch", "parse_line", "parse_lines"]
