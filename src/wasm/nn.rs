//! `kiln.nn`'s functions for JavaScript: activations, losses, the
//! functional layers (convolution, pooling, normalisation, dropout,
//! attention) and initialisers. `www/src/layers.js` builds the modules on
//! them.

use super::{dtype, sizes, wrap, JsArray, JsResult};
use crate::error::invalid;
use crate::nn::{self, losses::Reduction};
use wasm_bindgen::prelude::*;

unary!(nn;
    relu => "nn_relu", gelu => "nn_gelu", silu => "nn_silu", softplus => "nn_softplus",
    log_sigmoid => "nn_logSigmoid",
);

/// `kiln.nn.leakyRelu` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = nn_leakyRelu)]
pub fn nn_leaky_relu(x: &JsArray, slope: f64) -> JsResult<JsArray> {
    wrap("leaky_relu", nn::leaky_relu(&x.inner, slope))
}

/// `kiln.nn.elu` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = nn_elu)]
pub fn nn_elu(x: &JsArray, alpha: f64) -> JsResult<JsArray> {
    wrap("elu", nn::elu(&x.inner, alpha))
}

fn reduction(op: &'static str, name: &str) -> crate::Result<Reduction> {
    match name {
        "mean" => Ok(Reduction::Mean),
        "sum" => Ok(Reduction::Sum),
        "none" => Ok(Reduction::None),
        _ => Err(invalid(
            op,
            format!("reduction must be 'mean', 'sum' or 'none', got '{name}'"),
        )),
    }
}

/// `kiln.nn.crossEntropy` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = nn_crossEntropy)]
pub fn nn_cross_entropy(
    logits: &JsArray,
    targets: &JsArray,
    reduction_name: String,
    label_smoothing: f64,
) -> JsResult<JsArray> {
    let options = nn::losses::CrossEntropy {
        label_smoothing,
        ignore_index: None,
        reduction: reduction("cross_entropy", &reduction_name)?,
    };
    wrap(
        "cross_entropy",
        nn::losses::cross_entropy(&logits.inner, &targets.inner, options),
    )
}

/// `kiln.nn.mseLoss` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = nn_mseLoss)]
pub fn nn_mse_loss(x: &JsArray, targets: &JsArray, reduction_name: String) -> JsResult<JsArray> {
    let reduction = reduction("mse_loss", &reduction_name)?;
    wrap(
        "mse_loss",
        nn::losses::mse_loss(&x.inner, &targets.inner, reduction),
    )
}

unary!(nn;
    mish => "nn_mish", gelu_tanh => "nn_geluTanh",
);

/// `kiln.nn.glu` in JavaScript.
#[wasm_bindgen(js_name = nn_glu)]
pub fn nn_glu(x: &JsArray, axis: i32) -> JsResult<JsArray> {
    wrap("glu", nn::glu(&x.inner, axis))
}

/// A loss of predictions and targets with a reduction, for each `$f`.
macro_rules! losses {
    ($($f:ident => $js:literal),* $(,)?) => {
        $(
            #[doc = concat!("`kiln.nn.", $js, "` in JavaScript.")]
            #[wasm_bindgen(js_name = $js)]
            pub fn $f(x: &JsArray, targets: &JsArray, reduction_name: String) -> JsResult<JsArray> {
                let reduction = reduction(stringify!($f), &reduction_name)?;
                wrap(stringify!($f), nn::losses::$f(&x.inner, &targets.inner, reduction))
            }
        )*
    };
}

losses!(
    nll_loss => "nn_nllLoss", binary_cross_entropy => "nn_binaryCrossEntropy",
    l1_loss => "nn_l1Loss", kl_div_loss => "nn_klDivLoss",
);

/// A loss with one parameter (`beta`, `delta`) and a reduction, for each `$f`.
macro_rules! losses_with {
    ($($f:ident($param:ident) => $js:literal),* $(,)?) => {
        $(
            #[doc = concat!("`kiln.nn.", $js, "` in JavaScript.")]
            #[wasm_bindgen(js_name = $js)]
            pub fn $f(x: &JsArray, targets: &JsArray, $param: f64, reduction_name: String) -> JsResult<JsArray> {
                let reduction = reduction(stringify!($f), &reduction_name)?;
                wrap(stringify!($f), nn::losses::$f(&x.inner, &targets.inner, $param, reduction))
            }
        )*
    };
}

losses_with!(smooth_l1_loss(beta) => "nn_smoothL1Loss", huber_loss(delta) => "nn_huberLoss");

/// `kiln.nn.accuracy` in JavaScript.
#[wasm_bindgen(js_name = nn_accuracy)]
pub fn nn_accuracy(logits: &JsArray, targets: &JsArray) -> JsResult<JsArray> {
    wrap(
        "accuracy",
        nn::losses::accuracy(&logits.inner, &targets.inner),
    )
}

fn inner(a: Option<JsArray>) -> Option<crate::Array> {
    a.map(|a| a.inner.clone())
}

/// `kiln.nn.layerNorm` in JavaScript.
#[wasm_bindgen(js_name = nn_layerNorm)]
pub fn nn_layer_norm(
    x: &JsArray,
    weight: Option<JsArray>,
    bias: Option<JsArray>,
    eps: f64,
) -> JsResult<JsArray> {
    let (w, b) = (inner(weight), inner(bias));
    wrap(
        "layer_norm",
        nn::layer_norm(&x.inner, w.as_ref(), b.as_ref(), eps),
    )
}

/// `kiln.nn.rmsNorm` in JavaScript.
#[wasm_bindgen(js_name = nn_rmsNorm)]
pub fn nn_rms_norm(x: &JsArray, weight: Option<JsArray>, eps: f64) -> JsResult<JsArray> {
    wrap(
        "rms_norm",
        nn::rms_norm(&x.inner, inner(weight).as_ref(), eps),
    )
}

/// `kiln.nn.groupNorm` in JavaScript.
#[wasm_bindgen(js_name = nn_groupNorm)]
pub fn nn_group_norm(
    x: &JsArray,
    groups: u32,
    weight: Option<JsArray>,
    bias: Option<JsArray>,
    eps: f64,
) -> JsResult<JsArray> {
    let (w, b) = (inner(weight), inner(bias));
    wrap(
        "group_norm",
        nn::group_norm(&x.inner, groups as usize, w.as_ref(), b.as_ref(), eps),
    )
}

/// `kiln.nn.dropout` in JavaScript.
#[wasm_bindgen(js_name = nn_dropout)]
pub fn nn_dropout(x: &JsArray, p: f64, key: &JsArray) -> JsResult<JsArray> {
    wrap("dropout", nn::dropout(&x.inner, p, &key.inner))
}

/// `[a, b]` from a list of two sizes.
fn pair(op: &'static str, what: &str, values: &[u32]) -> crate::Result<[usize; 2]> {
    match sizes(values)[..] {
        [a, b] => Ok([a, b]),
        _ => Err(invalid(
            op,
            format!("{what} must be one number or two, got {}", values.len()),
        )),
    }
}

/// `kiln.nn.conv2d` in JavaScript: per axis stride, padding, dilation.
#[wasm_bindgen(js_name = nn_conv2d)]
pub fn nn_conv2d(
    x: &JsArray,
    weight: &JsArray,
    stride: Vec<u32>,
    padding: Vec<u32>,
    dilation: Vec<u32>,
    groups: u32,
) -> JsResult<JsArray> {
    let op = "conv2d";
    let options = nn::ConvOptions {
        stride: pair(op, "stride", &stride)?,
        padding: pair(op, "padding", &padding)?,
        dilation: pair(op, "dilation", &dilation)?,
        groups: groups as usize,
        bias: false,
    };
    wrap(op, nn::conv2d(&x.inner, &weight.inner, &options))
}

/// `kiln.nn.conv1d` in JavaScript.
#[wasm_bindgen(js_name = nn_conv1d)]
pub fn nn_conv1d(
    x: &JsArray,
    weight: &JsArray,
    stride: u32,
    padding: u32,
    dilation: u32,
    groups: u32,
) -> JsResult<JsArray> {
    let options = nn::ConvOptions {
        stride: [stride as usize],
        padding: [padding as usize],
        dilation: [dilation as usize],
        groups: groups as usize,
        bias: false,
    };
    wrap("conv1d", nn::conv1d(&x.inner, &weight.inner, &options))
}

/// `kiln.nn.maxPool2d` (`max`) and `avgPool2d` in JavaScript.
#[wasm_bindgen(js_name = nn_pool2d)]
pub fn nn_pool2d(
    x: &JsArray,
    max: bool,
    kernel: Vec<u32>,
    stride: Vec<u32>,
    padding: Vec<u32>,
) -> JsResult<JsArray> {
    let op = if max { "max_pool2d" } else { "avg_pool2d" };
    let (k, s, p) = (
        pair(op, "kernel", &kernel)?,
        pair(op, "stride", &stride)?,
        pair(op, "padding", &padding)?,
    );
    if k.contains(&0) || s.contains(&0) {
        return Err(invalid(op, "kernel and stride must be positive").into());
    }
    let pooled = if max {
        nn::max_pool2d(&x.inner, k, s, p)
    } else {
        nn::avg_pool2d(&x.inner, k, s, p)
    };
    wrap(op, pooled)
}

/// `kiln.nn.scaledDotProductAttention` in JavaScript.
#[wasm_bindgen(js_name = nn_scaledDotProductAttention)]
pub fn nn_scaled_dot_product_attention(
    q: &JsArray,
    k: &JsArray,
    v: &JsArray,
    scale: Option<f64>,
    mask: Option<JsArray>,
    causal: bool,
) -> JsResult<JsArray> {
    let mask = inner(mask);
    wrap(
        "scaled_dot_product_attention",
        nn::scaled_dot_product_attention(
            &q.inner,
            &k.inner,
            &v.inner,
            scale,
            mask.as_ref(),
            causal,
        ),
    )
}

/// `kiln.nn.init.*` in JavaScript: `kind` is glorotUniform, glorotNormal
/// (`gain`), heUniform or heNormal.
#[wasm_bindgen(js_name = nn_init)]
pub fn nn_init(
    kind: &str,
    key: &JsArray,
    shape: Vec<u32>,
    dtype_name: Option<String>,
    gain: f64,
) -> JsResult<JsArray> {
    let op = "init";
    let d = dtype(op, dtype_name, crate::DType::F32)?;
    let (key, shape) = (&key.inner, sizes(&shape));
    let made = match kind {
        "glorotUniform" => nn::init::glorot_uniform(key, &shape, d, gain),
        "glorotNormal" => nn::init::glorot_normal(key, &shape, d, gain),
        "heUniform" => nn::init::he_uniform(key, &shape, d),
        "heNormal" => nn::init::he_normal(key, &shape, d),
        _ => return Err(invalid(op, format!("unknown initialiser {kind}")).into()),
    };
    wrap(op, made)
}

/// `kiln.nn.init.truncatedNormal` in JavaScript.
#[wasm_bindgen(js_name = nn_truncatedNormal)]
pub fn nn_truncated_normal(
    key: &JsArray,
    shape: Vec<u32>,
    dtype_name: Option<String>,
    mean: f64,
    std: f64,
    lower: f64,
    upper: f64,
) -> JsResult<JsArray> {
    let op = "truncated_normal";
    let d = dtype(op, dtype_name, crate::DType::F32)?;
    wrap(
        op,
        nn::init::truncated_normal(&key.inner, &sizes(&shape), d, mean, std, lower, upper),
    )
}

/// `kiln.nn.rope` in JavaScript: rotary embeddings of `x`'s first `dims`
/// features, positions from `offset`.
#[wasm_bindgen(js_name = nn_rope)]
pub fn nn_rope(
    x: &JsArray,
    dims: u32,
    traditional: bool,
    base: f64,
    offset: u32,
) -> JsResult<JsArray> {
    let rope = nn::Rope::new(dims as usize, traditional, base)?;
    wrap("rope", rope.forward_at(&x.inner, offset as usize))
}

/// `kiln.nn.sinusoidalPositions` in JavaScript.
#[wasm_bindgen(js_name = nn_sinusoidalPositions)]
pub fn nn_sinusoidal_positions(length: u32, dims: u32, base: f64) -> JsResult<JsArray> {
    wrap(
        "sinusoidal_positions",
        nn::sinusoidal_positions(length as usize, dims as usize, base),
    )
}

/// `kiln.nn.batchNorm` in JavaScript: `[y]`, or in training `[y, running
/// mean, running variance]`.
#[wasm_bindgen(js_name = nn_batchNorm)]
#[allow(clippy::too_many_arguments)]
pub fn nn_batch_norm(
    x: &JsArray,
    running_mean: &JsArray,
    running_var: &JsArray,
    weight: Option<JsArray>,
    bias: Option<JsArray>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> JsResult<Vec<JsArray>> {
    let op = "batch_norm";
    let (w, b) = (inner(weight), inner(bias));
    let (y, running) = nn::batch_norm(
        &x.inner,
        &running_mean.inner,
        &running_var.inner,
        w.as_ref(),
        b.as_ref(),
        training,
        momentum,
        eps,
    )?;
    let mut out = vec![wrap(op, Ok(y))?];
    if let Some((mean, var)) = running {
        out.push(wrap(op, Ok(mean))?);
        out.push(wrap(op, Ok(var))?);
    }
    Ok(out)
}
