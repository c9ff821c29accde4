//! The device layer: wgpu device and queue, buffer pool, pipeline cache,
//! the scheduler that encodes graphs, readback, and the kernels.

pub mod device;
pub(crate) mod encoder;
pub(crate) mod eval;
pub mod kernels;
pub mod limits;
pub mod pool;
pub(crate) mod readback;
