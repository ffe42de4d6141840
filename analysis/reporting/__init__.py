"""Reporting: what people read.

figures  the one plotting theme; deterministic PDF/SVG/PNG files
tables   atomic, deterministic CSV files
summary  the printed summary of the CLI
render   papermill batch rendering of the notebooks and reports/index.html
"""
