//! Random programs of ops over random shapes (0-d, empty, broadcast,
//! strided and negative-step views) and dtypes, as proptest strategies:
//! the fuzz tests check their properties (`tests/fuzz_programs.rs`) and
//! compare the backends on them (`tests/differential.rs`).

use super::noise::uniform;
use kiln::{Array, Axes, DType, Result, Slice};
use proptest::prelude::*;

/// One step of a program, applied to the current array `y` (and the
/// second input `x2` where its shape broadcasts against `y`'s). Steps
/// whose arguments do not fit `y` (an axis beyond its rank) are skipped,
/// the same way in every transform, since only shapes decide.
#[derive(Debug, Clone)]
pub enum Step {
    Unary(usize),
    /// y op x2, or y op flip(y) when x2 does not broadcast.
    Binary(usize),
    /// y op sum(y, axis, keepdims): a broadcast back over the axis.
    WithSum(usize, i32),
    Sum(i32, bool),
    Mean(i32, bool),
    Transpose,
    Flip(i32),
    /// Every `step`-th element along an axis (negative: reversed).
    Stride(i32, i64),
    Flatten,
    ExpandDims(i32),
    /// y @ swapaxes(y): square and smooth.
    Gram,
}

pub const FLOAT_UNARY: [fn(&Array) -> Result<Array>; 5] = [
    kiln::sin,
    kiln::tanh,
    kiln::sigmoid,
    kiln::square,
    kiln::negative,
];
pub const INT_UNARY: [fn(&Array) -> Result<Array>; 3] = [kiln::square, kiln::negative, kiln::abs];
pub const BINARY: [fn(&Array, &Array) -> Result<Array>; 3] =
    [kiln::add, kiln::subtract, kiln::multiply];

pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0usize..5).prop_map(Step::Unary),
        2 => (0usize..3).prop_map(Step::Binary),
        1 => (0usize..3, -3i32..3).prop_map(|(op, axis)| Step::WithSum(op, axis)),
        1 => (-3i32..3, any::<bool>()).prop_map(|(a, k)| Step::Sum(a, k)),
        1 => (-3i32..3, any::<bool>()).prop_map(|(a, k)| Step::Mean(a, k)),
        1 => Just(Step::Transpose),
        1 => (-3i32..3).prop_map(Step::Flip),
        1 => (-3i32..3, prop_oneof![Just(-2i64), Just(-1), Just(2)]).prop_map(|(a, s)| Step::Stride(a, s)),
        1 => Just(Step::Flatten),
        1 => (-3i32..3).prop_map(Step::ExpandDims),
        1 => Just(Step::Gram),
    ]
}

/// A program: its inputs' dtype, shapes and values, and its steps.
#[derive(Debug, Clone)]
pub struct Program {
    pub dtype: DType,
    pub shape: Vec<usize>,
    /// x2's shape: a suffix of `shape` with some axes set to 1.
    pub other: Vec<usize>,
    pub seed: u64,
    pub steps: Vec<Step>,
}

pub fn program() -> impl Strategy<Value = Program> {
    // float16 where the adapter has it (lavapipe does).
    let half = kiln::device_info().is_ok_and(|info| info.shader_f16);
    let dtype = prop_oneof![
        4 => Just(DType::F32),
        1 => Just(DType::I32),
        if half { 1 } else { 0 } => Just(DType::F16),
    ];
    let shape = prop::collection::vec(prop_oneof![1 => Just(0usize), 6 => 1usize..5], 0..4);
    (
        dtype,
        shape,
        any::<u64>(),
        any::<u64>(),
        prop::collection::vec(step(), 1..7),
    )
        .prop_map(|(dtype, shape, mask, seed, steps)| {
            let keep = (mask % (shape.len() as u64 + 1)) as usize;
            let other = shape[shape.len() - keep..]
                .iter()
                .enumerate()
                .map(|(i, &d)| if (mask >> (8 + i)) & 1 == 1 { 1 } else { d })
                .collect();
            Program {
                dtype,
                shape,
                other,
                seed,
                steps,
            }
        })
}

/// An axis of an array of rank `ndim`, or `None` for a 0-d one.
pub fn axis(a: i32, ndim: usize) -> Option<i32> {
    (ndim > 0).then(|| a.rem_euclid(ndim as i32))
}

impl Program {
    pub fn smooth(&self) -> bool {
        self.dtype == DType::F32
    }

    pub fn input(&self, shape: &[usize], salt: u64) -> Array {
        let n: usize = shape.iter().product();
        let values = uniform(self.seed ^ salt, n, -1.0, 1.0);
        super::array(
            &values
                .iter()
                .map(|v| {
                    if self.dtype == DType::I32 {
                        (v * 5.0).round()
                    } else {
                        *v
                    }
                })
                .collect::<Vec<_>>(),
            shape,
            self.dtype,
        )
    }

    pub fn inputs(&self) -> Vec<Array> {
        vec![self.input(&self.shape, 1), self.input(&self.other, 2)]
    }

    /// The program as a function of its two inputs: its result and the
    /// sum of it (a second output, for the evaluation-order property).
    pub fn run(&self, xs: &[Array]) -> Result<Vec<Array>> {
        let (mut y, x2) = (xs[0].clone(), &xs[1]);
        let int = self.dtype == DType::I32;
        for step in &self.steps {
            let n = y.ndim();
            y = match *step {
                Step::Unary(op) if int => INT_UNARY[op % INT_UNARY.len()](&y)?,
                Step::Unary(op) => FLOAT_UNARY[op](&y)?,
                Step::Binary(op) => {
                    let fits = kiln::broadcast_shapes("fuzz", y.shape(), x2.shape())
                        .is_ok_and(|s| s == y.shape());
                    let other = if fits || n == 0 {
                        x2.clone()
                    } else {
                        kiln::flip(&y, &[0])?
                    };
                    if fits || n > 0 {
                        BINARY[op](&y, &other)?
                    } else {
                        y
                    }
                }
                Step::WithSum(op, a) => match axis(a, n) {
                    Some(a) => BINARY[op](&y, &kiln::sum(&y, a, true)?)?,
                    None => y,
                },
                Step::Sum(a, keep) => match axis(a, n) {
                    Some(a) => kiln::sum(&y, a, keep)?,
                    None => y,
                },
                Step::Mean(a, keep) if !int => match axis(a, n) {
                    Some(a) => kiln::mean(&y, a, keep)?,
                    None => y,
                },
                Step::Mean(..) => y,
                Step::Transpose => {
                    let axes: Vec<i32> = (0..n as i32).rev().collect();
                    kiln::transpose(&y, &axes)?
                }
                Step::Flip(a) => match axis(a, n) {
                    Some(a) => kiln::flip(&y, &[a])?,
                    None => y,
                },
                Step::Stride(a, s) => match axis(a, n) {
                    Some(a) => {
                        let mut slices = vec![Slice::all(); n];
                        slices[a as usize] = Slice::step(s);
                        kiln::slice(&y, &slices)?
                    }
                    None => y,
                },
                Step::Flatten => kiln::reshape(&y, &[-1])?,
                Step::ExpandDims(a) if n < 4 => {
                    kiln::expand_dims(&y, &[a.rem_euclid(n as i32 + 1)])?
                }
                Step::ExpandDims(_) => y,
                Step::Gram if n == 2 && y.size() <= 64 => {
                    kiln::matmul(&y, &kiln::transpose(&y, &[1, 0])?)?
                }
                Step::Gram => y,
            };
        }
        let total = kiln::sum(&y, Axes::All, false)?;
        Ok(vec![y, total])
    }
}
