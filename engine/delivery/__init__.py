"""Getting word out: notifications (notify), webhook endpoints (webhooks) and the deliverer
that sends the outbox (deliver)."""
