"""Facebook Page Messenger (platforms.md §2)."""
