"""Instagram messaging through a linked Facebook Page (platforms.md §3)."""
