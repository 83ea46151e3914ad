"""The service layer: the one place the UI and CLI call, and the one place that checks who may do what.

``catalog.CatalogService`` (catalog only, imports no model code: fast for the CLI) and ``taillift.TailLiftService``
(the whole facade: catalog + search + training). Import them from their modules.
"""
