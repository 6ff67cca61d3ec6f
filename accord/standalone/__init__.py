"""A standalone site on one machine: the Temporal dev server, the Accord server and its worker."""
