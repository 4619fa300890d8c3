//! The capture progress bar: on stderr, only when stderr is a terminal and
//! `-q` is not given, so CI logs and pipes stay clean.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::collect::Observer;
use crate::kind::Kind;

/// Shows requests done and each kind as it finishes.
pub struct CaptureProgress {
    bar: Option<ProgressBar>,
    host: String,
    pending: Mutex<Vec<Kind>>,
}

impl CaptureProgress {
    /// A progress display for a capture of `host`; hidden when `visible` is false.
    pub fn new(host: &str, kinds: &[Kind], visible: bool) -> Self {
        let bar = visible.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix} {pos} requests ({per_sec}) {elapsed} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(host.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        CaptureProgress {
            bar,
            host: host.to_owned(),
            pending: Mutex::new(kinds.to_vec()),
        }
    }

    /// A progress display drawn with others (several workspaces at once).
    pub fn with_multi(host: &str, kinds: &[Kind], visible: bool, multi: &MultiProgress) -> Self {
        let progress = CaptureProgress::new(host, kinds, visible);
        let bar = progress.bar.map(|bar| multi.add(bar));
        CaptureProgress { bar, ..progress }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for CaptureProgress {
    fn unit_done(&self, _kind: Kind) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn kind_done(&self, kind: Kind, objects: usize, complete: bool) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bar) = &self.bar {
            let mark = if complete { "ok" } else { "INCOMPLETE" };
            bar.println(format!("  {:<22} {objects:>8}  {mark}", kind.name()));
            pending.retain(|k| *k != kind);
            let names: Vec<&str> = pending.iter().map(|k| k.name()).collect();
            bar.set_message(format!("waiting for {}", names.join(", ")));
        }
        tracing::info!(host = %self.host, kind = %kind, objects, complete, "kind captured");
    }
}
