"""Read-models that assemble a page: home, portfolio, to-dos, dashboard, charts."""
