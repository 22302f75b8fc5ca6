"""The dashboard pages, one module per page: each reads the filters, calls queries through app.data, draws."""
