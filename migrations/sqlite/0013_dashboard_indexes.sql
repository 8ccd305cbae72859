-- Indexes for the inbox and dashboard on big data (one million messages). Expand only.

-- The draft an outbound reply came from: the "not sent" and "waiting" queues join on it.
CREATE INDEX drafts_outbound ON drafts (outbound_id) WHERE outbound_id IS NOT NULL;
-- The replies that did not go out, oldest first: a small slice of all messages.
CREATE INDEX messages_unsent ON messages (created_at, id)
    WHERE direction = 'out' AND status IN ('failed', 'not_configured', 'unconfirmed', 'blocked');
-- The reliability section: fallback hops and ended degraded periods, by day.
CREATE INDEX events_route_day ON events (day) WHERE kind = 'route';
CREATE INDEX events_degraded_day ON events (day) WHERE kind = 'degraded_ended';
