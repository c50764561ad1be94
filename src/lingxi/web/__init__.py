"""The console: Jinja2 templates, static files (HTMX and ECharts vendored from npm), the text catalogue."""
