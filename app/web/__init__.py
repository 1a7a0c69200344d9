"""Web helpers shared by every blueprint: htmx rendering, guards, the Markdown filter."""
