"""Server-rendered staff pages under /ui: Jinja2 templates on the same services the API uses."""
