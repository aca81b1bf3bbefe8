"""Reply letters and co-handling opinions (their models arrive with the reply workflow)."""
