"""Growth: what brings people in — comments on posts (private replies), later ref links,
comment-to-DM campaigns and giveaways."""
