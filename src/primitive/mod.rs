//! The closed set of primitives that graph nodes are made of, and the op
//! tables of the elementwise ones. Every other op is composed from these in
//! `src/ops/`; the graph, the transforms and the backends all read them.

pub mod elementwise;
pub mod math;

use crate::array::Array;
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
pub use elementwise::{BinaryHost, BinaryOp, HostValue, PerType, UnaryHost, UnaryOp};
use std::sync::{Arc, OnceLock};

/// Reductions over a set of axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// The sum of the elements.
    Sum,
    /// The product of the elements.
    Prod,
    /// The largest element.
    Max,
    /// The smallest element.
    Min,
    /// The index of the largest element, as int32.
    ArgMax,
    /// The index of the smallest element, as int32.
    ArgMin,
    /// Whether every element is true (nonzero).
    All,
    /// Whether any element is true (nonzero).
    Any,
}

impl ReduceOp {
    /// Every reduction, sums and products first.
    pub const ALL: [ReduceOp; 8] = [
        ReduceOp::Sum,
        ReduceOp::Prod,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::ArgMax,
        ReduceOp::ArgMin,
        ReduceOp::All,
        ReduceOp::Any,
    ];

    /// The op name (`sum`, `argmax`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::ArgMax => "argmax",
            ReduceOp::ArgMin => "argmin",
            ReduceOp::All => "all",
            ReduceOp::Any => "any",
        }
    }

    /// Whether the reduction gives indices (`ArgMax`, `ArgMin`).
    pub fn is_arg(self) -> bool {
        matches!(self, ReduceOp::ArgMax | ReduceOp::ArgMin)
    }
}

/// Inclusive scans along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanOp {
    /// Running sums (`cumsum`).
    Sum,
    /// Running products (`cumprod`).
    Prod,
}

/// The linear-algebra kernels (float32, batched over leading axes). Each
/// packs its results into one array that the `linalg` ops slice apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinalgOp {
    /// `(..., m, n)` to `(..., m, n + 2)`: L and U packed, then columns of
    /// the row permutation and the LAPACK pivots as int32 bits.
    LuFactor,
    /// `(..., n, n)` symmetric to its lower Cholesky factor.
    Cholesky,
    /// `T X = B` for triangular `T (..., n, n)` and `B (..., n, k)`.
    TriangularSolve {
        /// `T` is lower triangular (else upper).
        lower: bool,
        /// The diagonal of `T` is taken as ones without being read.
        unit: bool,
    },
    /// `(..., m, n)` to `(..., m, k + n)`: Q (`k` columns: `m` when
    /// `complete`, else `min(m, n)`) beside R (`k` rows).
    Qr {
        /// Give the complete `m x m` Q rather than the reduced one.
        complete: bool,
    },
    /// `(..., m, n)`, `m >= n`, to `(..., m, 2 n)`: the upper triangular T of
    /// the compact WY form, then R with the Householder vectors below its
    /// diagonal (the panels of blocked QR).
    Householder,
    /// `(..., n, n)` symmetric to `(..., n + 1, n)`: the eigenvectors, then
    /// the eigenvalues (unsorted).
    Eigh,
    /// `(..., m, n)`, `m >= n`, to `(..., m + n + 1, p)`: U (`p` columns:
    /// `m` when `full`, else `n`), V, then the singular values (unsorted).
    Svd {
        /// Give the full `m x m` U rather than the reduced one.
        full: bool,
    },
}

impl LinalgOp {
    /// The op name used in messages and pipeline names.
    pub fn name(self) -> &'static str {
        match self {
            LinalgOp::LuFactor => "lu_factor",
            LinalgOp::Cholesky => "cholesky",
            LinalgOp::TriangularSolve { .. } => "solve_triangular",
            LinalgOp::Qr { .. } => "qr",
            LinalgOp::Householder => "householder",
            LinalgOp::Eigh => "eigh",
            LinalgOp::Svd { .. } => "svd",
        }
    }
}

/// What a node computes from its inputs. The output shape and dtype live on
/// the node.
#[derive(Debug, Clone)]
pub enum Primitive {
    /// Data given from the host; uploaded at evaluation.
    Constant,
    /// `start + i * step` along a 1-D output.
    Arange {
        /// The first value.
        start: f64,
        /// The difference between consecutive values.
        step: f64,
    },
    /// Every element equal to a scalar.
    Full(Scalar),
    /// A unary elementwise op.
    Unary(UnaryOp),
    /// A binary elementwise op of two inputs broadcast to the node's shape.
    Binary(BinaryOp),
    /// `where(cond, x, y)`.
    Where,
    /// Value conversion to the node's dtype.
    AsType,
    /// Reinterprets the bits as the node's dtype (same element size).
    BitCast,
    /// Reduces `axes` (sorted, distinct) away.
    Reduce {
        /// The reduction.
        op: ReduceOp,
        /// The input axes reduced, sorted and distinct.
        axes: Vec<usize>,
    },
    /// Inclusive scan along `axis`, backwards when `reverse`.
    Scan {
        /// The scan.
        op: ScanOp,
        /// The axis scanned along.
        axis: usize,
        /// Scan from the last element to the first.
        reverse: bool,
    },
    /// A view with the node's shape (a copy when the layout does not allow a view).
    Reshape,
    /// A view with permuted axes.
    Transpose(Vec<usize>),
    /// A view broadcast to the node's shape.
    Broadcast,
    /// A view of every `step[d]`-th element from `start[d]` along each axis.
    Slice {
        /// The first index taken along each axis.
        start: Vec<usize>,
        /// The stride along each axis; negative runs backwards.
        step: Vec<isize>,
    },
    /// A view of a diagonal: `axis1` and `axis2` are replaced by a last axis.
    Diagonal {
        /// Which diagonal: elements `[i, i + offset]`, positive above the
        /// main one, negative below.
        offset: isize,
        /// The axis of the diagonal's rows.
        axis1: usize,
        /// The axis of the diagonal's columns.
        axis2: usize,
    },
    /// Inputs joined along `axis`.
    Concatenate {
        /// The axis the inputs are joined along.
        axis: usize,
    },
    /// The input placed in a larger array filled with `value`, `low[d]` from the start.
    Pad {
        /// The padding before the input along each axis.
        low: Vec<usize>,
        /// The fill value.
        value: Scalar,
    },
    /// `take_along_axis(a, indices, axis)`, indices broadcast to the output shape.
    Gather {
        /// The axis the indices select along.
        axis: usize,
    },
    /// `a` with `updates` added at `indices` along `axis` (inverse of `Gather`).
    ScatterAdd {
        /// The axis the indices select along.
        axis: usize,
    },
    /// Batched matrix product over broadcast batch dimensions.
    Matmul,
    /// Softmax, or log-softmax when `log`, of float32 values along the last axis.
    Softmax {
        /// Give log-softmax instead of softmax.
        log: bool,
    },
    /// `(x - mean) / √(var + eps)` of float32 values along the last axis
    /// (biased variance), or `x / √(mean(x²) + eps)` when `rms`.
    Normalize {
        /// Added to the variance (or mean square).
        eps: f64,
        /// Root-mean-square normalisation: no mean is subtracted.
        rms: bool,
    },
    /// `Normalize`'s derivative at `x` applied to `g` (inputs `x`, `g`):
    /// its Jacobian is symmetric, so this is both the vector-Jacobian and
    /// the Jacobian-vector product.
    NormalizeGrad {
        /// As in `Normalize`.
        eps: f64,
        /// As in `Normalize`.
        rms: bool,
    },
    /// The sum of the squares of every element of the float32 inputs (at
    /// most [`MAX_FUSED_INPUTS`]), a float32 scalar.
    SquaredNorm,
    /// Scaled dot-product attention as one kernel (no score matrix in
    /// memory): float32 queries `(..., Lq, D)`, keys `(..., Lk, D)` and
    /// values `(..., Lk, Dv)` of one batch shape, and optionally an
    /// additive float32 mask `(..., Lq or 1, Lk)` whose batch axes are 1 or
    /// the batch's. The output `(..., Lq, Dv + 1)` holds each query's
    /// result, then the log-sum-exp of its scores (which the derivative
    /// reads).
    Attention {
        /// The scores are `scale q kᵀ`.
        scale: f64,
        /// Query `i` sees keys `j ≤ i + Lk - Lq` only.
        causal: bool,
    },
    /// `Attention`'s derivative as one kernel, from its inputs `q`, `k`,
    /// `v`, `stats` `(..., Lq, 2)` (each query's log-sum-exp, and the sum
    /// of its output times the output's cotangent less the log-sum-exp's
    /// cotangent), the output's cotangent `(..., Lq, Dv)`, and the mask
    /// when there is one: the queries' gradient `(..., Lq, D)`, or the
    /// keys' beside the values' `(..., Lk, D + Dv)`.
    AttentionGrad {
        /// As in `Attention`.
        scale: f64,
        /// As in `Attention`.
        causal: bool,
        /// Give the keys' and values' gradients (else the queries').
        keys: bool,
    },
    /// Indices that sort the last axis (stable; NaN last, or first when descending).
    ArgSort {
        /// Sort from largest to smallest.
        descending: bool,
    },
    /// A factorization or triangular solve (see [`LinalgOp`]).
    Linalg(LinalgOp),
    /// The threefry2x32 hash of counter pairs `(..., 2)` under a key `(2,)`.
    Threefry,
    /// The input unchanged, with no derivative.
    StopGradient,
    /// The last input unchanged (the output of a function of the other
    /// inputs), differentiated by a user's rule.
    Custom(Arc<CustomVjp>),
    /// A stand-in for an argument while a transform traces a function;
    /// it has no values.
    Placeholder,
    /// Elementwise primitives run as one kernel over inputs broadcast to
    /// the node's shape (made by [`crate::compile`]); a chain with several
    /// roots gives them stacked along a new first axis.
    Fused(Arc<Fused>),
}

/// A fused kernel reads at most this many arrays: WebGPU guarantees 8
/// storage buffers per stage, and the kernel also binds its output and
/// its parameters.
pub const MAX_FUSED_INPUTS: usize = 6;

/// A fused kernel nests one call per step in a single expression; WGSL
/// compilers limit how deep expressions nest.
pub const MAX_FUSED_STEPS: usize = 64;

/// A chain of elementwise primitives run as one kernel. The backend
/// generates the kernel from the steps (and keeps it in `kernel`).
#[derive(Debug)]
pub struct Fused {
    /// The chain, inputs before users.
    pub steps: Vec<FusedStep>,
    /// The steps whose values the kernel writes: the last step, or for
    /// several, each in turn along a first axis of the result.
    pub roots: Vec<usize>,
    /// The dtypes of the kernel's inputs.
    pub inputs: Vec<DType>,
    /// 0-d host constants written into the kernel (see [`Fused::can_inline`]).
    pub constants: Vec<Array>,
    /// The constants' bytes as the chain was made (an evaluation may move
    /// a constant's data to the device before the kernel is generated).
    pub(crate) constant_bytes: Vec<Option<Vec<u8>>>,
    /// The backend's kernel for this chain, made on first use.
    pub(crate) kernel: OnceLock<Arc<dyn std::any::Any + Send + Sync>>,
}

impl Fused {
    /// A fused chain over inputs of `inputs` dtypes.
    pub fn new(steps: Vec<FusedStep>, inputs: Vec<DType>, constants: Vec<Array>) -> Fused {
        Fused {
            roots: vec![steps.len().saturating_sub(1)],
            steps,
            inputs,
            constant_bytes: constants.iter().map(Array::host_scalar_bytes).collect(),
            constants,
            kernel: OnceLock::new(),
        }
    }

    /// The host bytes of constant `k`, as the chain was made.
    pub(crate) fn constant_host_bytes(&self, k: usize) -> Result<&[u8]> {
        self.constant_bytes[k]
            .as_deref()
            .ok_or_else(|| Error::Eval("fused kernel: a constant is not a host scalar".into()))
    }

    /// The chain giving the values of `roots` (of one dtype, not bool),
    /// stacked along a new first axis.
    pub fn with_roots(self, roots: Vec<usize>) -> Fused {
        Fused { roots, ..self }
    }

    /// Whether the chain gives several results (stacked).
    pub fn is_stacked(&self) -> bool {
        self.roots.len() > 1
    }

    /// Whether `a` can be written into a fused kernel as a constant: a 0-d
    /// array whose value is still on the host, and for floats finite and
    /// nonzero. Vulkan drivers may assume no float op makes an infinity or
    /// a NaN (unless told to preserve them), so a literal infinity, NaN or
    /// zero divisor lets them fold the result to anything (lavapipe made
    /// sin(x / 0) zero); such constants are read from memory instead.
    pub fn can_inline(a: &Array) -> bool {
        let Some(bytes) = a.host_scalar_bytes() else {
            return false;
        };
        let value = match a.dtype() {
            DType::F32 => f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            DType::F16 => half::f16::from_le_bytes([bytes[0], bytes[1]]).to_f32(),
            DType::I32 | DType::U32 | DType::Bool => return true,
        };
        value.is_finite() && value != 0.0
    }
}

/// One elementwise primitive of a [`Fused`] chain.
#[derive(Debug, Clone)]
pub struct FusedStep {
    /// `Unary`, `Binary`, `Where` or `AsType`.
    pub primitive: Primitive,
    /// The step's result dtype.
    pub dtype: DType,
    /// Where each operand comes from.
    pub inputs: Vec<FusedInput>,
}

/// Why a [`Primitive::Placeholder`] cannot be evaluated.
pub(crate) const PLACEHOLDER_READ: &str = "a traced function read the values of an argument \
    of vmap or compile; transformed functions cannot branch on their arguments' values";

/// Where a fused step's operand comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FusedInput {
    /// The kernel's input `k`.
    Input(usize),
    /// An earlier step of the chain.
    Step(usize),
    /// The scalar `constants[k]`, written into the kernel.
    Constant(usize),
}

impl Primitive {
    /// Whether the primitive computes each output element from the same
    /// element of its (broadcast) inputs.
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Primitive::Unary(_) | Primitive::Binary(_) | Primitive::Where | Primitive::AsType
        )
    }
}

/// A backward rule given to [`crate::custom_vjp`]: from the primal inputs,
/// the output and the output's cotangent, the inputs' cotangents.
pub type BackwardFn = dyn Fn(&[Array], &Array, &Array) -> Result<Vec<Array>> + Send + Sync;

/// The rule of a [`Primitive::Custom`] node.
pub struct CustomVjp {
    /// The backward rule.
    pub backward: Box<BackwardFn>,
}

impl std::fmt::Debug for CustomVjp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomVjp")
    }
}

impl Primitive {
    /// The op name used in messages and pipeline names.
    pub fn name(&self) -> &'static str {
        match self {
            Primitive::Constant => "constant",
            Primitive::Arange { .. } => "arange",
            Primitive::Full(_) => "full",
            Primitive::Unary(op) => op.name(),
            Primitive::Binary(op) => op.name(),
            Primitive::Where => "where",
            Primitive::AsType => "astype",
            Primitive::BitCast => "view",
            Primitive::Reduce { op, .. } => op.name(),
            Primitive::Scan {
                op: ScanOp::Sum, ..
            } => "cumsum",
            Primitive::Scan {
                op: ScanOp::Prod, ..
            } => "cumprod",
            Primitive::Reshape => "reshape",
            Primitive::Transpose(_) => "transpose",
            Primitive::Broadcast => "broadcast_to",
            Primitive::Slice { .. } => "slice",
            Primitive::Diagonal { .. } => "diagonal",
            Primitive::Concatenate { .. } => "concatenate",
            Primitive::Pad { .. } => "pad",
            Primitive::Gather { .. } => "take_along_axis",
            Primitive::ScatterAdd { .. } => "scatter_add",
            Primitive::Matmul => "matmul",
            Primitive::Softmax { log: false } => "softmax",
            Primitive::Softmax { log: true } => "log_softmax",
            Primitive::Normalize { rms: false, .. } => "layer_norm",
            Primitive::Normalize { rms: true, .. } => "rms_norm",
            Primitive::NormalizeGrad { .. } => "normalize_grad",
            Primitive::SquaredNorm => "squared_norm",
            Primitive::Attention { .. } => "attention",
            Primitive::AttentionGrad { .. } => "attention_grad",
            Primitive::ArgSort { .. } => "argsort",
            Primitive::Linalg(op) => op.name(),
            Primitive::Threefry => "threefry2x32",
            Primitive::StopGradient => "stop_gradient",
            Primitive::Custom(_) => "custom_vjp",
            Primitive::Placeholder => "placeholder",
            Primitive::Fused(_) => "fused",
        }
    }

    /// The variant's name, the same for every op of a variant (`unary`,
    /// `binary`, `reduce`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Primitive::Unary(_) => "unary",
            Primitive::Binary(_) => "binary",
            Primitive::Reduce { .. } => "reduce",
            Primitive::Scan { .. } => "scan",
            Primitive::Softmax { .. } => "softmax",
            Primitive::Normalize { .. } => "normalize",
            Primitive::Linalg(_) => "linalg",
            other => other.name(),
        }
    }

    /// Every variant's [`Primitive::kind`].
    pub const KINDS: &'static [&'static str] = &[
        "constant",
        "arange",
        "full",
        "unary",
        "binary",
        "where",
        "astype",
        "view",
        "reduce",
        "scan",
        "reshape",
        "transpose",
        "broadcast_to",
        "slice",
        "diagonal",
        "concatenate",
        "pad",
        "take_along_axis",
        "scatter_add",
        "matmul",
        "softmax",
        "normalize",
        "normalize_grad",
        "squared_norm",
        "attention",
        "attention_grad",
        "argsort",
        "linalg",
        "threefry2x32",
        "stop_gradient",
        "custom_vjp",
        "placeholder",
        "fused",
    ];
}
