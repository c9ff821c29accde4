//! Element types and NumPy/JAX-style type promotion.

use half::f16;
use std::fmt;

/// The element type of an array.
///
/// `Bool` is stored as one 32-bit word per element on the GPU (WGSL has no
/// storable `bool`); `F16` needs an adapter with the `shader-f16` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// Booleans (`bool`).
    Bool,
    /// 32-bit unsigned integers (`uint32`).
    U32,
    /// 32-bit signed integers (`int32`).
    I32,
    /// 16-bit IEEE floats (`float16`).
    F16,
    /// 32-bit IEEE floats (`float32`).
    F32,
}

/// The kind of a dtype, used by promotion: bool < integers < floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `bool`.
    Bool,
    /// `uint32` and `int32`.
    Int,
    /// `float16` and `float32`.
    Float,
}

impl DType {
    /// Every dtype, for tests and tables.
    pub const ALL: [DType; 5] = [DType::Bool, DType::U32, DType::I32, DType::F16, DType::F32];

    /// Bytes per element in host memory (and on the GPU, except `Bool`).
    pub fn size(self) -> usize {
        match self {
            DType::F16 => 2,
            _ => 4,
        }
    }

    /// Bytes per element in a GPU buffer.
    pub(crate) fn device_size(self) -> usize {
        match self {
            DType::F16 => 2,
            _ => 4,
        }
    }

    /// NumPy's name for the dtype.
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U32 => "uint32",
            DType::I32 => "int32",
            DType::F16 => "float16",
            DType::F32 => "float32",
        }
    }

    /// Parses a NumPy dtype name (`"float32"`, `"f32"`, `"int32"`, `"bool"`...).
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "bool" => DType::Bool,
            "uint32" | "u32" => DType::U32,
            "int32" | "i32" => DType::I32,
            "float16" | "f16" => DType::F16,
            "float32" | "f32" => DType::F32,
            _ => return None,
        })
    }

    /// The dtype's kind: bool, integer or float.
    pub fn kind(self) -> Kind {
        match self {
            DType::Bool => Kind::Bool,
            DType::U32 | DType::I32 => Kind::Int,
            DType::F16 | DType::F32 => Kind::Float,
        }
    }

    /// Whether the dtype is a float type.
    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }

    /// Whether the dtype is an integer type (not bool).
    pub fn is_int(self) -> bool {
        self.kind() == Kind::Int
    }

    /// The WGSL type used to store this dtype in a buffer.
    pub(crate) fn wgsl_storage(self) -> &'static str {
        match self {
            DType::Bool | DType::U32 => "u32",
            DType::I32 => "i32",
            DType::F16 => "f16",
            DType::F32 => "f32",
        }
    }

    /// The WGSL type that kernels compute in (f16 is computed in f32; bool
    /// as a u32 holding 0 or 1).
    pub(crate) fn wgsl_compute(self) -> &'static str {
        match self {
            DType::Bool | DType::U32 => "u32",
            DType::I32 => "i32",
            DType::F16 | DType::F32 => "f32",
        }
    }

    /// The float type that integer and bool inputs become for float-valued
    /// ops such as `exp` or `divide` (as MLX and JAX do).
    pub fn to_float(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::F32
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The result type of a binary op on `a` and `b`: bool < ints < floats, the
/// wider type within a kind; `int32` with `uint32` gives `int32` (as JAX does
/// without 64-bit types), an integer with a float gives that float.
pub fn promote(a: DType, b: DType) -> DType {
    use DType::*;
    match (a, b) {
        _ if a == b => a,
        (F32, _) | (_, F32) => F32,
        (F16, _) | (_, F16) => F16,
        (I32, _) | (_, I32) => I32,
        (U32, _) | (_, U32) => U32,
        _ => Bool,
    }
}

/// A Rust type that can be the element of an array.
pub trait Element: Copy + Send + Sync + 'static + fmt::Debug {
    /// The dtype of arrays of this type.
    const DTYPE: DType;
    /// The value as f64 (for printing and weakly typed scalars).
    fn to_f64(self) -> f64;
    /// Encodes elements the way the GPU stores them.
    fn encode(values: &[Self]) -> Vec<u8>;
    /// Decodes GPU-stored bytes.
    fn decode(bytes: &[u8]) -> Vec<Self>;
}

macro_rules! pod_element {
    ($t:ty, $d:expr, $to:expr) => {
        impl Element for $t {
            const DTYPE: DType = $d;
            fn to_f64(self) -> f64 {
                #[allow(clippy::redundant_closure_call)]
                ($to)(self)
            }
            fn encode(values: &[Self]) -> Vec<u8> {
                bytemuck::cast_slice(values).to_vec()
            }
            fn decode(bytes: &[u8]) -> Vec<Self> {
                bytemuck::pod_collect_to_vec(bytes)
            }
        }
    };
}
pod_element!(f32, DType::F32, |v: f32| v as f64);
pod_element!(i32, DType::I32, |v: i32| v as f64);
pod_element!(u32, DType::U32, |v: u32| v as f64);
pod_element!(f16, DType::F16, |v: f16| v.to_f64());

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn encode(values: &[Self]) -> Vec<u8> {
        values
            .iter()
            .flat_map(|&v| (v as u32).to_le_bytes())
            .collect()
    }
    fn decode(bytes: &[u8]) -> Vec<Self> {
        bytemuck::pod_collect_to_vec::<u8, u32>(bytes)
            .into_iter()
            .map(|w| w != 0)
            .collect()
    }
}

/// A scalar of any element type, used for fill values and weakly typed
/// operands (`&a + 2.0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// An integer; `i64` holds every `int32` and `uint32` value.
    Int(i64),
    /// A float, kept as `f64` until it takes a dtype.
    Float(f64),
}

impl Scalar {
    /// The kind of dtype the scalar asks for.
    pub fn kind(self) -> Kind {
        match self {
            Scalar::Bool(_) => Kind::Bool,
            Scalar::Int(_) => Kind::Int,
            Scalar::Float(_) => Kind::Float,
        }
    }

    /// The value as f64 (`true` is 1, `false` is 0).
    pub fn as_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }

    /// The scalar's bits in a 32-bit word of `dtype`'s compute type.
    pub(crate) fn bits_as(self, dtype: DType) -> u32 {
        match dtype {
            DType::Bool => (self.as_f64() != 0.0) as u32,
            DType::U32 => match self {
                Scalar::Int(i) => i as u32,
                s => s.as_f64() as u32,
            },
            DType::I32 => match self {
                Scalar::Int(i) => i as i32 as u32,
                s => s.as_f64() as i32 as u32,
            },
            DType::F16 | DType::F32 => (self.as_f64() as f32).to_bits(),
        }
    }

    /// The dtype a weakly typed scalar takes next to an array of `dtype`
    /// (JAX/NumPy 2 rules): the array's dtype, unless the scalar's kind is
    /// higher (a float scalar with an int array gives float32).
    pub fn weak_dtype(self, dtype: DType) -> DType {
        if self.kind() <= dtype.kind() {
            dtype
        } else {
            match self.kind() {
                Kind::Float => DType::F32,
                Kind::Int => DType::I32,
                Kind::Bool => DType::Bool,
            }
        }
    }

    /// The natural dtype of the scalar on its own.
    pub fn default_dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I32,
            Scalar::Float(_) => DType::F32,
        }
    }
}

macro_rules! scalar_from {
    ($($t:ty => $v:ident as $c:ty),*) => {
        $(impl From<$t> for Scalar {
            fn from(v: $t) -> Self {
                Scalar::$v(v as $c)
            }
        })*
    };
}
scalar_from!(f32 => Float as f64, f64 => Float as f64, i32 => Int as i64, i64 => Int as i64, u32 => Int as i64, usize => Int as i64);

impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

impl From<f16> for Scalar {
    fn from(v: f16) -> Self {
        Scalar::Float(v.to_f64())
    }
}
