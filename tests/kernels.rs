//! Every generated WGSL kernel parses and validates with naga and is
//! translated to each shading language wgpu feeds a driver: SPIR-V
//! (Vulkan), Metal Shading Language (Metal) and HLSL (DX12), with the
//! capabilities that backend can offer. No GPU is needed, so a kernel that
//! Metal's or DX12's translation would reject fails here.

use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};

/// A feature a kernel variant may need, chosen per adapter (`device.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Feature {
    /// `shader-f16`: every float16 kernel.
    F16,
    /// 16 x 16 x 16 float16 cooperative matrices in subgroups of 32 (the
    /// tensor-core matmul).
    Cooperative16,
}

impl Feature {
    /// The features a variant's source enables.
    fn required_by(source: &str) -> Vec<Feature> {
        let mut needs = Vec::new();
        if source.contains("enable f16;") {
            needs.push(Feature::F16);
        }
        if source.contains("enable wgpu_cooperative_matrix;") {
            needs.push(Feature::Cooperative16);
        }
        needs
    }

    fn wgpu(self) -> wgpu::Features {
        match self {
            Feature::F16 => wgpu::Features::SHADER_F16,
            Feature::Cooperative16 => wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Language {
    SpirV,
    Msl,
    Hlsl,
}

/// A wgpu backend: the language it translates WGSL into, the kernel
/// features its best adapters give kiln, and its compute limits.
struct Backend {
    name: &'static str,
    language: Language,
    features: &'static [Feature],
    /// The most workgroup memory any of its adapters offers, in bytes.
    max_workgroup_bytes: u64,
}

const BACKENDS: [Backend; 3] = [
    Backend {
        name: "Vulkan",
        language: Language::SpirV,
        features: &[Feature::F16, Feature::Cooperative16],
        max_workgroup_bytes: 65536,
    },
    // Metal's simdgroup matrices are 8 x 8, so the 16 x 16 tensor-core
    // kernel is never chosen there: float16 matmul takes the tiled kernel.
    Backend {
        name: "Metal",
        language: Language::Msl,
        features: &[Feature::F16],
        max_workgroup_bytes: 32768,
    },
    // wgpu's DX12 backend offers no cooperative matrices; shader-f16 needs
    // shader model 6.2 (DXC) and native 16-bit operations.
    Backend {
        name: "DX12",
        language: Language::Hlsl,
        features: &[Feature::F16],
        max_workgroup_bytes: 32768,
    },
];

impl Backend {
    fn capabilities(&self) -> Capabilities {
        let features = self
            .features
            .iter()
            .fold(wgpu::Features::empty(), |all, f| all | f.wgpu());
        wgpu_naga_bridge::features_to_naga_capabilities(features, wgpu::DownlevelFlags::all())
    }

    /// Translates a validated module as the backend's wgpu layer does, at
    /// the oldest language version that has what the module needs.
    fn translate(
        &self,
        module: &naga::Module,
        info: &ModuleInfo,
        needs: &[Feature],
    ) -> Result<(), String> {
        // The writers can fail (or panic) on valid modules.
        let written = std::panic::catch_unwind(|| match self.language {
            Language::SpirV => {
                let options = naga::back::spv::Options::default();
                naga::back::spv::write_vec(module, info, &options, None)
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
            Language::Msl => {
                let options = naga::back::msl::Options {
                    // macOS 10.13, the oldest wgpu runs on.
                    lang_version: (2, 0),
                    bounds_check_policies: read_zero_skip_write(),
                    ..Default::default()
                };
                naga::back::msl::write_string(module, info, &options, &Default::default())
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
            Language::Hlsl => {
                let options = naga::back::hlsl::Options {
                    shader_model: if needs.contains(&Feature::F16) {
                        naga::back::hlsl::ShaderModel::V6_2
                    } else {
                        // FXC, what adapters without DXC get.
                        naga::back::hlsl::ShaderModel::V5_1
                    },
                    ..Default::default()
                };
                let mut hlsl = String::new();
                naga::back::hlsl::Writer::new(&mut hlsl, &options, &Default::default())
                    .write(module, info, None)
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
        });
        written.unwrap_or_else(|_| Err("the writer panicked".into()))
    }
}

/// wgpu's policy where the driver does not promise robust buffer access.
fn read_zero_skip_write() -> naga::proc::BoundsCheckPolicies {
    let policy = naga::proc::BoundsCheckPolicy::ReadZeroSkipWrite;
    naga::proc::BoundsCheckPolicies {
        index: policy,
        buffer: policy,
        image_load: policy,
        binding_array: naga::proc::BoundsCheckPolicy::Unchecked,
    }
}

/// The bytes of workgroup memory a module declares.
fn workgroup_bytes(module: &naga::Module) -> u64 {
    let mut layouter = naga::proc::Layouter::default();
    layouter
        .update(module.to_ctx())
        .expect("a validated module has a layout");
    module
        .global_variables
        .iter()
        .filter(|(_, var)| var.space == naga::AddressSpace::WorkGroup)
        .map(|(_, var)| u64::from(layouter[var.ty].size))
        .sum()
}

#[test]
fn every_kernel_variant_validates_and_translates_for_every_backend() {
    let variants = kiln::backend::kernels::variants();
    assert!(
        variants.len() > 300,
        "expected every op and dtype, got {}",
        variants.len()
    );
    let mut failures = Vec::new();
    let mut translated = [0usize; BACKENDS.len()];
    for k in &variants {
        let module = match naga::front::wgsl::parse_str(&k.source) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{}: {}", k.name, e.emit_to_string(&k.source)));
                continue;
            }
        };
        if !module.entry_points.iter().any(|e| e.name == k.entry) {
            failures.push(format!("{}: no entry point {}", k.name, k.entry));
        }
        let needs = Feature::required_by(&k.source);
        let bytes = workgroup_bytes(&module);
        for (backend, count) in BACKENDS.iter().zip(&mut translated) {
            if !needs.iter().all(|f| backend.features.contains(f)) {
                continue;
            }
            let info = match Validator::new(ValidationFlags::all(), backend.capabilities())
                .validate(&module)
            {
                Ok(info) => info,
                Err(e) => {
                    let why = e.emit_to_string(&k.source);
                    failures.push(format!("{} on {}: {why}", k.name, backend.name));
                    continue;
                }
            };
            if bytes > backend.max_workgroup_bytes {
                failures.push(format!(
                    "{} on {}: {bytes} bytes of workgroup memory, more than its {}",
                    k.name, backend.name, backend.max_workgroup_bytes
                ));
            }
            match backend.translate(&module, &info, &needs) {
                Ok(()) => *count += 1,
                Err(e) => failures.push(format!("{} to {:?}: {e}", k.name, backend.language)),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures over {} kernels:\n{}",
        failures.len(),
        variants.len(),
        failures.join("\n")
    );
    // Every kernel reaches every backend but the tensor-core matmul, which
    // only Vulkan adapters can choose.
    let cooperative = variants
        .iter()
        .filter(|k| Feature::required_by(&k.source).contains(&Feature::Cooperative16))
        .count();
    assert!(
        cooperative > 0,
        "the tensor-core matmul is among the variants"
    );
    assert_eq!(
        translated,
        [
            variants.len(),
            variants.len() - cooperative,
            variants.len() - cooperative
        ],
        "kernels translated for Vulkan, Metal and DX12"
    );
    println!(
        "{} kernel variants: {} to SPIR-V, {} to MSL, {} to HLSL",
        variants.len(),
        translated[0],
        translated[1],
        translated[2]
    );
}
