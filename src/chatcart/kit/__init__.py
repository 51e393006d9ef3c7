"""Domain-free tools. Nothing in kit/ imports a domain (enforced by import-linter)."""
