//! Collects the dispatches of evaluations into a batch, then records the
//! batch into one command encoder (in one compute pass, or one per dispatch
//! while a profile records) and submits once.

use super::device::{Device, Pipeline};
use super::pool::Buffer;
use super::profile::{KernelRun, PendingTimes, Recording};
use crate::array::{contiguous_strides, DeviceData};
use crate::dtype::DType;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::Arc;

struct Dispatch {
    pipeline: Arc<Pipeline>,
    /// The primitive whose encoding queued it (for profiles).
    op: &'static str,
    /// Bound at 1, 2, ... after the parameters at 0. Handles, not loans:
    /// a buffer an array no longer needs may go back to the pool and be
    /// reused by a later kernel of the same submission.
    buffers: Vec<wgpu::Buffer>,
    /// Word range of this dispatch's parameters in the shared buffer.
    params: std::ops::Range<usize>,
    groups: Groups,
}

/// How many workgroups a dispatch runs.
enum Groups {
    Direct([u32; 3]),
    /// Read from a buffer when the dispatch runs (written by earlier work).
    Indirect(wgpu::Buffer),
}

/// A copy of an array's bytes into a buffer the host maps to read them,
/// recorded after the batch's dispatches.
struct Readback {
    /// Held until submitted, so that no kernel output reuses it before.
    source: Arc<Buffer>,
    offset: u64,
    staging: wgpu::Buffer,
    size: u64,
}

/// Dispatches encoded but not yet submitted, possibly of several
/// evaluations, and the readbacks that follow them.
#[derive(Default)]
pub(crate) struct Batch {
    dispatches: Vec<Dispatch>,
    readbacks: Vec<Readback>,
    /// Parameters of every dispatch, each run aligned for a storage binding offset.
    params: Vec<u32>,
    /// Where each distinct run of parameters starts in `params`: dispatches
    /// with equal parameters share one run (and so, with equal pipeline and
    /// buffers, one bind group; iterative kernels repeat them many times).
    runs: HashMap<Vec<u32>, usize>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.dispatches.is_empty() && self.readbacks.is_empty()
    }

    /// Queues a copy of `size` bytes of `source` from `offset` into
    /// `staging`, submitted with (after) the batch's dispatches: reads of
    /// several arrays started together share one submission.
    pub fn read_back(
        &mut self,
        source: Arc<Buffer>,
        offset: u64,
        staging: wgpu::Buffer,
        size: u64,
    ) {
        self.readbacks.push(Readback {
            source,
            offset,
            staging,
            size,
        });
    }

    /// Drops every queued dispatch.
    pub fn clear(&mut self) {
        *self = Batch::default();
    }
}

/// Where the next evaluation's work goes: a batch and the device it runs on.
pub(crate) struct Encoder {
    pub dev: Arc<Device>,
    batch: Batch,
    /// The primitive being encoded (for profiles).
    op: &'static str,
}

/// A point in an encoder's batch to go back to.
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    dispatches: usize,
    params: usize,
}

impl Encoder {
    /// Adds to `batch` (the work already waiting for submission).
    pub fn resume(dev: Arc<Device>, batch: Batch) -> Encoder {
        Encoder {
            dev,
            batch,
            op: "copy",
        }
    }

    /// Names the primitive whose kernels are encoded next (for profiles).
    pub fn set_op(&mut self, op: &'static str) {
        self.op = op;
    }

    /// The batch, to be continued by a later evaluation.
    pub fn into_batch(self) -> Batch {
        self.batch
    }

    pub fn mark(&self) -> Mark {
        Mark {
            dispatches: self.batch.dispatches.len(),
            params: self.batch.params.len(),
        }
    }

    /// Drops the dispatches queued since `mark`.
    pub fn truncate(&mut self, mark: Mark) {
        self.batch.dispatches.truncate(mark.dispatches);
        self.batch.params.truncate(mark.params);
        self.batch.runs.retain(|_, start| *start < mark.params);
    }

    /// A GPU buffer of at least `bytes` bytes for a kernel to write.
    pub fn alloc(&self, bytes: u64) -> Result<Arc<Buffer>> {
        self.dev.alloc_output(bytes)
    }

    /// A new contiguous array of `shape` and `dtype` for a kernel to write.
    pub fn alloc_array(&self, shape: &[usize], dtype: DType) -> Result<DeviceData> {
        let size: usize = shape.iter().product();
        Ok(DeviceData {
            buffer: self.alloc((size * dtype.device_size()) as u64)?,
            strides: contiguous_strides(shape),
            offset: 0,
        })
    }

    /// A GPU buffer of at least `bytes` bytes for [`Encoder::upload`].
    pub fn alloc_upload(&self, bytes: u64) -> Result<Arc<Buffer>> {
        self.dev.alloc(bytes)
    }

    /// Queues a dispatch of `pipeline` over `groups` workgroups; `params`
    /// are bound at binding 0 and `buffers` at bindings 1, 2, ...
    pub fn dispatch(
        &mut self,
        pipeline: Arc<Pipeline>,
        params: &[u32],
        buffers: Vec<Arc<Buffer>>,
        groups: [u32; 3],
    ) {
        self.push(pipeline, params, buffers, Groups::Direct(groups));
    }

    /// Queues a dispatch whose workgroup counts earlier work writes into
    /// the first three words of `groups` (which must not be among `buffers`).
    pub fn dispatch_indirect(
        &mut self,
        pipeline: Arc<Pipeline>,
        params: &[u32],
        buffers: Vec<Arc<Buffer>>,
        groups: &Buffer,
    ) {
        self.push(
            pipeline,
            params,
            buffers,
            Groups::Indirect(groups.raw().clone()),
        );
    }

    fn push(
        &mut self,
        pipeline: Arc<Pipeline>,
        params: &[u32],
        buffers: Vec<Arc<Buffer>>,
        groups: Groups,
    ) {
        let align = (self.dev.limits.storage_offset_alignment as usize / 4).max(1);
        let all = &mut self.batch.params;
        // Looked up by slice: only a new run allocates its key.
        let start = match self.batch.runs.get(params) {
            Some(&start) => start,
            None => {
                let start = all.len().next_multiple_of(align);
                all.resize(start, 0);
                all.extend_from_slice(params);
                self.batch.runs.insert(params.to_vec(), start);
                start
            }
        };
        let end = start + params.len().max(1);
        if all.len() < end {
            all.push(0);
        }
        self.batch.dispatches.push(Dispatch {
            pipeline,
            op: self.op,
            buffers: buffers.iter().map(|b| b.raw().clone()).collect(),
            params: start..end,
            groups,
        });
    }

    /// Writes `bytes` into a buffer now, ordered before the batch's work
    /// (so only into a buffer no queued dispatch uses: see
    /// [`Encoder::alloc_upload`]).
    pub fn upload(&self, buffer: &Buffer, bytes: &[u8]) -> Result<()> {
        self.dev.write(buffer.raw(), bytes)
    }

    /// How many dispatches the batch holds.
    pub fn dispatch_count(&self) -> usize {
        self.batch.dispatches.len()
    }

    /// Records the batch into one command buffer and submits it.
    pub fn submit(self) -> Result<()> {
        let Encoder { dev, batch, .. } = self;
        if batch.is_empty() {
            return Ok(());
        }
        let mut encoder = dev
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kiln"),
            });
        // The parameters' buffer is held until submitted (a buffer back in
        // the pool may be written for other work at once).
        let (_params, timed) = if batch.dispatches.is_empty() {
            (None, None)
        } else {
            let (params, timed) = record_dispatches(&dev, &batch, &mut encoder)?;
            (Some(params), Some(timed))
        };
        for copy in &batch.readbacks {
            encoder.copy_buffer_to_buffer(
                copy.source.raw(),
                copy.offset,
                &copy.staging,
                0,
                copy.size,
            );
        }
        dev.queue.submit(Some(encoder.finish()));
        let mut recording = dev.profile.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(recording), Some(timed)) = (recording.as_mut(), timed) {
            for (first, count, staging) in timed {
                let (sender, ready) = futures_channel::oneshot::channel();
                staging.map_async(wgpu::MapMode::Read, .., move |result| {
                    let _ = sender.send(result);
                });
                recording.pending.push(PendingTimes {
                    first,
                    count,
                    staging,
                    ready,
                });
            }
        }
        Ok(())
    }
}

/// Encodes the batch's dispatches: in one compute pass, or each in its own
/// while a profile records. Returns the parameters' buffer and the
/// profile's timestamp buffers to map.
fn record_dispatches(
    dev: &Device,
    batch: &Batch,
    encoder: &mut wgpu::CommandEncoder,
) -> Result<(Arc<Buffer>, Vec<TimedRuns>)> {
    let params = dev.alloc((batch.params.len() * 4) as u64)?;
    dev.write(params.raw(), bytemuck::cast_slice(&batch.params))?;
    let mut binder = Binder {
        dev,
        params: params.raw(),
        bind_groups: HashMap::new(),
    };
    let mut recording = dev.profile.lock().unwrap_or_else(|e| e.into_inner());
    let timed = match recording.as_mut() {
        Some(recording) => record_runs(dev, batch, recording, encoder, &mut binder),
        None => {
            // Every dispatch of the batch shares one compute pass.
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes: None,
            });
            for command in &batch.dispatches {
                binder.encode(&mut pass, command);
            }
            Vec::new()
        }
    };
    drop(binder);
    Ok((params, timed))
}

/// Runs of a profile timed with one query set: the index of the first, how
/// many, and the buffer their stamps are copied to.
type TimedRuns = (usize, usize, wgpu::Buffer);

/// Dispatches timed with one query set (two stamps each; wgpu allows 4096
/// queries per set).
const TIMED_PER_SET: usize = 2048;

/// Appends the batch's dispatches to a profile's runs and encodes them, each
/// in a compute pass of its own stamped at its start and end where the
/// device has timestamps. Returns per query set the index of its first
/// run, how many it times and the buffer its stamps will be copied to.
fn record_runs(
    dev: &Device,
    batch: &Batch,
    recording: &mut Recording,
    encoder: &mut wgpu::CommandEncoder,
    binder: &mut Binder<'_>,
) -> Vec<TimedRuns> {
    let first = recording.runs.len();
    recording
        .runs
        .extend(batch.dispatches.iter().map(|command| KernelRun {
            kernel: command.pipeline.name.clone(),
            op: command.op,
            workgroups: match command.groups {
                Groups::Direct(groups) => Some(groups),
                Groups::Indirect(_) => None,
            },
            bytes: command.buffers.iter().map(wgpu::Buffer::size).sum(),
            start_ns: None,
            gpu_ns: None,
        }));
    let mut timed = Vec::new();
    for (chunk, commands) in batch.dispatches.chunks(TIMED_PER_SET).enumerate() {
        let queries = dev.timestamps.then(|| {
            dev.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("kiln profile"),
                ty: wgpu::QueryType::Timestamp,
                count: (commands.len() * 2) as u32,
            })
        });
        for (i, command) in commands.iter().enumerate() {
            let timestamp_writes = queries
                .as_ref()
                .map(|set| wgpu::ComputePassTimestampWrites {
                    query_set: set,
                    beginning_of_pass_write_index: Some(2 * i as u32),
                    end_of_pass_write_index: Some(2 * i as u32 + 1),
                });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes,
            });
            binder.encode(&mut pass, command);
        }
        let Some(set) = queries else { continue };
        let bytes = (commands.len() * 16) as u64;
        let resolved = dev.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kiln profile stamps"),
            size: bytes,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = dev.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kiln profile readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.resolve_query_set(&set, 0..(commands.len() * 2) as u32, &resolved, 0);
        encoder.copy_buffer_to_buffer(&resolved, 0, &staging, 0, bytes);
        timed.push((first + chunk * TIMED_PER_SET, commands.len(), staging));
    }
    timed
}

/// Encodes dispatches into compute passes, sharing bind groups.
struct Binder<'a> {
    dev: &'a Device,
    params: &'a wgpu::Buffer,
    /// Dispatches that repeat a pipeline, buffers and parameters share a
    /// bind group. wgpu's handles hash and compare by their resource ids,
    /// which their inner state never changes.
    bind_groups: HashMap<BindingKey, wgpu::BindGroup>,
}

impl Binder<'_> {
    fn encode(&mut self, pass: &mut wgpu::ComputePass<'_>, command: &Dispatch) {
        let Dispatch {
            pipeline,
            buffers,
            params: range,
            groups,
            ..
        } = command;
        let key = (pipeline.raw.clone(), buffers.clone(), range.start);
        #[allow(clippy::mutable_key_type)]
        let bind_groups = &mut self.bind_groups;
        let bind_group = bind_groups.entry(key).or_insert_with(|| {
            let layout = pipeline.raw.get_bind_group_layout(0);
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: self.params,
                    offset: (range.start * 4) as u64,
                    size: wgpu::BufferSize::new((range.len() * 4) as u64),
                }),
            }];
            for (b, buffer) in buffers.iter().enumerate() {
                entries.push(wgpu::BindGroupEntry {
                    binding: b as u32 + 1,
                    resource: buffer.as_entire_binding(),
                });
            }
            self.dev
                .device
                .create_bind_group(&wgpu::BindGroupDescriptor {
                    label: None,
                    layout: &layout,
                    entries: &entries,
                })
        });
        pass.set_pipeline(&pipeline.raw);
        pass.set_bind_group(0, &*bind_group, &[]);
        match groups {
            Groups::Direct([x, y, z]) => pass.dispatch_workgroups(*x, *y, *z),
            Groups::Indirect(buffer) => pass.dispatch_workgroups_indirect(buffer, 0),
        }
    }
}

/// What a bind group is made of: pipeline, buffers, start of the parameters.
type BindingKey = (wgpu::ComputePipeline, Vec<wgpu::Buffer>, usize);

impl From<wgpu::BufferAsyncError> for Error {
    fn from(e: wgpu::BufferAsyncError) -> Self {
        Error::Eval(format!("reading a buffer back failed: {e}"))
    }
}
