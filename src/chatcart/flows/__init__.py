"""Bot flows. For now a built-in greeter; the flow runtime replaces it (bot-flows issue)."""
