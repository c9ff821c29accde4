//! `Array`: a cheap, cloneable handle to a node of the lazy graph.

use crate::dtype::{DType, Element, Scalar};
use crate::error::{bail, fmt_shape, Result};
use crate::primitive::Primitive;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The most axes an array may have (the strided kernels index up to this
/// many).
pub const MAX_NDIM: usize = 16;

/// The element count of a shape a caller asks for, or an error for `op`
/// when the shape has more axes than kernels index (16) or more elements
/// than memory can address (as NumPy, counting the nonzero axes, so a huge
/// empty shape is refused too).
pub(crate) fn check_shape(op: &'static str, shape: &[usize]) -> Result<usize> {
    if shape.len() > MAX_NDIM {
        bail!(
            op,
            "shape has {} dimensions; kiln arrays have at most {MAX_NDIM}",
            shape.len()
        );
    }
    // 8 bytes: the widest element a shape may be read as.
    let bytes = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(8usize, |acc, &d| acc.checked_mul(d))
        .filter(|&b| b <= isize::MAX as usize);
    if bytes.is_none() {
        bail!(op, "shape {} is too large", fmt_shape(shape));
    }
    Ok(shape.iter().product())
}

/// An n-dimensional array. Cloning is cheap (it shares the node). Ops build
/// graph nodes; nothing runs on the GPU until [`Array::eval`] or a read.
#[derive(Clone)]
pub struct Array(pub(crate) Arc<Node>);

pub(crate) struct Node {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub primitive: Primitive,
    /// The arrays this node is computed from; dropped once it is evaluated.
    pub inputs: Mutex<Vec<Array>>,
    pub data: Mutex<Option<Data>>,
}

/// Where a node's values are.
pub(crate) enum Data {
    /// Host bytes of a constant, not yet uploaded.
    Host(Vec<u8>),
    /// A strided view over a GPU buffer.
    Device(DeviceData),
}

/// A buffer of the backend that computed a node, opaque to the graph (the
/// backend knows its type).
pub(crate) type Storage = Arc<dyn std::any::Any + Send + Sync>;

/// A strided view over a backend's buffer, in elements.
#[derive(Clone)]
pub(crate) struct DeviceData {
    pub buffer: Storage,
    pub strides: Vec<isize>,
    pub offset: usize,
}

/// Row-major strides of a contiguous array of `shape`.
pub(crate) fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut step = 1isize;
    for d in (0..shape.len()).rev() {
        strides[d] = step;
        step *= shape[d].max(1) as isize;
    }
    strides
}

/// Whether `strides` walk `shape` in row-major order without gaps (size-1
/// axes may have any stride).
pub(crate) fn is_contiguous(shape: &[usize], strides: &[isize]) -> bool {
    let mut step = 1isize;
    for d in (0..shape.len()).rev() {
        if shape[d] != 1 && strides[d] != step {
            return false;
        }
        step *= shape[d] as isize;
    }
    true
}

/// `axis` (negative counts from the end) checked against `ndim`.
pub fn normalize_axis(op: &'static str, axis: i32, ndim: usize) -> Result<usize> {
    let n = ndim as i64;
    let a = axis as i64;
    if a < -n || a >= n {
        bail!(
            op,
            "axis {axis} is out of bounds for an array of dimension {ndim}"
        );
    }
    Ok(if a < 0 { (a + n) as usize } else { a as usize })
}

/// How many traces are running, on any thread: a trace may walk nodes that
/// another thread is evaluating.
static RETAIN: AtomicUsize = AtomicUsize::new(0);

/// While alive, evaluation keeps evaluated nodes' inputs and intermediate
/// values, so that a transform can still walk the graph of a function
/// that read some values.
pub(crate) struct RetainGraph(());

impl RetainGraph {
    pub fn new() -> RetainGraph {
        RETAIN.fetch_add(1, Ordering::SeqCst);
        RetainGraph(())
    }
}

impl Drop for RetainGraph {
    fn drop(&mut self) {
        RETAIN.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether a transform is tracing (evaluation then keeps the graph).
pub(crate) fn retaining_graph() -> bool {
    RETAIN.load(Ordering::SeqCst) > 0
}

impl Drop for Node {
    // Long unevaluated chains would otherwise drop recursively and overflow the stack.
    fn drop(&mut self) {
        let mut stack: Vec<Array> =
            std::mem::take(self.inputs.get_mut().unwrap_or_else(|e| e.into_inner()));
        while let Some(mut array) = stack.pop() {
            if let Some(node) = Arc::get_mut(&mut array.0) {
                stack.append(node.inputs.get_mut().unwrap_or_else(|e| e.into_inner()));
            }
        }
    }
}

impl Array {
    /// A new graph node (ops call this after checking their arguments).
    pub(crate) fn from_primitive(
        shape: Vec<usize>,
        dtype: DType,
        primitive: Primitive,
        inputs: Vec<Array>,
    ) -> Array {
        Array(Arc::new(Node {
            shape,
            dtype,
            primitive,
            inputs: Mutex::new(inputs),
            data: Mutex::new(None),
        }))
    }

    /// An array holding `values` with `shape` (row-major).
    ///
    /// ```
    /// let a = kiln::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// assert_eq!(a.shape(), &[2, 2]);
    /// # Ok::<(), kiln::Error>(())
    /// ```
    pub fn from_slice<T: Element>(values: &[T], shape: &[usize]) -> Result<Array> {
        let size = check_shape("array", shape)?;
        if size != values.len() {
            bail!(
                "array",
                "{} values cannot fill shape {}",
                values.len(),
                fmt_shape(shape)
            );
        }
        Ok(Array::from_bytes(
            T::encode(values),
            shape.to_vec(),
            T::DTYPE,
        ))
    }

    pub(crate) fn from_bytes(bytes: Vec<u8>, shape: Vec<usize>, dtype: DType) -> Array {
        let array = Array::from_primitive(shape, dtype, Primitive::Constant, vec![]);
        *array.0.data.lock().unwrap_or_else(|e| e.into_inner()) = Some(Data::Host(bytes));
        array
    }

    /// The bytes of a 0-d array whose value is still on the host.
    pub(crate) fn host_scalar_bytes(&self) -> Option<Vec<u8>> {
        if self.ndim() != 0 || !matches!(self.primitive(), Primitive::Constant) {
            return None;
        }
        match &*self.data() {
            Some(Data::Host(bytes)) => Some(bytes.clone()),
            _ => None,
        }
    }

    /// A 0-d array holding `value`.
    pub fn scalar<T: Element>(value: T) -> Array {
        Array::from_bytes(T::encode(&[value]), vec![], T::DTYPE)
    }

    /// A 0-d array of `dtype` holding `value` converted to it.
    pub fn scalar_of(value: impl Into<Scalar>, dtype: DType) -> Array {
        let bits = value.into().bits_as(dtype);
        let bytes = match dtype {
            DType::F16 => half::f16::from_f32(f32::from_bits(bits))
                .to_bits()
                .to_le_bytes()
                .to_vec(),
            _ => bits.to_le_bytes().to_vec(),
        };
        Array::from_bytes(bytes, vec![], dtype)
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.0.shape
    }

    /// The number of dimensions.
    pub fn ndim(&self) -> usize {
        self.0.shape.len()
    }

    /// The number of elements.
    pub fn size(&self) -> usize {
        self.0.shape.iter().product()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    /// The size of axis `axis` (negative counts from the end).
    pub fn dim(&self, axis: i32) -> Result<usize> {
        let a = normalize_axis("dim", axis, self.ndim())?;
        Ok(self.0.shape[a])
    }

    pub(crate) fn primitive(&self) -> &Primitive {
        &self.0.primitive
    }

    pub(crate) fn inputs(&self) -> MutexGuard<'_, Vec<Array>> {
        self.0.inputs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn data(&self) -> MutexGuard<'_, Option<Data>> {
        self.0.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The evaluated view, if the array is on the device.
    pub(crate) fn device_data(&self) -> Option<DeviceData> {
        match &*self.data() {
            Some(Data::Device(d)) => Some(d.clone()),
            _ => None,
        }
    }

    /// Whether the values are computed (or being computed) on the device.
    pub fn is_evaluated(&self) -> bool {
        matches!(&*self.data(), Some(Data::Device(_)))
    }

    /// Identity of the node, for graph walks.
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// Computes the array (and what it depends on) on the GPU: its kernels
    /// are queued and submitted with others once enough are queued, or when
    /// anything is read back or [`crate::synchronize`]d.
    pub fn eval(&self) -> Result<()> {
        crate::scheduler::eval(&[self])
    }

    /// The values, row-major, read back asynchronously (works on every target).
    pub async fn to_vec_async<T: Element>(&self) -> Result<Vec<T>> {
        if T::DTYPE != self.dtype() {
            bail!(
                "to_vec",
                "the array has dtype {}, not {}; use astype first",
                self.dtype(),
                T::DTYPE
            );
        }
        if self.size() > 0 {
            self.eval()?;
        }
        crate::scheduler::read(self).await
    }

    /// The values, row-major. Blocks until the GPU is done (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        pollster::block_on(self.to_vec_async())
    }

    /// The one value of a size-1 array (native only; blocks).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn item<T: Element>(&self) -> Result<T> {
        pollster::block_on(self.item_async())
    }

    /// The one value of a size-1 array, read back asynchronously.
    pub async fn item_async<T: Element>(&self) -> Result<T> {
        if self.size() != 1 {
            bail!(
                "item",
                "only size-1 arrays have an item, not shape {}",
                fmt_shape(self.shape())
            );
        }
        Ok(self.to_vec_async::<T>().await?[0])
    }

    /// The values as f64, whatever the dtype (for printing and tests).
    pub async fn to_f64_vec_async(&self) -> Result<Vec<f64>> {
        Ok(match self.dtype() {
            DType::F32 => self
                .to_vec_async::<f32>()
                .await?
                .into_iter()
                .map(f64::from)
                .collect(),
            DType::F16 => self
                .to_vec_async::<half::f16>()
                .await?
                .into_iter()
                .map(|v| v.to_f64())
                .collect(),
            DType::I32 => self
                .to_vec_async::<i32>()
                .await?
                .into_iter()
                .map(f64::from)
                .collect(),
            DType::U32 => self
                .to_vec_async::<u32>()
                .await?
                .into_iter()
                .map(f64::from)
                .collect(),
            DType::Bool => self
                .to_vec_async::<bool>()
                .await?
                .into_iter()
                .map(|b| b as u8 as f64)
                .collect(),
        })
    }
}

impl std::fmt::Debug for Array {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Array(shape={}, dtype={})",
            fmt_shape(self.shape()),
            self.dtype()
        )
    }
}

/// Evaluates several arrays together (their kernels queued in one batch).
pub fn eval(arrays: &[&Array]) -> Result<()> {
    crate::scheduler::eval(arrays)
}
