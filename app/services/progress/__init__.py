"""Progress toward every block and toward the degree's other conditions."""
