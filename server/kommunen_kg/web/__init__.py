"""What is served over HTTP: the application factory, the publication it serves, and the
views (endpoint, linked data, pages, downloads, catalog) with their templates and static files."""
