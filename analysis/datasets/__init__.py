"""One loader per real data set. Each returns frames in the tidy schema of
:mod:`analysis.ratings` and an audit table accounting for every record read."""
