//! Group commit for webhook deliveries on SQLite. SQLite has one writer and each commit waits
//! for the disk, so a delivery a transaction tops out at the disk's commit rate, and writers
//! queue on the busy lock with sleeps. Instead one writer task takes every delivery waiting at
//! that moment and stores them all in one transaction: a burst costs one fsync per batch.
//!
//! Each delivery runs inside its own savepoint, so one that fails is rolled back and reported
//! alone while the rest commit. A caller hears back only after the commit that holds its
//! delivery, so an acknowledged webhook is always on disk.

use super::inbound::ingest_in;
use super::{IngestSummary, Store, Tx, on_tx};
use crate::channels::Delivery;
use crate::domain::Millis;
use tokio::sync::{mpsc, oneshot};

/// The most deliveries one transaction holds: large enough to absorb a burst, small enough
/// that a batch commits in milliseconds.
const MAX_BATCH: usize = 256;
/// Deliveries that may wait for the writer; past this, callers wait for room.
const QUEUE: usize = 4096;

pub(crate) struct GroupCommit {
    sender: mpsc::Sender<Pending>,
}

struct Pending {
    channel: String,
    raw_body: String,
    delivery: Delivery,
    /// When the request arrived, on the caller's clock.
    at: Millis,
    /// Whether the caller's store masks personal data in trace events.
    mask_traces: bool,
    done: oneshot::Sender<anyhow::Result<IngestSummary>>,
}

impl Pending {
    async fn store_in(&self, tx: &mut Tx) -> anyhow::Result<IngestSummary> {
        tx.mask_traces = self.mask_traces;
        ingest_in(tx, &self.channel, &self.raw_body, &self.delivery, self.at).await
    }
}

impl GroupCommit {
    /// Starts the writer on `direct`, a store that writes straight to the database. The writer
    /// stops when the last `GroupCommit` handle is dropped.
    pub(crate) fn start(direct: Store) -> GroupCommit {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(direct, receiver));
        GroupCommit { sender }
    }

    pub(crate) async fn ingest(
        &self,
        channel: &str,
        raw_body: &str,
        delivery: &Delivery,
        at: Millis,
        mask_traces: bool,
    ) -> anyhow::Result<IngestSummary> {
        let (done, answer) = oneshot::channel();
        let pending = Pending {
            channel: channel.to_owned(),
            raw_body: raw_body.to_owned(),
            delivery: delivery.clone(),
            at,
            mask_traces,
            done,
        };
        self.sender
            .send(pending)
            .await
            .map_err(|_| anyhow::anyhow!("the delivery writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the delivery writer stopped before committing"))?
    }
}

async fn write_batches(store: Store, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match store.ingest_batch(&batch).await {
            Ok(results) => {
                for (pending, result) in batch.drain(..).zip(results) {
                    let _ = pending.done.send(result);
                }
            }
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    deliveries = batch.len(),
                    "a batch of deliveries could not be stored"
                );
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(anyhow::anyhow!(
                        "while storing a batch of deliveries: {error:#}"
                    )));
                }
            }
        }
    }
}

impl Store {
    /// Stores every delivery of `batch` in one transaction. Deliveries almost never fail, so
    /// the batch is first written straight through; if one does fail, that attempt is rolled
    /// back and the batch written again with each delivery in its own savepoint, so the one
    /// that fails is rolled back and reported alone while the rest commit.
    async fn ingest_batch(&self, batch: &[Pending]) -> anyhow::Result<Vec<anyhow::Result<IngestSummary>>> {
        let mut tx = self.begin().await?;
        let mut results = Vec::with_capacity(batch.len());
        for pending in batch {
            match pending.store_in(&mut tx).await {
                Ok(summary) => results.push(Ok(summary)),
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        deliveries = batch.len(),
                        "a delivery could not be stored; storing its batch again, one savepoint each"
                    );
                    tx.rollback().await?;
                    return self.ingest_batch_isolated(batch).await;
                }
            }
        }
        tx.commit().await?;
        Ok(results)
    }

    /// [`Store::ingest_batch`] with each delivery in its own savepoint.
    async fn ingest_batch_isolated(
        &self,
        batch: &[Pending],
    ) -> anyhow::Result<Vec<anyhow::Result<IngestSummary>>> {
        let mut tx = self.begin().await?;
        let mut results = Vec::with_capacity(batch.len());
        for pending in batch {
            savepoint(&mut tx, "SAVEPOINT delivery").await?;
            let stored = pending.store_in(&mut tx).await;
            if stored.is_err() {
                savepoint(&mut tx, "ROLLBACK TO SAVEPOINT delivery").await?;
            }
            savepoint(&mut tx, "RELEASE SAVEPOINT delivery").await?;
            results.push(stored);
        }
        tx.commit().await?;
        Ok(results)
    }
}

async fn savepoint(tx: &mut Tx, statement: &'static str) -> sqlx::Result<()> {
    on_tx!(tx, |conn| sqlx::query(statement).execute(conn).await.map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::InboundMessage;

    fn delivery(id: &str, body: &str) -> Delivery {
        Delivery {
            messages: vec![InboundMessage {
                channel: crate::channels::WHATSAPP,
                external_id: id.to_owned(),
                from: "5511987654321".to_owned(),
                profile_name: Some("Ana".to_owned()),
                business_number: "106540352242922".to_owned(),
                kind: "text".to_owned(),
                body: body.to_owned(),
                sent_at: 0,
                reply_to_external_id: None,
            }],
            ..Delivery::default()
        }
    }

    /// A store on a fresh SQLite file, and the directory that holds it.
    async fn sqlite_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .expect("store");
        (dir, store)
    }

    fn pending(id: &str, raw_body: &str) -> (Pending, oneshot::Receiver<anyhow::Result<IngestSummary>>) {
        let (done, answer) = oneshot::channel();
        let pending = Pending {
            channel: "whatsapp".to_owned(),
            raw_body: raw_body.to_owned(),
            delivery: delivery(id, "oi, quanto custa? 💸"),
            at: 1,
            mask_traces: false,
            done,
        };
        (pending, answer)
    }

    /// A delivery that fails is rolled back alone; the others in its batch are stored.
    #[tokio::test]
    async fn one_bad_delivery_does_not_sink_its_batch() {
        let (_dir, store) = sqlite_store().await;
        store
            .scalar_i64(
                "CREATE TRIGGER poison BEFORE INSERT ON webhook_deliveries WHEN NEW.body = 'poison' \
                 BEGIN SELECT RAISE(ABORT, 'poisoned delivery'); END; SELECT 0",
            )
            .await
            .expect("trigger");
        let batch: Vec<_> = [
            ("wamid.1", "{}"),
            ("wamid.2", "poison"),
            ("wamid.3", "{}"),
            ("wamid.1", "{}"),
        ]
        .into_iter()
        .map(|(id, raw)| pending(id, raw).0)
        .collect();
        let results = store.ingest_batch(&batch).await.expect("the batch commits");
        let outcome: Vec<Option<(usize, usize)>> = results
            .iter()
            .map(|r| r.as_ref().ok().map(|s| (s.new_messages, s.duplicate_messages)))
            .collect();
        assert_eq!(outcome, [Some((1, 0)), None, Some((1, 0)), Some((0, 1))]);
        let err = results[1].as_ref().expect_err("poisoned");
        assert!(format!("{err:#}").contains("poisoned delivery"), "{err:#}");
        assert_eq!(
            store
                .scalar_i64("SELECT COUNT(*) FROM webhook_deliveries")
                .await
                .ok(),
            Some(3)
        );
        assert_eq!(
            store.scalar_i64("SELECT COUNT(*) FROM messages").await.ok(),
            Some(2)
        );
        assert_eq!(store.scalar_i64("SELECT COUNT(*) FROM jobs").await.ok(), Some(2));
    }

    /// A message that arrives late (a provider replaying its backlog) is stored, but does not
    /// put back the name the contact had before; a replay of one already stored adds nothing.
    #[tokio::test]
    async fn a_late_message_keeps_the_contacts_newer_name() {
        let (_dir, store) = sqlite_store().await;
        let sent = |id: &str, name: &str, sent_at: Millis, body: &str| {
            let mut d = delivery(id, body);
            d.messages[0].profile_name = Some(name.to_owned());
            d.messages[0].sent_at = sent_at;
            d
        };
        let new_messages = |d: Delivery| {
            let store = store.clone();
            async move {
                store
                    .ingest("whatsapp", "{}", &d)
                    .await
                    .expect("stored")
                    .new_messages
            }
        };
        assert_eq!(
            new_messages(sent("wamid.N2", "Ana Souza", 2_000, "vcs tem curso de dados? 📊")).await,
            1
        );
        assert_eq!(
            new_messages(sent("wamid.N1", "Ana", 1_000, "oi, quanto custa? 💸")).await,
            1
        );
        assert_eq!(
            new_messages(sent("wamid.N2", "Ana Souza", 2_000, "vcs tem curso de dados? 📊")).await,
            0
        );
        assert_eq!(
            store
                .scalar_text("SELECT name FROM contacts")
                .await
                .ok()
                .as_deref(),
            Some("Ana Souza")
        );
        assert_eq!(
            store.scalar_i64("SELECT COUNT(*) FROM messages").await.ok(),
            Some(2)
        );
        assert_eq!(store.scalar_i64("SELECT COUNT(*) FROM jobs").await.ok(), Some(2));
    }

    /// Concurrent callers share commits and each hears about its own delivery.
    #[tokio::test]
    async fn concurrent_deliveries_are_each_answered_once_committed() {
        let (_dir, store) = sqlite_store().await;
        let calls = (0..300).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = format!("wamid.C{}", i % 200);
                store.ingest("whatsapp", "{}", &delivery(&id, "hola 👋")).await
            })
        });
        let mut new = 0;
        for call in calls.collect::<Vec<_>>() {
            new += call.await.expect("join").expect("stored").new_messages;
        }
        assert_eq!(new, 200, "each message is new exactly once");
        assert_eq!(
            store
                .scalar_i64("SELECT COUNT(*) FROM webhook_deliveries")
                .await
                .ok(),
            Some(300)
        );
        assert_eq!(
            store.scalar_i64("SELECT COUNT(*) FROM messages").await.ok(),
            Some(200)
        );
    }
}
