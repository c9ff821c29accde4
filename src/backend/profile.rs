//! Profiles of GPU work: every kernel dispatch between [`start`] and
//! [`stop`], with the op that encoded it, its workgroups, the bytes it binds
//! and, where the adapter has timestamp queries, its GPU time.
//!
//! ```no_run
//! # fn main() -> kiln::Result<()> {
//! let a = kiln::random::normal(&kiln::random::key(0), &[256, 256], kiln::DType::F32)?;
//! kiln::profile::start()?;
//! kiln::linalg::inv(&a)?.eval()?;
//! let profile = kiln::profile::stop()?;
//! println!("{profile}"); // time, count and bytes per kernel
//! std::fs::write("inv.json", profile.chrome_trace()).unwrap(); // chrome://tracing
//! # Ok(())
//! # }
//! ```
//!
//! While profiling, each dispatch runs in a compute pass of its own so that
//! its start and end can be stamped: the total is a little above the time
//! the same work takes unprofiled.

use super::device::{device, Device};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// One kernel dispatch of a profile.
#[derive(Debug, Clone)]
pub struct KernelRun {
    /// The kernel (pipeline) name, e.g. `linalg_lu_factor_256`.
    pub kernel: Arc<str>,
    /// The primitive whose encoding queued it (`matmul`, `lu_factor`, ...;
    /// `copy` for readback copies).
    pub op: &'static str,
    /// Workgroups launched; `None` where the GPU chose them (indirect).
    pub workgroups: Option<[u32; 3]>,
    /// Bytes of the buffers it binds: a bound on the memory it touches.
    pub bytes: u64,
    /// When it started on the GPU, in nanoseconds after the profile's first
    /// dispatch, where the adapter has timestamp queries.
    pub start_ns: Option<f64>,
    /// Its GPU time in nanoseconds, where the adapter has timestamp queries.
    pub gpu_ns: Option<f64>,
}

/// The dispatches of one profiled stretch of work, in submission order.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Every dispatch.
    pub runs: Vec<KernelRun>,
}

/// Dispatches grouped by kernel or by op.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    /// The kernel or op name.
    pub name: String,
    /// Dispatches.
    pub count: usize,
    /// Their summed GPU time in nanoseconds (0 without timestamps).
    pub gpu_ns: f64,
    /// Their summed bound bytes.
    pub bytes: u64,
}

impl Profile {
    /// Whether the runs carry GPU times (the adapter has timestamp queries).
    pub fn timed(&self) -> bool {
        self.runs.iter().any(|r| r.gpu_ns.is_some())
    }

    /// The summed GPU time of every dispatch, in nanoseconds.
    pub fn gpu_ns(&self) -> f64 {
        self.runs.iter().filter_map(|r| r.gpu_ns).sum()
    }

    fn grouped(&self, key: impl Fn(&KernelRun) -> &str) -> Vec<ProfileRow> {
        let mut rows: BTreeMap<&str, ProfileRow> = BTreeMap::new();
        for run in &self.runs {
            let name = key(run);
            let row = rows.entry(name).or_insert_with(|| ProfileRow {
                name: name.to_string(),
                count: 0,
                gpu_ns: 0.0,
                bytes: 0,
            });
            row.count += 1;
            row.gpu_ns += run.gpu_ns.unwrap_or(0.0);
            row.bytes += run.bytes;
        }
        let mut rows: Vec<ProfileRow> = rows.into_values().collect();
        rows.sort_by(|a, b| b.gpu_ns.total_cmp(&a.gpu_ns).then(b.count.cmp(&a.count)));
        rows
    }

    /// Dispatches per kernel, the most GPU time (then the most dispatches)
    /// first.
    pub fn by_kernel(&self) -> Vec<ProfileRow> {
        self.grouped(|r| &r.kernel)
    }

    /// Dispatches per op, as [`Profile::by_kernel`].
    pub fn by_op(&self) -> Vec<ProfileRow> {
        self.grouped(|r| r.op)
    }

    /// The runs as a Chrome trace (JSON for `chrome://tracing` or
    /// Perfetto): one event per dispatch on the GPU's timeline, or in
    /// submission order 1 µs apart where there are no timestamps.
    pub fn chrome_trace(&self) -> String {
        let events: Vec<String> = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, run)| {
                let start = run.start_ns.map_or(i as f64, |ns| ns / 1e3);
                let duration = run.gpu_ns.map_or(1.0, |ns| ns / 1e3);
                let workgroups = match run.workgroups {
                    Some([x, y, z]) => format!("[{x},{y},{z}]"),
                    None => "\"indirect\"".to_string(),
                };
                format!(
                    "{{\"name\":{},\"cat\":{},\"ph\":\"X\",\"pid\":0,\"tid\":0,\"ts\":{start:.3},\"dur\":{duration:.3},\"args\":{{\"op\":{},\"workgroups\":{workgroups},\"bytes\":{}}}}}",
                    json_string(&run.kernel),
                    json_string(run.op),
                    json_string(run.op),
                    run.bytes
                )
            })
            .collect();
        format!("{{\"traceEvents\":[{}]}}", events.join(",\n"))
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for Profile {
    /// A table per kernel: dispatches, GPU time and bound bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let timed = self.timed();
        writeln!(
            f,
            "{:<40} {:>8} {:>12} {:>12}",
            "kernel", "count", "gpu ms", "bound MB"
        )?;
        for row in self.by_kernel() {
            let ms = if timed {
                format!("{:.3}", row.gpu_ns / 1e6)
            } else {
                "-".to_string()
            };
            writeln!(
                f,
                "{:<40} {:>8} {:>12} {:>12.1}",
                row.name,
                row.count,
                ms,
                row.bytes as f64 / 1e6
            )?;
        }
        let total = if timed {
            format!("{:.3}", self.gpu_ns() / 1e6)
        } else {
            "-".to_string()
        };
        write!(f, "{:<40} {:>8} {:>12}", "total", self.runs.len(), total)
    }
}

/// Timestamps of some runs of a recording, on their way back from the GPU.
pub(crate) struct PendingTimes {
    /// Index of the first run they time.
    pub first: usize,
    /// Runs timed (two stamps each).
    pub count: usize,
    /// Where the GPU copies the stamps, mapped once `ready` says so.
    pub staging: wgpu::Buffer,
    pub ready: futures_channel::oneshot::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
}

/// What a device records while profiling.
#[derive(Default)]
pub(crate) struct Recording {
    pub runs: Vec<KernelRun>,
    pub pending: Vec<PendingTimes>,
}

fn recording(dev: &Device) -> std::sync::MutexGuard<'_, Option<Recording>> {
    dev.profile.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts recording every dispatch; the work queued before is submitted
/// first and not recorded. Fails if a profile is already recording.
pub fn start() -> Result<()> {
    let dev = device()?;
    dev.flush()?;
    let mut slot = recording(&dev);
    if slot.is_some() {
        return Err(Error::Eval(
            "profile::start: a profile is already recording; stop it first".into(),
        ));
    }
    *slot = Some(Recording::default());
    Ok(())
}

/// Stops recording and returns the profile, waiting for the GPU to finish
/// the recorded work (native only; in a browser, use [`stop_async`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn stop() -> Result<Profile> {
    pollster::block_on(stop_async())
}

/// Stops recording and returns the profile once the GPU has finished the
/// recorded work. Fails if no profile is recording.
pub async fn stop_async() -> Result<Profile> {
    let dev = device()?;
    dev.flush()?;
    let Recording { mut runs, pending } = recording(&dev).take().ok_or_else(|| {
        Error::Eval("profile::stop: no profile is recording; call profile::start first".into())
    })?;
    #[cfg(not(target_arch = "wasm32"))]
    if !pending.is_empty() {
        dev.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Eval(format!("waiting for the GPU failed: {e}")))?;
    }
    let period = dev.queue.get_timestamp_period() as f64;
    let mut origin = None;
    for times in pending {
        times
            .ready
            .await
            .map_err(|_| Error::Eval("the GPU device was lost during profiling".into()))??;
        let view = times
            .staging
            .get_mapped_range(..)
            .map_err(|e| Error::Eval(format!("mapping profile timestamps failed: {e}")))?;
        let stamps: &[u64] = bytemuck::cast_slice(&view[..times.count * 16]);
        for (run, pair) in runs[times.first..].iter_mut().zip(stamps.chunks(2)) {
            let origin = *origin.get_or_insert(pair[0]);
            run.start_ns = Some(pair[0].saturating_sub(origin) as f64 * period);
            run.gpu_ns = Some(pair[1].saturating_sub(pair[0]) as f64 * period);
        }
        drop(view);
        times.staging.unmap();
    }
    dev.take_gpu_error()?;
    Ok(Profile { runs })
}
