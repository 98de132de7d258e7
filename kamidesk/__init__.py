"""kamidesk: wiring of the after-sales desk (settings, bootstrap, HTTP app, CLI, worker)."""
