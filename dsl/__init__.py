"""IPL, the Incentive Policy Language: parser, checker, compiler, evaluator and tools."""

__version__ = "0.1.0"
