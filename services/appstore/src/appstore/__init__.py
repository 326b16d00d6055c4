"""The Appstore: users, credit, apps and purchases; the identity provider of appstore-events.

The application comes from :func:`appstore.app.create_app`. Nothing is imported here so that
``appstore serve`` can set up multi-process metrics before Prometheus' client is loaded.
"""
