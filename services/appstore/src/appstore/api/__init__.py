"""HTTP entry points: one flask-smorest Blueprint per resource."""
