//! A pool of GPU buffers: arrays take buffers from it and give them back
//! when the last array using one drops.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Statistics of kiln's GPU memory: bytes, and the resources that hold
/// them (flat over a training run's steps once they are warm).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes held by live arrays and pending work.
    pub active: u64,
    /// The largest `active` seen since start (or since [`reset_peak_memory`](crate::reset_peak_memory)).
    pub peak: u64,
    /// Bytes of free buffers kept for reuse.
    pub cached: u64,
    /// GPU buffers of the pool, in use or cached.
    pub buffers: u64,
    /// Compute pipelines compiled and kept.
    pub pipelines: u64,
}

#[derive(Default)]
struct PoolState {
    free: BTreeMap<u64, Vec<wgpu::Buffer>>,
    /// Buffers given back while an evaluation is being encoded: work that
    /// is recorded but not yet submitted may still use them, so only
    /// kernels later in the same submission may take them (uploads, which
    /// run before the submission's kernels, may not).
    pending: BTreeMap<u64, Vec<wgpu::Buffer>>,
    deferring: bool,
    stats: MemoryStats,
}

/// The cached buffer of the smallest size class that fits `want` without
/// wasting half of it.
fn take_fitting(cache: &mut BTreeMap<u64, Vec<wgpu::Buffer>>, want: u64) -> Option<wgpu::Buffer> {
    let found = cache
        .range_mut(want..=want.saturating_mul(2))
        .find_map(|(_, list)| list.pop());
    cache.retain(|_, list| !list.is_empty());
    found
}

/// The buffer pool. Cloning shares it.
#[derive(Clone)]
pub struct Pool {
    state: Arc<Mutex<PoolState>>,
    /// What every buffer of the pool can be used for.
    usage: wgpu::BufferUsages,
}

/// A buffer on loan from the pool; returned on drop.
pub struct Buffer {
    raw: Option<wgpu::Buffer>,
    pool: Pool,
}

impl Buffer {
    /// The wgpu buffer.
    pub fn raw(&self) -> &wgpu::Buffer {
        self.raw.as_ref().expect("buffer present until drop")
    }

    /// The buffer's size in bytes (at least the size asked for).
    pub fn size(&self) -> u64 {
        self.raw().size()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Some(raw) = self.raw.take() {
            let mut state = self.pool.lock();
            let size = raw.size();
            state.stats.active -= size;
            state.stats.cached += size;
            let cache = if state.deferring {
                &mut state.pending
            } else {
                &mut state.free
            };
            cache.entry(size).or_default().push(raw);
        }
    }
}

/// Every storage buffer kiln makes can be read, written and copied (and,
/// with unified memory, mapped).
const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::INDIRECT)
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Sizes round up to this many bytes so that similar requests share
/// buffers. Every class is a multiple of 16 bytes: vectorised kernels read
/// and write whole vec4s up to the end of a buffer.
fn size_class(bytes: u64) -> u64 {
    let bytes = bytes.max(16);
    if bytes <= 4096 {
        bytes.next_power_of_two()
    } else {
        // Four classes per power of two keeps waste under 25%.
        let shift = 63 - bytes.leading_zeros() - 2;
        let step = 1u64 << shift;
        bytes.div_ceil(step) * step
    }
}

impl Pool {
    /// An empty pool; with `unified_memory` its buffers can be mapped.
    pub fn new(unified_memory: bool) -> Pool {
        let mappable = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::MAP_WRITE;
        Pool {
            state: Arc::default(),
            usage: if unified_memory {
                USAGE | mappable
            } else {
                USAGE
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `buffer` is on loan from this pool.
    pub fn owns(&self, buffer: &Buffer) -> bool {
        Arc::ptr_eq(&self.state, &buffer.pool.state)
    }

    /// A buffer of at least `bytes` bytes, reused when one fits. Buffers
    /// given back during the current encoding are reused only for
    /// `kernel_output`s.
    pub fn alloc(&self, device: &wgpu::Device, bytes: u64, kernel_output: bool) -> Arc<Buffer> {
        let want = size_class(bytes);
        let mut state = self.lock();
        let mut found = None;
        if kernel_output {
            found = take_fitting(&mut state.pending, want);
        }
        if found.is_none() {
            found = take_fitting(&mut state.free, want);
        }
        let raw = match found {
            Some(raw) => {
                state.stats.cached -= raw.size();
                raw
            }
            None => {
                state.stats.buffers += 1;
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("kiln"),
                    size: want,
                    usage: self.usage,
                    mapped_at_creation: false,
                })
            }
        };
        state.stats.active += raw.size();
        state.stats.peak = state.stats.peak.max(state.stats.active);
        Arc::new(Buffer {
            raw: Some(raw),
            pool: self.clone(),
        })
    }

    /// From now until [`Pool::settle`], buffers given back are kept for
    /// kernel outputs of the evaluation being encoded.
    pub fn defer(&self) {
        self.lock().deferring = true;
    }

    /// The encoded work is submitted (or dropped): every buffer given back
    /// may be reused by anything.
    pub fn settle(&self) {
        let mut state = self.lock();
        state.deferring = false;
        for (size, mut list) in std::mem::take(&mut state.pending) {
            state.free.entry(size).or_default().append(&mut list);
        }
    }

    /// The bytes active, peak and cached.
    pub fn stats(&self) -> MemoryStats {
        self.lock().stats
    }

    /// Sets the peak to the bytes active now.
    pub fn reset_peak(&self) {
        let mut state = self.lock();
        state.stats.peak = state.stats.active;
    }

    /// Frees every cached buffer.
    pub fn clear(&self) {
        let mut state = self.lock();
        // Pending buffers may still be used by work being encoded.
        for buffer in std::mem::take(&mut state.free).into_values().flatten() {
            state.stats.cached -= buffer.size();
            state.stats.buffers -= 1;
            buffer.destroy();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_cover_the_request_with_little_waste() {
        for bytes in [
            1u64,
            15,
            16,
            17,
            1000,
            4096,
            4097,
            10_000,
            1 << 20,
            (1 << 20) + 1,
            123_456_789,
        ] {
            let class = size_class(bytes);
            assert!(class >= bytes, "{bytes} -> {class}");
            assert!(class <= (bytes * 2).max(16), "{bytes} -> {class}");
            assert_eq!(class % 16, 0);
        }
    }
}
