"""The catalog: products, variants, categories, images, import and search."""
