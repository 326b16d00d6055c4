"""The Dashboard's HTTP API: one module per blueprint, schemas beside them."""
