"""The Gradio app: one module per tab, thin over the service. Nothing in ``recsys`` outside this package imports it.

Import what you need from its modules (``recsys.ui.app`` builds the Blocks); this package re-exports nothing, so
importing ``recsys.ui`` does not load Gradio.
"""
