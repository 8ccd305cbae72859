-- Evaluation runs: each `tuesday eval` is stored, so the Evaluation page can show them and
-- auto-send can wait for a good enough score on the held-out set. Expand only: a new table.
CREATE TABLE eval_runs (
    id                INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,
    datasets          TEXT    NOT NULL, -- JSON list of the files, as given
    holdout           TEXT    NOT NULL, -- fingerprint of the labelled messages, in any order
    classifier        TEXT    NOT NULL, -- fingerprint of the classifier's weights
    classifier_name   TEXT    NOT NULL,
    messages          INTEGER NOT NULL,
    intent_accuracy   REAL    NOT NULL,
    macro_f1          REAL    NOT NULL,
    language_accuracy REAL    NOT NULL,
    report            TEXT    NOT NULL  -- the whole EvalReport as JSON
);
CREATE INDEX eval_runs_holdout ON eval_runs (holdout, classifier, id);
