"""Reporting: what people read.

figures   the one plotting theme; deterministic PDF/SVG/PNG files
tables    atomic, deterministic CSV files
display   how tables look in the notebooks and their HTML
notebook  the first step of every notebook
index     reports/index.html
paper     the paper set of figures and LaTeX tables
"""
