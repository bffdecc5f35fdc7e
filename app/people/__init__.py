"""People: users, login, activation."""
