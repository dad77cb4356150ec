"""The degree's other conditions: English results and international mobility."""
