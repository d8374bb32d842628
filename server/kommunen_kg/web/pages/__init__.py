"""The HTML pages: home, a page per resource, browse and search, the sitemap."""
