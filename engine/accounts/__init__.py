"""User accounts: passwords, login sessions and throttling (logins), API tokens (tokens)."""
