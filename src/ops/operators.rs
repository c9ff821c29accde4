//! Arithmetic operators on arrays and scalars. They panic on error (with the
//! op's message); the named functions return `Result`.

use crate::array::Array;
use crate::dtype::Scalar;
use crate::ops::elementwise::{add, divide, multiply, negative, subtract};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A scalar next to `like`, weakly typed as JAX and NumPy 2 do (`int32
/// array + 2.0` is float32; `float16 array + 2.0` stays float16).
fn weak(value: impl Into<Scalar>, like: &Array) -> Array {
    let value = value.into();
    Array::scalar_of(value, value.weak_dtype(like.dtype()))
}

macro_rules! operator {
    ($trait:ident, $method:ident, $f:ident) => {
        impl $trait<&Array> for &Array {
            type Output = Array;
            fn $method(self, rhs: &Array) -> Array {
                $f(self, rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        impl $trait<Array> for Array {
            type Output = Array;
            fn $method(self, rhs: Array) -> Array {
                $f(&self, &rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        impl $trait<&Array> for Array {
            type Output = Array;
            fn $method(self, rhs: &Array) -> Array {
                $f(&self, rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        impl $trait<Array> for &Array {
            type Output = Array;
            fn $method(self, rhs: Array) -> Array {
                $f(self, &rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        operator!(@scalars $trait, $method, $f, f32, i32);
    };
    (@scalars $trait:ident, $method:ident, $f:ident, $($t:ty),*) => {
        $(
            impl $trait<$t> for &Array {
                type Output = Array;
                fn $method(self, rhs: $t) -> Array {
                    $f(self, &weak(rhs, self)).unwrap_or_else(|e| panic!("{e}"))
                }
            }
            impl $trait<$t> for Array {
                type Output = Array;
                fn $method(self, rhs: $t) -> Array {
                    $f(&self, &weak(rhs, &self)).unwrap_or_else(|e| panic!("{e}"))
                }
            }
            impl $trait<&Array> for $t {
                type Output = Array;
                fn $method(self, rhs: &Array) -> Array {
                    $f(&weak(self, rhs), rhs).unwrap_or_else(|e| panic!("{e}"))
                }
            }
            impl $trait<Array> for $t {
                type Output = Array;
                fn $method(self, rhs: Array) -> Array {
                    $f(&weak(self, &rhs), &rhs).unwrap_or_else(|e| panic!("{e}"))
                }
            }
        )*
    };
}

operator!(Add, add, add);
operator!(Sub, sub, subtract);
operator!(Mul, mul, multiply);
operator!(Div, div, divide);

impl Neg for &Array {
    type Output = Array;
    fn neg(self) -> Array {
        negative(self).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Neg for Array {
    type Output = Array;
    fn neg(self) -> Array {
        -&self
    }
}
