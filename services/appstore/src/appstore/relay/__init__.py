"""The outbox relay: publishes committed events to RabbitMQ."""
