//! Where log lines go: stderr, written in batches by a background thread.
//!
//! A server logs one line per request. Writing each line with its own `write(2)`, or handing
//! each to a writer thread that wakes for it, cost a proxied request ~5 µs of CPU (a system call
//! and a thread wake-up per line). Here a line is appended to an in-memory buffer under a lock;
//! the writer thread wakes when the buffer goes from empty to non-empty, waits [`BATCH_WINDOW`]
//! for more lines to gather (or until [`EARLY_FLUSH_BYTES`] are waiting), and writes them all
//! with one call, as nginx's `access_log … buffer= flush=` does. A line reaches stderr at most
//! about [`BATCH_WINDOW`] after it was logged, and the [`FlushGuard`] writes what is left when
//! the process ends.
//!
//! The buffer is bounded: when stderr cannot keep up and [`MAX_BUFFERED_BYTES`] are waiting,
//! new lines are dropped (a request never waits for the terminal) and a note says how many.

use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer thread gathers lines after the first one before writing them.
pub const BATCH_WINDOW: Duration = Duration::from_millis(50);

/// Waiting bytes that make the writer thread write at once, without waiting out the window.
pub const EARLY_FLUSH_BYTES: usize = 64 * 1024;

/// Waiting bytes beyond which new lines are dropped.
pub const MAX_BUFFERED_BYTES: usize = 8 * 1024 * 1024;

/// How long the [`FlushGuard`] waits for the last lines to be written (a stalled stderr must
/// not keep the process from exiting).
pub const FINAL_FLUSH_LIMIT: Duration = Duration::from_secs(1);

struct Pending {
    bytes: Vec<u8>,
    dropped: u64,
    closed: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A poisoned lock only means a thread panicked while appending bytes: keep logging.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A [`MakeWriter`] whose writers append to the shared batch.
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

/// Stops the writer thread when dropped, after it wrote every line logged before (waiting at
/// most [`FINAL_FLUSH_LIMIT`]).
pub struct FlushGuard {
    shared: Arc<Shared>,
    /// Closed by the writer thread when it returns.
    finished: Option<mpsc::Receiver<()>>,
}

/// Starts the writer thread over `out`.
pub fn batched<W: Write + Send + 'static>(out: W) -> (BatchedWriter, FlushGuard) {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Pending {
            bytes: Vec::with_capacity(EARLY_FLUSH_BYTES),
            dropped: 0,
            closed: false,
        }),
        wake: Condvar::new(),
    });
    let (done, finished) = mpsc::channel::<()>();
    let started = {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("l402-log".to_owned())
            .spawn(move || {
                write_batches(&shared, out);
                drop(done);
            })
    };
    if let Err(e) = &started {
        eprintln!("warning: cannot start the log writer thread ({e}): logs are lost");
    }
    (
        BatchedWriter {
            shared: Arc::clone(&shared),
        },
        FlushGuard {
            shared,
            finished: started.ok().map(|_| finished),
        },
    )
}

/// The writer thread: waits for a first line, gathers for the window, writes the batch.
fn write_batches<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::with_capacity(EARLY_FLUSH_BYTES);
    loop {
        let mut pending = shared.lock();
        while pending.bytes.is_empty() && !pending.closed {
            pending = shared.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
        }
        if !pending.closed && pending.bytes.len() < EARLY_FLUSH_BYTES {
            pending = shared
                .wake
                .wait_timeout_while(pending, BATCH_WINDOW, |p| {
                    !p.closed && p.bytes.len() < EARLY_FLUSH_BYTES
                })
                .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
        }
        std::mem::swap(&mut batch, &mut pending.bytes);
        let dropped = std::mem::take(&mut pending.dropped);
        let closed = pending.closed;
        drop(pending);
        if dropped > 0 {
            let _ = writeln!(
                batch,
                "{dropped} log line(s) dropped: stderr could not keep up"
            );
        }
        // Nowhere to report a failed write to: the lines are lost, as on a closed terminal.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if closed && shared.lock().bytes.is_empty() {
            return;
        }
    }
}

/// Appends one formatted line (the fmt layer writes each event with one `write_all`).
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.shared.lock();
        if pending.bytes.len() + buf.len() > MAX_BUFFERED_BYTES {
            pending.dropped += 1;
            return Ok(buf.len());
        }
        let was_empty = pending.bytes.is_empty();
        pending.bytes.extend_from_slice(buf);
        let early = pending.bytes.len() >= EARLY_FLUSH_BYTES
            && pending.bytes.len() - buf.len() < EARLY_FLUSH_BYTES;
        drop(pending);
        if was_empty || early {
            self.shared.wake.notify_one();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(finished) = self.finished.take() {
            // Disconnected when the thread returns; a timeout leaves it blocked on stderr.
            let _ = finished.recv_timeout(FINAL_FLUSH_LIMIT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A `Write` the test can read back.
    type Sink = l402_testkit::logs::Captured;

    #[test]
    fn lines_arrive_in_order_within_the_window() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone());
        for i in 0..100 {
            writer
                .make_writer()
                .write_all(format!("line {i}\n").as_bytes())
                .unwrap();
        }
        let started = Instant::now();
        while sink.text().lines().count() < 100 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "lines not written: {:?}",
                sink.text()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(sink.text(), expected);
        drop(guard);
    }

    #[test]
    fn the_guard_gives_up_on_a_stalled_stderr() {
        /// Never finishes a write.
        struct Stalled;
        impl Write for Stalled {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_secs(3600));
                Ok(0)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (writer, guard) = batched(Stalled);
        writer.make_writer().write_all(b"stuck\n").unwrap();
        let started = Instant::now();
        drop(guard);
        let waited = started.elapsed();
        assert!(
            waited >= FINAL_FLUSH_LIMIT - Duration::from_millis(100)
                && waited < FINAL_FLUSH_LIMIT * 3,
            "waited {waited:?}"
        );
    }

    #[test]
    fn the_guard_writes_what_is_left() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone());
        writer.make_writer().write_all(b"last words\n").unwrap();
        drop(guard);
        assert_eq!(sink.text(), "last words\n");
    }

    #[test]
    fn a_full_buffer_drops_lines_and_says_so() {
        /// Says when a write began, then blocks it until the test opens the gate.
        struct Gate(Arc<Mutex<()>>, Sink, mpsc::Sender<()>);
        impl Write for Gate {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let _ = self.2.send(());
                let _open = self.0.lock().unwrap();
                self.1.write(buf)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let gate = Arc::new(Mutex::new(()));
        let closed = gate.lock().unwrap();
        let sink = Sink::default();
        let (writing, began) = mpsc::channel();
        let (writer, guard) = batched(Gate(Arc::clone(&gate), sink.clone(), writing));
        // The first line is taken by the writer thread, which then blocks on the gate.
        writer.make_writer().write_all(b"first\n").unwrap();
        began.recv_timeout(Duration::from_secs(10)).unwrap();
        let line = vec![b'x'; 1023];
        let fits = MAX_BUFFERED_BYTES / 1024;
        for _ in 0..fits + 10 {
            let mut l = line.clone();
            l.push(b'\n');
            writer.make_writer().write_all(&l).unwrap();
        }
        drop(closed);
        drop(guard);
        // The guard waits a bounded time; the writer may still be writing the big batch.
        let started = Instant::now();
        while !sink.text().ends_with("could not keep up\n") {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the batch never arrived"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let text = sink.text();
        assert!(text.starts_with("first\n"), "{}", &text[..20]);
        assert_eq!(text.lines().filter(|l| l.starts_with('x')).count(), fits);
        assert!(
            text.ends_with("10 log line(s) dropped: stderr could not keep up\n"),
            "{}",
            &text[text.len() - 80..]
        );
    }
}
