"""Catalog import from WooCommerce's and Shopify's product CSV exports and our own format."""
