//! Linear (dense) layers and embeddings.

use super::module::{Layer, Module, Parameter, Scope};
use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::elementwise::add;
use crate::ops::index::take;
use crate::ops::matmul::matmul;
use crate::ops::random;

/// `y = x Wᵀ + b`, with `W` of shape `(out, in)`; weight and bias start
/// uniform in `±1/√in`, as in PyTorch and MLX.
#[derive(Debug, Clone)]
pub struct Linear {
    /// The weight `W`, `(out, in)`.
    pub weight: Parameter,
    /// The bias `b`, `(out)`, if any.
    pub bias: Option<Parameter>,
}

impl Linear {
    /// `input_dims` to `output_dims` features, with a bias when `bias`;
    /// `key` seeds the initial values.
    pub fn new(input_dims: usize, output_dims: usize, bias: bool, key: &Array) -> Result<Linear> {
        let keys = random::split(key, 2)?;
        let limit = 1.0 / (input_dims.max(1) as f64).sqrt();
        let init = |k: i64, shape: &[usize]| {
            random::uniform(
                &crate::ops::shape::index_axis(&keys, 0, k)?,
                shape,
                DType::F32,
                -limit,
                limit,
            )
        };
        Ok(Linear {
            weight: Parameter::new(init(0, &[output_dims, input_dims])?),
            bias: if bias {
                Some(Parameter::new(init(1, &[output_dims])?))
            } else {
                None
            },
        })
    }

    /// The number of input features.
    pub fn input_dims(&self) -> usize {
        self.weight.value().shape()[1]
    }

    /// The number of output features.
    pub fn output_dims(&self) -> usize {
        self.weight.value().shape()[0]
    }
}

impl Module for Linear {
    fn visit(&self, scope: &mut Scope) {
        scope.parameter("weight", &self.weight);
        if let Some(bias) = &self.bias {
            scope.parameter("bias", bias);
        }
    }
}

impl Layer for Linear {
    fn forward(&self, x: &Array) -> Result<Array> {
        let w = self.weight.value();
        if w.ndim() != 2 {
            bail!(
                "Linear",
                "the weight must be (out, in), got shape {}",
                fmt_shape(w.shape())
            );
        }
        if x.ndim() == 0 || x.shape()[x.ndim() - 1] != w.shape()[1] {
            bail!(
                "Linear",
                "expected inputs with {} features in the last axis, got shape {}",
                w.shape()[1],
                fmt_shape(x.shape())
            );
        }
        let y = matmul(x, &w.mt()?)?;
        match &self.bias {
            Some(b) => add(&y, &b.value()),
            None => Ok(y),
        }
    }
}

/// A table of `num` vectors of `dims` floats looked up by integer index;
/// starts `N(0, 1)` as in PyTorch.
#[derive(Debug, Clone)]
pub struct Embedding {
    /// The table, `(num, dims)`: row `i` is the vector of index `i`.
    pub weight: Parameter,
}

impl Embedding {
    /// `num` vectors of `dims` floats, drawn from `N(0, 1)` with `key`.
    pub fn new(num: usize, dims: usize, key: &Array) -> Result<Embedding> {
        Ok(Embedding {
            weight: Parameter::new(random::normal(key, &[num, dims], DType::F32)?),
        })
    }

    /// `x Wᵀ`: scores against every embedding, for a language model's
    /// output layer that shares the input embedding's weights.
    pub fn as_linear(&self, x: &Array) -> Result<Array> {
        matmul(x, &self.weight.value().mt()?)
    }
}

impl Module for Embedding {
    fn visit(&self, scope: &mut Scope) {
        scope.parameter("weight", &self.weight);
    }
}

impl Layer for Embedding {
    fn forward(&self, indices: &Array) -> Result<Array> {
        if !indices.dtype().is_int() {
            bail!(
                "Embedding",
                "indices must be integers, got {}",
                indices.dtype()
            );
        }
        take(&self.weight.value(), indices, Some(0))
    }
}
