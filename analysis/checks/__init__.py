"""Checks of the methods themselves, not of a study: speed and memory (``bench``), interval
coverage on simulated data (``coverage``), and judge-assisted intervals on hidden human
ratings of the real data (``ppi_check``)."""
