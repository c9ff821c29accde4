//! The device layer: the `Backend` interface the scheduler talks to, and
//! its wgpu implementation (device and queue, buffer pool, pipeline cache,
//! readback, and the kernels).
//!
//! Nothing here knows the public ops, the transforms or lowering: the
//! backend encodes one lowered primitive at a time.

pub mod device;
pub(crate) mod encoder;
pub mod kernels;
pub mod limits;
pub mod pool;
pub mod profile;
pub(crate) mod wgpu;

use crate::array::{Array, DeviceData};
use crate::dtype::Element;
use crate::error::Result;
use limits::KernelLimits;

/// What the scheduler needs of a device: its kernels' limits (for
/// lowering), a batch of queued work to encode lowered primitives into, and
/// reading values back. Allocation and upload happen as nodes are encoded
/// (a constant's encoding is its upload); submission is the backend's
/// choice, and reads submit what is queued.
pub(crate) trait Backend {
    /// The queued work one evaluation adds to (held for its duration, so
    /// that evaluations on several threads do not interleave).
    type Batch<'a>
    where
        Self: 'a;

    /// What one kernel can compute; the scheduler lowers the rest.
    fn kernel_limits(&self) -> KernelLimits;

    /// Takes the queued work for an evaluation to add to.
    fn begin(&self) -> Self::Batch<'_>;

    /// Encodes the kernels computing `node`, a primitive one kernel can
    /// compute, whose inputs are evaluated; where its values will be.
    fn encode(&self, batch: &mut Self::Batch<'_>, node: &Array) -> Result<DeviceData>;

    /// Kernels encoded into `batch` since [`Backend::begin`].
    fn dispatches(batch: &Self::Batch<'_>) -> usize;

    /// Drops what was encoded since [`Backend::begin`] (after an error).
    fn abandon(&self, batch: &mut Self::Batch<'_>);

    /// Queues the batch for later evaluations, submitting it if the
    /// backend sees fit.
    fn finish(&self, batch: Self::Batch<'_>) -> Result<()>;

    /// The values of `data`, a view of `shape` holding `T`s that this
    /// backend computed, row-major; waits for the work that computes them.
    async fn read<T: Element>(&self, data: &DeviceData, shape: &[usize]) -> Result<Vec<T>>;
}
