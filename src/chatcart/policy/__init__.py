"""Platform rules as data: may this message go out now, and how? (DESIGN.md §6)."""
