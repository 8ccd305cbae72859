-- Indexes for the inbox and dashboard on big data (one million messages). Expand only.

-- The draft an outbound reply came from: the "not sent" and "waiting" queues join on it.
CREATE INDEX drafts_outbound ON drafts (outbound_id) WHERE outbound_id IS NOT NULL;
-- The replies that did not go out, oldest first: a small slice of all messages.
CREATE INDEX messages_unsent ON messages (created_at, id)
    WHERE direction = 'out' AND status IN ('failed', 'not_configured', 'unconfirmed', 'blocked');
-- The reliability section: fallback hops and ended degraded periods, by day.
CREATE INDEX events_route_day ON events (day) WHERE kind = 'route';
CREATE INDEX events_degraded_day ON events (day) WHERE kind = 'degraded_ended';

-- The funnel per day and breakdown: what the dashboard sums, a few hundred rows a day at most
-- instead of one per conversation. Rebuilt for the days whose conversations changed, each
-- time conversation_facts is refreshed.
CREATE TABLE funnel_daily (
    epoch_day     INTEGER NOT NULL,
    language      TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    intent        TEXT    NOT NULL,
    tier_rank     INTEGER NOT NULL,
    conversations INTEGER NOT NULL,
    inbound       INTEGER NOT NULL, -- conversations with an inbound message, and so on
    drafted       INTEGER NOT NULL,
    sent          INTEGER NOT NULL,
    sent_auto     INTEGER NOT NULL,
    sent_approved INTEGER NOT NULL,
    replied       INTEGER NOT NULL,
    converted     INTEGER NOT NULL,
    lost          INTEGER NOT NULL,
    approved      INTEGER NOT NULL, -- drafts, summed
    rejected      INTEGER NOT NULL,
    edited        INTEGER NOT NULL,
    edit_distance INTEGER NOT NULL,
    PRIMARY KEY (epoch_day, language, channel, intent, tier_rank)
);
INSERT INTO funnel_daily
SELECT epoch_day, language, channel, intent, tier_rank, COUNT(*),
       SUM(CASE WHEN inbound > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN drafts > 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN sent_auto + sent_approved > 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN sent_auto > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN sent_approved > 0 THEN 1 ELSE 0 END),
       SUM(replied), SUM(converted), SUM(CASE WHEN outcome = 'lost' THEN 1 ELSE 0 END),
       SUM(approved), SUM(rejected), SUM(edited), SUM(edit_distance)
FROM conversation_facts GROUP BY epoch_day, language, channel, intent, tier_rank;
-- The review waits of a range, for their median, without reading the rows.
CREATE INDEX conversation_facts_review ON conversation_facts (epoch_day, review_ms)
    WHERE review_ms IS NOT NULL;
