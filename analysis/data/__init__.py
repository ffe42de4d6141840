"""Data layer: from the files of a data root to tidy ratings and their audit.

ratings         the tidy ratings schema, the audit table, pivots to items x raters matrices
paths           where the data root is
fetch           download the source repositories into the data root
demo            the synthetic demo data set with known truth, generated from a seed
bhh, bhh_hf     Between Help and Harm (the authors' repository; the Hugging Face export)
mentalalign     MentalAlign-70k
dialoguesafety  DialogueSafety
"""
