//! Offline evaluation: how well the pipeline's stages do on labelled messages. `metrics` and
//! `calibrate` are pure arithmetic; `run` drives the real stages; `report` is the result that
//! is printed and, later, stored.

pub mod calibrate;
pub mod dataset;
pub mod gate;
pub mod langid;
pub mod metrics;
pub mod report;
pub mod run;
pub mod split;

pub use report::EvalReport;
