"""Management dashboard for appstore-events: event projections, stats API and web page."""
