"""Services hold every rule. They add and flush, never commit, and never read the request."""
