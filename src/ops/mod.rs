//! The public ops. Everything here builds graph nodes from the primitives
//! in `crate::primitive`; nothing computes until evaluation.

pub(crate) mod attention;
pub mod composite;
pub mod creation;
pub mod einsum;
pub mod elementwise;
pub mod index;
pub mod matmul;
pub mod operators;
pub mod random;
pub mod reduce;
pub mod shape;
pub mod sort;

use crate::array::Array;
use crate::dtype::DType;
use crate::error::Result;
use reduce::Axes;

/// A method per row of an op table (see [`crate::primitive::elementwise`]).
macro_rules! table_methods {
    ($(#[$meta:meta])* UnaryOp;
        $($variant:ident => $name:ident, $js:literal, $class:ident $impls:tt;)*
    ) => {
        impl Array {
            $(
                #[doc = concat!("Elementwise `", stringify!($name), "`; see [`crate::", stringify!($name), "`].")]
                pub fn $name(&self) -> Result<Array> {
                    elementwise::$name(self)
                }
            )*
        }
    };
    ($(#[$meta:meta])* BinaryOp;
        $($variant:ident => $name:ident, $js:literal, $class:ident $impls:tt;)*
    ) => {
        impl Array {
            $(
                #[doc = concat!("Elementwise `", stringify!($name), "` with broadcasting; see [`crate::", stringify!($name), "`].")]
                pub fn $name(&self, other: &Array) -> Result<Array> {
                    elementwise::$name(self, other)
                }
            )*
        }
    };
}

crate::primitive::elementwise::unary_table!(table_methods);
crate::primitive::elementwise::binary_table!(table_methods);

macro_rules! reduce_methods {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($name), "` over `axes`; see [`crate::", stringify!($name), "`].")]
            pub fn $name(&self, axes: impl Into<Axes>, keepdims: bool) -> Result<Array> {
                reduce::$name(self, axes, keepdims)
            }
        )*
    };
}

/// Method forms of the common ops, for chaining (`x.exp()?.sum(Axes::All, false)?`).
impl Array {
    reduce_methods!(sum, prod, max, min, all, any, mean, logsumexp);

    /// Converts to `dtype`; see [`crate::astype`].
    pub fn astype(&self, dtype: DType) -> Result<Array> {
        elementwise::astype(self, dtype)
    }

    /// See [`crate::reshape`].
    pub fn reshape(&self, shape: &[i64]) -> Result<Array> {
        shape::reshape(self, shape)
    }

    /// See [`crate::transpose`].
    pub fn transpose(&self, axes: &[i32]) -> Result<Array> {
        shape::transpose(self, axes)
    }

    /// All axes reversed (NumPy's `.T`).
    pub fn t(&self) -> Result<Array> {
        shape::transpose(self, &[])
    }

    /// The last two axes swapped: the transpose of each matrix of a batch
    /// (NumPy's `.mT`).
    pub fn mt(&self) -> Result<Array> {
        shape::swapaxes(self, -1, -2)
    }

    /// See [`crate::matmul`].
    pub fn matmul(&self, other: &Array) -> Result<Array> {
        matmul::matmul(self, other)
    }

    /// See [`crate::slice`].
    pub fn slice(&self, slices: &[shape::Slice]) -> Result<Array> {
        shape::slice(self, slices)
    }
}
