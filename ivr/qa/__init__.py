"""Service-standard QA: linting scripts, scoring calls."""
