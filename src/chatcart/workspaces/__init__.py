"""Workspaces: one seller (or one client of an agency); every row belongs to one."""
