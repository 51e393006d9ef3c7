"""Users, memberships (roles), API tokens, login and its throttling."""
