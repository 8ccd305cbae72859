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
    epoch_day     BIGINT NOT NULL,
    language      TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    intent        TEXT    NOT NULL,
    tier_rank     BIGINT NOT NULL,
    conversations BIGINT NOT NULL,
    inbound       BIGINT NOT NULL, -- conversations with an inbound message, and so on
    drafted       BIGINT NOT NULL,
    sent          BIGINT NOT NULL,
    sent_auto     BIGINT NOT NULL,
    sent_approved BIGINT NOT NULL,
    replied       BIGINT NOT NULL,
    converted     BIGINT NOT NULL,
    lost          BIGINT NOT NULL,
    approved      BIGINT NOT NULL, -- drafts, summed
    rejected      BIGINT NOT NULL,
    edited        BIGINT NOT NULL,
    edit_distance BIGINT NOT NULL,
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
