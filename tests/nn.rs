//! `kiln::nn` and `kiln::optimizers` against references computed by PyTorch
//! (NumPy where PyTorch has no such op) in `tests/gen_nn_fixtures.py`,
//! stored in `tests/fixtures/nn.safetensors` with each case's settings as
//! JSON metadata. Layers compare forward outputs, parameter gradients and
//! input gradients of `sum(out * cot)`; optimizers compare three steps.
//!
//! Tolerances: references are float64 rounded to float32; kiln computes in
//! float32, so each result may differ by a few float32 roundings per op on
//! its path: `1e-5 + 1e-4 |want|` for everything but the multi-layer blocks
//! (attention, transformer: `1e-4 + 1e-4 |want|`, dozens of ops deep).

mod common;

use common::floats;
use kiln::nn::{self, losses, Layer, Module, Params};
use kiln::optimizers::{self, Optimizer, Rule};
use kiln::{Array, Axes, DType};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

struct Fixtures {
    arrays: Params,
    meta: HashMap<String, Value>,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nn.safetensors");
        let (arrays, metadata) = kiln::io::load_safetensors(path).expect("fixture file loads");
        let meta = metadata
            .into_iter()
            .map(|(k, v)| (k, serde_json::from_str(&v).expect("case metadata is JSON")))
            .collect();
        Fixtures { arrays, meta }
    })
}

/// The cases whose metadata `kind` is one of `kinds`, in name order.
fn cases(kinds: &[&str]) -> Vec<(String, Value)> {
    let mut out: Vec<_> = fixtures()
        .meta
        .iter()
        .filter(|(_, m)| kinds.contains(&m["kind"].as_str().unwrap()))
        .map(|(k, m)| (k.clone(), m.clone()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no fixture cases of kinds {kinds:?}");
    out
}

fn get(case: &str, item: &str) -> Array {
    fixtures()
        .arrays
        .get(&format!("{case}/{item}"))
        .unwrap_or_else(|| panic!("fixture has no {case}/{item}"))
        .clone()
}

fn has(case: &str, item: &str) -> bool {
    fixtures().arrays.contains_key(&format!("{case}/{item}"))
}

/// The arrays under `{case}/{prefix}/`, by the rest of their names.
fn group(case: &str, prefix: &str) -> Params {
    let start = format!("{case}/{prefix}/");
    fixtures()
        .arrays
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(&start)
                .map(|rest| (rest.to_string(), v.clone()))
        })
        .collect()
}

#[derive(Clone, Copy)]
struct Tol {
    rtol: f64,
    atol: f64,
}

const TOL: Tol = Tol {
    rtol: 1e-4,
    atol: 1e-5,
};
const DEEP: Tol = Tol {
    rtol: 1e-4,
    atol: 1e-4,
};

/// `Err` describing the first element of `got` outside the tolerance.
fn close(what: &str, got: &Array, want: &Array, tol: Tol) -> Result<(), String> {
    if got.shape() != want.shape() {
        return Err(format!(
            "{what}: shape {:?}, expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    let (g, w) = (floats(got), floats(want));
    for (i, (g, w)) in g.iter().zip(&w).enumerate() {
        // NaN fails too.
        let within = (g - w).abs() <= tol.atol + tol.rtol * w.abs();
        if !within {
            return Err(format!("{what}: element {i} is {g}, expected {w}"));
        }
    }
    Ok(())
}

/// Runs `check` on every case and fails with the list of failures.
fn check_all(cases: &[(String, Value)], check: impl Fn(&str, &Value) -> Result<(), String>) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, meta)| check(name, meta).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn err(e: kiln::Error) -> String {
    e.to_string()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn usize_of(v: &Value) -> usize {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}")) as usize
}

fn pair(v: &Value) -> [usize; 2] {
    match v {
        Value::Array(a) => [usize_of(&a[0]), usize_of(&a[1])],
        v => [usize_of(v); 2],
    }
}

/// `sum(out * cot)`: the scalar whose gradients the fixtures hold.
fn against_cot(out: &Array, cot: &Array) -> kiln::Result<Array> {
    kiln::sum(&kiln::multiply(out, cot)?, Axes::All, false)
}

/// Compares a forward pass (`f` of the case's inputs), the gradients of
/// the module's parameters and of the float inputs.
fn check_forward_and_grads(
    case: &str,
    module: &dyn Module,
    f: &dyn Fn(&[Array]) -> kiln::Result<Array>,
    tol: Tol,
) -> Result<(), String> {
    let inputs: Vec<Array> = ["x", "x2"]
        .iter()
        .filter(|i| has(case, i))
        .map(|i| get(case, i))
        .collect();
    module.update(&group(case, "param")).map_err(err)?;
    let out = f(&inputs).map_err(err)?;
    close("out", &out, &get(case, "out"), tol)?;
    let cot = get(case, "cot");
    let (_, grads) = nn::value_and_grad(module, || against_cot(&f(&inputs)?, &cot)).map_err(err)?;
    let want = group(case, "grad");
    let names: BTreeSet<_> = grads.keys().collect();
    if names != want.keys().collect() {
        return Err(format!(
            "gradients for {names:?}, expected {:?}",
            want.keys().collect::<Vec<_>>()
        ));
    }
    for (name, g) in &grads {
        close(&format!("grad {name}"), g, &want[name], tol)?;
    }
    let float_inputs: Vec<usize> = (0..inputs.len())
        .filter(|&i| inputs[i].dtype().is_float())
        .collect();
    if float_inputs.is_empty() {
        return Ok(());
    }
    let dx = kiln::grad_n(|xs: &[Array]| against_cot(&f(xs)?, &cot), &float_inputs)(&inputs)
        .map_err(err)?;
    for (&i, d) in float_inputs.iter().zip(&dx) {
        let item = if i == 0 {
            "dx".to_string()
        } else {
            format!("dx{}", i + 1)
        };
        close(&item, d, &get(case, &item), tol)?;
    }
    Ok(())
}

fn key() -> Array {
    kiln::random::key(7)
}

fn conv_options<const D: usize>(m: &Value) -> nn::ConvOptions<D> {
    let axes = |v: &Value| -> [usize; D] {
        match v {
            Value::Array(a) => std::array::from_fn(|i| usize_of(&a[i])),
            v => [usize_of(v); D],
        }
    };
    nn::ConvOptions {
        stride: axes(&m["stride"]),
        padding: axes(&m["padding"]),
        dilation: axes(&m["dilation"]),
        groups: usize_of(&m["groups"]),
        bias: m["bias"].as_bool().unwrap(),
    }
}

fn check_layer(case: &str, m: &Value) -> Result<(), String> {
    let k = key();
    let unary = |layer: &dyn Layer, tol: Tol| {
        check_forward_and_grads(case, layer, &|xs: &[Array]| layer.forward(&xs[0]), tol)
    };
    match m["kind"].as_str().unwrap() {
        "linear" => unary(
            &nn::Linear::new(
                usize_of(&m["in"]),
                usize_of(&m["out"]),
                m["bias"].as_bool().unwrap(),
                &k,
            )
            .map_err(err)?,
            TOL,
        ),
        "embedding" => unary(
            &nn::Embedding::new(usize_of(&m["num"]), usize_of(&m["dims"]), &k).map_err(err)?,
            TOL,
        ),
        "conv1d" => {
            let layer = nn::Conv1d::new(
                usize_of(&m["in"]),
                usize_of(&m["out"]),
                [usize_of(&m["kernel"])],
                conv_options(m),
                &k,
            )
            .map_err(err)?;
            unary(&layer, TOL)
        }
        "conv2d" => {
            let layer = nn::Conv2d::new(
                usize_of(&m["in"]),
                usize_of(&m["out"]),
                pair(&m["kernel"]),
                conv_options(m),
                &k,
            )
            .map_err(err)?;
            unary(&layer, TOL)
        }
        "maxpool2d" => unary(
            &nn::MaxPool2d::new(pair(&m["kernel"]), pair(&m["stride"]), pair(&m["padding"])),
            TOL,
        ),
        "avgpool2d" => unary(
            &nn::AvgPool2d::new(pair(&m["kernel"]), pair(&m["stride"]), pair(&m["padding"])),
            TOL,
        ),
        "layernorm" => unary(
            &nn::LayerNorm::new(
                usize_of(&m["dims"]),
                num(&m["eps"]),
                m["affine"].as_bool().unwrap(),
            )
            .map_err(err)?,
            TOL,
        ),
        "rmsnorm" => unary(
            &nn::RmsNorm::new(usize_of(&m["dims"]), num(&m["eps"])).map_err(err)?,
            TOL,
        ),
        "groupnorm" => unary(
            &nn::GroupNorm::new(
                usize_of(&m["groups"]),
                usize_of(&m["channels"]),
                num(&m["eps"]),
                true,
            )
            .map_err(err)?,
            TOL,
        ),
        "batchnorm" => check_batchnorm(case, m),
        "mha" => {
            let layer =
                nn::MultiHeadAttention::new(usize_of(&m["dims"]), usize_of(&m["heads"]), true, &k)
                    .map_err(err)?;
            let causal = m["causal"].as_bool().unwrap();
            let mask = if has(case, "key_mask") {
                Some(nn::padding_mask(&get(case, "key_mask")).map_err(err)?)
            } else {
                None
            };
            check_forward_and_grads(
                case,
                &layer,
                &|xs: &[Array]| {
                    let kv = xs.get(1).unwrap_or(&xs[0]);
                    layer.attend(&xs[0], kv, kv, mask.as_ref(), causal)
                },
                DEEP,
            )
        }
        "transformer" => {
            let mut options =
                nn::TransformerOptions::new(usize_of(&m["dims"]), usize_of(&m["heads"]));
            options.mlp_dims = usize_of(&m["mlp_dims"]);
            options.norm_first = m["norm_first"].as_bool().unwrap();
            options.activation = match m["activation"].as_str().unwrap() {
                "relu" => nn::Activation::Relu,
                "gelu" => nn::Activation::Gelu,
                other => panic!("activation {other}"),
            };
            let block = nn::TransformerEncoderBlock::new(options, &k).map_err(err)?;
            let causal = m["causal"].as_bool().unwrap();
            check_forward_and_grads(
                case,
                &block,
                &|xs: &[Array]| block.forward_masked(&xs[0], None, causal),
                DEEP,
            )
        }
        "rope" => {
            let rope = nn::Rope::new(
                usize_of(&m["dims"]),
                m["traditional"].as_bool().unwrap(),
                num(&m["base"]),
            )
            .map_err(err)?;
            let offset = usize_of(&m["offset"]);
            check_forward_and_grads(
                case,
                &rope,
                &|xs: &[Array]| rope.forward_at(&xs[0], offset),
                TOL,
            )
        }
        "sinusoidal" => {
            let table =
                nn::sinusoidal_positions(usize_of(&m["length"]), usize_of(&m["dims"]), 10000.0)
                    .map_err(err)?;
            close("out", &table, &get(case, "out"), TOL)
        }
        other => Err(format!("no check for kind {other}")),
    }
}

/// Batch norm in training mode (output, gradients, running statistics),
/// then in evaluation mode with the updated statistics.
fn check_batchnorm(case: &str, m: &Value) -> Result<(), String> {
    let bn = nn::BatchNorm::new(
        usize_of(&m["channels"]),
        num(&m["eps"]),
        num(&m["momentum"]),
        true,
    )
    .map_err(err)?;
    // Gradients first: they run the layer (and update the statistics) once more.
    check_forward_and_grads(
        case,
        &bn,
        &|xs: &[Array]| {
            bn.running_mean
                .set(kiln::zeros(&[bn.channels], DType::F32)?);
            bn.running_var.set(kiln::ones(&[bn.channels], DType::F32)?);
            bn.forward(&xs[0])
        },
        TOL,
    )?;
    close(
        "running_mean",
        &bn.running_mean.value(),
        &get(case, "running_mean"),
        TOL,
    )?;
    close(
        "running_var",
        &bn.running_var.value(),
        &get(case, "running_var"),
        TOL,
    )?;
    bn.train(false);
    close(
        "out_eval",
        &bn.forward(&get(case, "x_eval")).map_err(err)?,
        &get(case, "out_eval"),
        TOL,
    )
}

const LAYER_KINDS: &[&str] = &[
    "linear",
    "embedding",
    "conv1d",
    "conv2d",
    "maxpool2d",
    "avgpool2d",
    "layernorm",
    "rmsnorm",
    "groupnorm",
    "batchnorm",
    "mha",
    "transformer",
    "rope",
    "sinusoidal",
];

#[test]
fn layers_match_pytorch() {
    check_all(&cases(LAYER_KINDS), check_layer);
}

type Unary = Box<dyn Fn(&Array) -> kiln::Result<Array>>;
type Binary = Box<dyn Fn(&Array, &Array) -> kiln::Result<Array>>;

fn activation(m: &Value) -> Unary {
    let name = m["name"].as_str().unwrap().to_string();
    match name.as_str() {
        "relu" => Box::new(nn::relu),
        "gelu" => Box::new(nn::gelu),
        "gelu_tanh" => Box::new(nn::gelu_tanh),
        "silu" => Box::new(nn::silu),
        "softplus" => Box::new(nn::softplus),
        "leaky_relu" => {
            let slope = num(&m["slope"]);
            Box::new(move |x| nn::leaky_relu(x, slope))
        }
        "elu" => {
            let alpha = num(&m["alpha"]);
            Box::new(move |x| nn::elu(x, alpha))
        }
        "mish" => Box::new(nn::mish),
        "log_sigmoid" => Box::new(nn::log_sigmoid),
        "sigmoid" => Box::new(kiln::sigmoid),
        "tanh" => Box::new(kiln::tanh),
        "softmax" => Box::new(nn::softmax),
        "log_softmax" => Box::new(nn::log_softmax),
        "glu" => Box::new(|x| nn::glu(x, -1)),
        other => panic!("no activation {other}"),
    }
}

#[test]
fn activations_match_pytorch() {
    check_all(&cases(&["activation"]), |case, m| {
        let f = activation(m);
        check_forward_and_grads(case, &nn::Sequential::new(), &|xs: &[Array]| f(&xs[0]), TOL)
    });
}

fn loss(m: &Value) -> Binary {
    let reduction = match m["reduction"].as_str().unwrap() {
        "mean" => losses::Reduction::Mean,
        "sum" => losses::Reduction::Sum,
        "none" => losses::Reduction::None,
        other => panic!("reduction {other}"),
    };
    let m = m.clone();
    match m["name"].as_str().unwrap() {
        "cross_entropy" => {
            let options = losses::CrossEntropy {
                label_smoothing: num(&m["label_smoothing"]),
                ignore_index: m["ignore_index"].as_i64().map(|i| i as i32),
                reduction,
            };
            Box::new(move |x, t| losses::cross_entropy(x, t, options))
        }
        "binary_cross_entropy" => {
            Box::new(move |x, t| losses::binary_cross_entropy(x, t, reduction))
        }
        "nll" => Box::new(move |x, t| losses::nll_loss(x, t, reduction)),
        "mse" => Box::new(move |x, t| losses::mse_loss(x, t, reduction)),
        "l1" => Box::new(move |x, t| losses::l1_loss(x, t, reduction)),
        "smooth_l1" => {
            Box::new(move |x, t| losses::smooth_l1_loss(x, t, num(&m["beta"]), reduction))
        }
        "huber" => Box::new(move |x, t| losses::huber_loss(x, t, num(&m["delta"]), reduction)),
        "kl_div" => Box::new(move |x, t| losses::kl_div_loss(x, t, reduction)),
        other => panic!("no loss {other}"),
    }
}

#[test]
fn losses_match_pytorch() {
    check_all(&cases(&["loss"]), |case, m| {
        let f = loss(m);
        check_forward_and_grads(
            case,
            &nn::Sequential::new(),
            &|xs: &[Array]| f(&xs[0], &xs[1]),
            TOL,
        )
    });
}

/// Two bare parameters, `w` and `b`, for the optimizer cases.
struct Pair {
    w: nn::Parameter,
    b: nn::Parameter,
}

impl Module for Pair {
    fn visit(&self, scope: &mut nn::Scope) {
        scope.parameter("w", &self.w);
        scope.parameter("b", &self.b);
    }
}

fn betas(m: &Value) -> (f64, f64) {
    (num(&m["betas"][0]), num(&m["betas"][1]))
}

fn or_zero(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn run_optimizer(
    case: &str,
    rule: impl Rule + Clone + std::fmt::Debug,
    lr: f64,
) -> Result<(), String> {
    let start = group(case, "param");
    let model = Pair {
        w: nn::Parameter::new(start["w"].clone()),
        b: nn::Parameter::new(start["b"].clone()),
    };
    let mut opt = Optimizer::new(rule, lr);
    for step in 1..=3 {
        opt.step(&model, &group(case, &format!("grad{step}")))
            .map_err(err)?;
        let want = group(case, &format!("step{step}"));
        close(
            &format!("w after step {step}"),
            &model.w.value(),
            &want["w"],
            TOL,
        )?;
        close(
            &format!("b after step {step}"),
            &model.b.value(),
            &want["b"],
            TOL,
        )?;
    }
    Ok(())
}

fn check_optimizer(case: &str, m: &Value) -> Result<(), String> {
    if m["kind"] == "clip_grad_norm" {
        let (clipped, norm) =
            optimizers::clip_grad_norm(&group(case, "grad1"), num(&m["max_norm"])).map_err(err)?;
        close("total_norm", &norm, &get(case, "total_norm"), TOL)?;
        let want = group(case, "clipped");
        close("clipped w", &clipped["w"], &want["w"], TOL)?;
        return close("clipped b", &clipped["b"], &want["b"], TOL);
    }
    let lr = num(&m["lr"]);
    let wd = or_zero(&m["weight_decay"]);
    match m["name"].as_str().unwrap() {
        "sgd" => run_optimizer(
            case,
            optimizers::Sgd {
                momentum: or_zero(&m["momentum"]),
                dampening: or_zero(&m["dampening"]),
                nesterov: m["nesterov"].as_bool().unwrap_or(false),
                weight_decay: wd,
            },
            lr,
        ),
        "adam" => run_optimizer(
            case,
            optimizers::Adam {
                betas: betas(m),
                eps: num(&m["eps"]),
                weight_decay: wd,
            },
            lr,
        ),
        "adamw" => run_optimizer(
            case,
            optimizers::AdamW {
                betas: betas(m),
                eps: num(&m["eps"]),
                weight_decay: wd,
            },
            lr,
        ),
        "rmsprop" => run_optimizer(
            case,
            optimizers::RmsProp {
                alpha: num(&m["alpha"]),
                eps: num(&m["eps"]),
                momentum: or_zero(&m["momentum"]),
                centered: m["centered"].as_bool().unwrap_or(false),
                weight_decay: wd,
            },
            lr,
        ),
        "adagrad" => run_optimizer(
            case,
            optimizers::Adagrad {
                eps: num(&m["eps"]),
                weight_decay: wd,
            },
            lr,
        ),
        "lion" => run_optimizer(
            case,
            optimizers::Lion {
                betas: betas(m),
                weight_decay: wd,
            },
            lr,
        ),
        other => Err(format!("no optimizer {other}")),
    }
}

#[test]
fn optimizers_match_pytorch() {
    check_all(&cases(&["optimizer", "clip_grad_norm"]), check_optimizer);
}

/// The optimizers replay each rule's update compiled per parameter shape:
/// an Adam step is a kernel per output (the parameter and its two moments)
/// for each parameter, and a rule whose fields change is traced again.
#[test]
fn optimizer_updates_are_fused_and_follow_the_rule() {
    let model = Pair {
        w: nn::Parameter::new(Array::from_slice(&[1.0f32, -2.0, 3.0, 0.5], &[2, 2]).unwrap()),
        b: nn::Parameter::new(Array::from_slice(&[0.25f32, -1.0], &[2]).unwrap()),
    };
    let grads = |k: f32| -> Params {
        let mut g = Params::new();
        g.insert(
            "w".into(),
            Array::from_slice(&[k, -k, 0.5 * k, 2.0], &[2, 2]).unwrap(),
        );
        g.insert("b".into(), Array::from_slice(&[-k, 1.0], &[2]).unwrap());
        g
    };
    let mut opt = Optimizer::new(optimizers::AdamW::default(), 0.1);
    // Adam's formula on the host, in float64, for w[0] (gradients 1, 2, 3).
    let (b1, b2, eps, wd, lr) = (0.9f64, 0.999f64, 1e-8f64, 0.01f64, 0.1f64);
    let (mut w, mut m, mut v) = (1.0f64, 0.0f64, 0.0f64);
    for step in 1..=3 {
        let g = step as f64;
        opt.step(&model, &grads(g as f32)).unwrap();
        w *= 1.0 - lr * wd;
        m = b1 * m + (1.0 - b1) * g;
        v = b2 * v + (1.0 - b2) * g * g;
        let m_hat = m / (1.0 - b1.powi(step));
        let v_hat = v / (1.0 - b2.powi(step));
        w -= lr * m_hat / (v_hat.sqrt() + eps);
        let got = model.w.value().to_vec::<f32>().unwrap()[0] as f64;
        assert!((got - w).abs() < 1e-5, "step {step}: w[0] {got}, want {w}");
    }
    // The gradients evaluated first: what remains is the update itself.
    let g = grads(4.0);
    kiln::eval(&g.values().collect::<Vec<_>>()).unwrap();
    let before = kiln::dispatch_count();
    opt.step(&model, &g).unwrap();
    let dispatches = kiln::dispatch_count() - before;
    // One kernel per parameter writes it and its two slots where a kernel
    // may read all seven arrays of the update (parameter, gradient, slots,
    // three coefficients) besides its parameters and result; else one per
    // array written.
    let per_parameter = if kiln::device_info().unwrap().max_storage_buffers_per_kernel >= 9 {
        1
    } else {
        3
    };
    assert!(
        dispatches <= 2 * per_parameter,
        "an AdamW step of 2 parameters took {dispatches} dispatches"
    );

    // A changed field is traced again: with weight decay 0.5 the step
    // shrinks w by 1 - lr * 0.5 before the Adam step.
    let w0 = model.w.value().to_vec::<f32>().unwrap()[0] as f64;
    opt.rule.weight_decay = 0.5;
    opt.step(&model, &grads(0.0)).unwrap();
    let (m, v) = opt
        .state()
        .get("m.w")
        .zip(opt.state().get("v.w"))
        .map(|(m, v)| {
            (
                m.to_vec::<f32>().unwrap()[0] as f64,
                v.to_vec::<f32>().unwrap()[0] as f64,
            )
        })
        .unwrap();
    let step = 5;
    let want = w0 * (1.0 - lr * 0.5)
        - lr * (m / (1.0 - b1.powi(step))) / ((v / (1.0 - b2.powi(step))).sqrt() + eps);
    let got = model.w.value().to_vec::<f32>().unwrap()[0] as f64;
    assert!(
        (got - want).abs() < 1e-5,
        "after the change: w[0] {got}, want {want}"
    );
}

#[test]
fn clipping_inside_the_optimizer_matches_clip_grad_norm() {
    let pair = || Pair {
        w: nn::Parameter::new(Array::from_slice(&[1.0f32, -2.0, 3.0, 0.5], &[2, 2]).unwrap()),
        b: nn::Parameter::new(Array::from_slice(&[0.25f32, -1.0], &[2]).unwrap()),
    };
    let (outside, inside) = (pair(), pair());
    let mut opt_outside = Optimizer::new(optimizers::AdamW::default(), 0.1);
    let mut opt_inside = Optimizer::new(optimizers::AdamW::default(), 0.1).with_max_grad_norm(1.5);
    // Norms 5.6, 0.56 and 11.2: clipped, not clipped, clipped.
    for (step, k) in [2.0f32, 0.2, 4.0].into_iter().enumerate() {
        let mut g = Params::new();
        g.insert(
            "w".into(),
            Array::from_slice(&[k, -k, 0.5 * k, 2.0 * k], &[2, 2]).unwrap(),
        );
        g.insert("b".into(), Array::from_slice(&[-k, k], &[2]).unwrap());
        let want_norm = (k as f64) * (1.0f64 + 1.0 + 0.25 + 4.0 + 1.0 + 1.0).sqrt();
        let (clipped, norm) = optimizers::clip_grad_norm(&g, 1.5).unwrap();
        opt_outside.step(&outside, &clipped).unwrap();
        opt_inside.step(&inside, &g).unwrap();
        let got_norm = opt_inside.grad_norm().unwrap().item::<f32>().unwrap() as f64;
        assert!(
            (got_norm - want_norm).abs() < 1e-5 * want_norm,
            "step {step}: norm {got_norm}, want {want_norm}"
        );
        assert!((norm.item::<f32>().unwrap() as f64 - want_norm).abs() < 1e-5 * want_norm);
        for (name, a, b) in [("w", &inside.w, &outside.w), ("b", &inside.b, &outside.b)] {
            let (a, b) = (floats(&a.value()), floats(&b.value()));
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).abs() < 1e-6,
                    "step {step}, {name}: {a:?} against {b:?}"
                );
            }
        }
    }
    let mut bad = Optimizer::new(optimizers::Sgd::default(), 0.1);
    bad.max_grad_norm = Some(-1.0);
    let err = bad.step(&inside, &Params::new()).unwrap_err().to_string();
    assert!(err.contains("max_grad_norm") && err.contains("-1"), "{err}");
}

#[test]
fn the_global_norm_covers_every_element_of_many_arrays() {
    // Sizes around the kernel's chunks of 4096, an empty array, a strided
    // view, float16, and more arrays than one kernel binds.
    let mut grads = Params::new();
    let mut want = 0.0f64;
    for (k, &size) in [0usize, 1, 7, 4095, 4096, 4097, 10_000, 3]
        .iter()
        .enumerate()
    {
        let g = kiln::random::normal(&kiln::random::key(k as u64), &[size], DType::F32).unwrap();
        want += floats(&g).iter().map(|v| v * v).sum::<f64>();
        grads.insert(format!("g{k}"), g);
    }
    let wide = kiln::random::normal(&kiln::random::key(20), &[50, 90], DType::F32).unwrap();
    let view = kiln::swapaxes(&wide, 0, 1).unwrap();
    want += floats(&view).iter().map(|v| v * v).sum::<f64>();
    grads.insert("view".into(), view);
    let half = kiln::random::normal(&kiln::random::key(21), &[300], DType::F32)
        .unwrap()
        .astype(DType::F16)
        .unwrap();
    want += floats(&half).iter().map(|v| v * v).sum::<f64>();
    grads.insert("half".into(), half);
    let (clipped, norm) = optimizers::clip_grad_norm(&grads, 1.0).unwrap();
    let (got, want) = (norm.item::<f32>().unwrap() as f64, want.sqrt());
    assert!((got - want).abs() < 1e-5 * want, "norm {got}, want {want}");
    // The clipped gradients have norm 1.
    let after: f64 = clipped
        .values()
        .map(|g| floats(g).iter().map(|v| v * v).sum::<f64>())
        .sum();
    assert!(
        (after.sqrt() - 1.0).abs() < 1e-3,
        "clipped norm {}",
        after.sqrt()
    );
}

fn schedule(m: &Value) -> optimizers::Schedule {
    match m["name"].as_str().unwrap() {
        "step_decay" => optimizers::step_decay(
            num(&m["init"]),
            num(&m["decay_rate"]),
            usize_of(&m["step_size"]),
        ),
        "exponential_decay" => {
            optimizers::exponential_decay(num(&m["init"]), num(&m["decay_rate"]))
        }
        "cosine_decay" => {
            optimizers::cosine_decay(num(&m["init"]), usize_of(&m["decay_steps"]), num(&m["end"]))
        }
        "linear_schedule" => {
            optimizers::linear_schedule(num(&m["init"]), num(&m["end"]), usize_of(&m["steps"]))
        }
        "joined" => {
            let parts = m["schedules"]
                .as_array()
                .unwrap()
                .iter()
                .map(schedule)
                .collect();
            let boundaries = m["boundaries"]
                .as_array()
                .unwrap()
                .iter()
                .map(usize_of)
                .collect();
            optimizers::join_schedules(parts, boundaries).unwrap()
        }
        other => panic!("no schedule {other}"),
    }
}

#[test]
fn schedules_match_pytorch() {
    check_all(&cases(&["schedule"]), |case, m| {
        let s = schedule(m);
        let want = floats(&get(case, "out"));
        for (step, w) in want.iter().enumerate() {
            let got = s.at(step) as f32 as f64;
            if (got - w).abs() > 1e-7 + 1e-6 * w.abs() {
                return Err(format!("step {step}: {got}, expected {w}"));
            }
        }
        Ok(())
    });
}

#[test]
fn every_fixture_case_is_checked() {
    let mut kinds: Vec<&str> = LAYER_KINDS.to_vec();
    kinds.extend([
        "activation",
        "loss",
        "optimizer",
        "clip_grad_norm",
        "schedule",
    ]);
    let unchecked: Vec<_> = fixtures()
        .meta
        .iter()
        .filter(|(_, m)| !kinds.contains(&m["kind"].as_str().unwrap()))
        .map(|(k, _)| k.clone())
        .collect();
    assert!(
        unchecked.is_empty(),
        "fixture cases no test checks: {unchecked:?}"
    );
}
