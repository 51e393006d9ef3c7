"""What the Meta channels (Messenger, Instagram) share: webhook signature and splitting,
item parsing, Send API bodies, error mapping and the Graph client (platforms.md §1-§3)."""
